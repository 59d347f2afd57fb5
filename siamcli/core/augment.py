"""Image augmentation on batches, in torch: with few training identities, it is the main defence
against memorising faces."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F


def standardize(images: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit variance per image (the same rule as siamcli.data.images.standardize)."""
    flat = images.flatten(1)
    mean = flat.mean(1).view(-1, 1, 1, 1)
    std = flat.std(1, unbiased=False).clamp(min=1e-3).view(-1, 1, 1, 1)
    return (images - mean) / std


def augment_images(
    images: torch.Tensor,
    generator: torch.Generator,
    max_rotation_deg: float = 10.0,
    scale_range: tuple[float, float] = (0.9, 1.1),
    max_shift: float = 0.08,
    flip: bool = True,
    max_gamma: float = 1.4,
) -> torch.Tensor:
    """Random rotation, scale, shift, horizontal flip and gamma, then standardisation; `images` in [0, 1].

    Gamma rather than brightness or contrast: standardisation removes any linear change of intensity.
    """
    n = images.shape[0]

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=generator)

    angle = uniform(-max_rotation_deg, max_rotation_deg) * math.pi / 180
    scale = uniform(*scale_range)
    mirror = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0) if flip else torch.ones(n)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = cos * mirror
    theta[:, 0, 1] = -sin
    theta[:, 1, 0] = sin * mirror
    theta[:, 1, 1] = cos
    theta[:, 0, 2] = uniform(-max_shift, max_shift) * 2
    theta[:, 1, 2] = uniform(-max_shift, max_shift) * 2
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    warped = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
    gamma = torch.exp(uniform(-math.log(max_gamma), math.log(max_gamma))).view(-1, 1, 1, 1)
    return standardize(warped.clamp(min=1e-4, max=1.0) ** gamma)


def augment_spectrograms(
    spectrograms: torch.Tensor, generator: torch.Generator, max_bands: int = 5, max_time_fraction: float = 0.1
) -> torch.Tensor:
    """SpecAugment's masks on log-mel crops (batch, mels, frames): one random band of up to
    `max_bands` mels and one random stretch of up to `max_time_fraction` of the frames, set to the
    crop's mean, so the encoder cannot lean on any one band or moment."""
    batch, mels, frames = spectrograms.shape
    out = spectrograms.clone()
    fill = spectrograms.mean(dim=(1, 2))
    for i in range(batch):
        width = int(torch.randint(0, max_bands + 1, (1,), generator=generator))
        start = int(torch.randint(0, mels - width + 1, (1,), generator=generator))
        out[i, start : start + width, :] = fill[i]
        span = int(torch.randint(0, int(frames * max_time_fraction) + 1, (1,), generator=generator))
        begin = int(torch.randint(0, frames - span + 1, (1,), generator=generator))
        out[i, :, begin : begin + span] = fill[i]
    return out

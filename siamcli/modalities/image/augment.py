"""Image augmentation on batches, in torch: with few training identities, it is the main defence
against memorising faces."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from siamcli.modalities.image.decode import DLIB_MEAN
from siamcli.modalities.image.settings import ImageAugmentation


def standardize(images: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit variance per image (as siamcli.modalities.image.decode.standardize)."""
    flat = images.flatten(1)
    mean = flat.mean(1).view(-1, 1, 1, 1)
    std = flat.std(1, unbiased=False).clamp(min=1e-3).view(-1, 1, 1, 1)
    return (images - mean) / std


def normalise(images: torch.Tensor, rule: str) -> torch.Tensor:
    """`images` (batch, channels, H, W) in [0, 1] as the encoder reads them (ImagePreprocessing.normalise)."""
    if rule == "dlib-mean":
        return (images * 255 - torch.from_numpy(DLIB_MEAN).view(1, 3, 1, 1)) / 256
    return standardize(images)


def augment_images(images: torch.Tensor, generator: torch.Generator, augmentation: ImageAugmentation) -> torch.Tensor:
    """`images` (batch, channels, H, W) in [0, 1], warped, mirrored, stroke- and gamma-changed, still in [0, 1]."""
    n = images.shape[0]

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=generator)

    rotation, shift = augmentation.max_rotation_deg, augmentation.max_shift
    angle = uniform(-rotation, rotation) * math.pi / 180
    scale = uniform(*augmentation.scale_range)
    flip = augmentation.mirror
    mirror = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0) if flip else torch.ones(n)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = cos * mirror
    theta[:, 0, 1] = -sin
    theta[:, 1, 0] = sin * mirror
    theta[:, 1, 1] = cos
    theta[:, 0, 2] = uniform(-shift, shift) * 2
    theta[:, 1, 2] = uniform(-shift, shift) * 2
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    warped = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
    if augmentation.stroke:
        change = torch.randint(-1, 2, (n, 1, 1, 1), generator=generator)  # -1 thin, 0 keep, 1 thicken
        thickened = -F.max_pool2d(-warped, 3, 1, 1)
        thinned = F.max_pool2d(warped, 3, 1, 1)
        warped = torch.where(change == 1, thickened, torch.where(change == -1, thinned, warped))
    log_gamma = math.log(augmentation.max_gamma)
    gamma = torch.exp(uniform(-log_gamma, log_gamma)).view(-1, 1, 1, 1)
    return warped.clamp(min=1e-4, max=1.0) ** gamma

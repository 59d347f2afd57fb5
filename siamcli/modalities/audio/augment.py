"""Audio augmentation in torch: random crops of any length, and SpecAugment's masks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from siamcli.modalities.audio.settings import SpectrogramAugmentation


def random_crops(
    clips: Sequence[np.ndarray], generator: torch.Generator, augmentation: SpectrogramAugmentation
) -> torch.Tensor:
    """One crop of each log-mel clip (mels, frames), all of one random length; a clip shorter than the
    crop is repeated rather than padded with silence."""
    low, high = augmentation.crop_frames
    length = int(torch.randint(low, high + 1, (1,), generator=generator))
    crops = []
    for clip in clips:
        if clip.shape[1] < length:
            clip = np.tile(clip, (1, -(-length // clip.shape[1])))
        start = int(torch.randint(0, clip.shape[1] - length + 1, (1,), generator=generator))
        crops.append(clip[:, start : start + length])
    return torch.from_numpy(np.stack(crops))


def mask_spectrograms(
    spectrograms: torch.Tensor, generator: torch.Generator, augmentation: SpectrogramAugmentation
) -> torch.Tensor:
    """SpecAugment's masks on crops (batch, mels, frames), so the encoder cannot lean on any one band
    or moment."""
    batch, mels, frames = spectrograms.shape
    out = spectrograms.clone()
    fill = spectrograms.mean(dim=(1, 2))
    for i in range(batch):
        width = int(torch.randint(0, augmentation.max_bands + 1, (1,), generator=generator))
        start = int(torch.randint(0, mels - width + 1, (1,), generator=generator))
        out[i, start : start + width, :] = fill[i]
        span = int(torch.randint(0, int(frames * augmentation.max_time_fraction) + 1, (1,), generator=generator))
        begin = int(torch.randint(0, frames - span + 1, (1,), generator=generator))
        out[i, :, begin : begin + span] = fill[i]
    return out

"""Audio: voices and other sounds as log-mel spectrograms of any length.

No fixed-length padding: training takes random crops (short clips are repeated to the crop's length),
and inference embeds the whole clip, pooled over time by the encoder.

Torch-free: features and the modality object. `augment` and `encoders` import torch, for training.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from siamcli.modalities.audio.features import AUDIO_SUFFIXES, load_features
from siamcli.modalities.audio.settings import AudioPreprocessing, SpectrogramAugmentation


class DecodedClips:
    def __init__(self, features: list[np.ndarray], labels: np.ndarray) -> None:
        self.features = features  # each (n_mels, frames)
        self.labels = labels

    def __len__(self) -> int:
        return len(self.features)

    def training_batch(self, indices: np.ndarray, generator: Any, augmentation: SpectrogramAugmentation) -> Any:
        from siamcli.modalities.audio.augment import mask_spectrograms, random_crops

        crops = random_crops([self.features[i] for i in indices], generator, augmentation)
        return mask_spectrograms(crops, generator, augmentation)

    def inference_batches(self, batch_size: int) -> Iterator[np.ndarray]:
        for clip in self.features:  # whole clips, of different lengths: one at a time
            yield clip[None]


class AudioModality:
    name = "audio"
    suffixes = AUDIO_SUFFIXES
    preprocessing_type = AudioPreprocessing
    augmentation_type = SpectrogramAugmentation
    input_axes: ClassVar[dict[int, str]] = {0: "batch", 2: "frames"}
    encoders_module = "siamcli.modalities.audio.encoders"
    shipped_model = "voices.model"

    def example_input(self, preprocessing: AudioPreprocessing) -> np.ndarray:
        return np.zeros((1, preprocessing.n_mels, 100), np.float32)

    def decode(self, paths: Sequence[Path], labels: Sequence[int], preprocessing: AudioPreprocessing) -> DecodedClips:
        return DecodedClips([load_features(p, preprocessing) for p in paths], np.asarray(labels, dtype=np.int64))


AUDIO = AudioModality()

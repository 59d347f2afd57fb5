"""Audio: voices and other sounds as (log-)mel spectrograms of any length.

No fixed-length padding: training takes random crops (short clips are repeated to the crop's length),
and inference embeds the whole clip, pooled over time by the encoder, or window by window (windows
covering the clip, their embeddings averaged), as the preprocessing says.

Torch-free: features and the modality object. `augment` and `encoders` import torch, for training.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from siamcli.modalities.audio.features import AUDIO_SUFFIXES, load_features
from siamcli.modalities.audio.settings import AudioPreprocessing, SpectrogramAugmentation
from siamcli.modalities.base import load_each

# Windows embedded at a time: onnxruntime's LSTM ran fastest on batches of 32 to 64 windows here (on
# 2 cores, 430 windows of 1.6 s a second, against 360 in batches of 256).
WINDOW_BATCH = 64


class DecodedClips:
    def __init__(
        self,
        features: list[np.ndarray],
        labels: np.ndarray,
        window: int = 0,
        step: int = 0,
        left_out: list[str] | None = None,
        kept: np.ndarray | None = None,
    ) -> None:
        self.features = features  # each (n_mels, frames)
        self.labels = labels
        self.window, self.step = window, step  # frames; 0: whole clips
        self.found: list[dict[str, Any] | None] = [None] * len(features)
        self.left_out = left_out or []
        self.kept = np.arange(len(features)) if kept is None else kept

    def __len__(self) -> int:
        return len(self.features)

    def training_identities(self, augmentation: SpectrogramAugmentation) -> DecodedClips:
        return self

    def training_batch(self, indices: np.ndarray, generator: Any, augmentation: SpectrogramAugmentation) -> Any:
        from siamcli.modalities.audio.augment import mask_spectrograms, random_crops

        crops = random_crops([self.features[i] for i in indices], generator, augmentation)
        return mask_spectrograms(crops, generator, augmentation)

    def inference_batches(self, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Whole clips one at a time (their lengths differ); or every clip's windows, batched across
        clips, and a clip shorter than a window whole, on its own."""
        batch_size = min(batch_size, WINDOW_BATCH)
        windows: list[np.ndarray] = []
        owners: list[int] = []
        for index, clip in enumerate(self.features):
            frames = clip.shape[1]
            if self.window == 0 or frames <= self.window:
                yield clip[None], np.array([index])
                continue
            starts = list(range(0, frames - self.window + 1, self.step))
            if starts[-1] + self.window < frames:
                starts.append(frames - self.window)  # the last window ends where the clip does
            for start in starts:
                windows.append(clip[:, start : start + self.window])
                owners.append(index)
                if len(windows) == batch_size:
                    yield np.stack(windows), np.array(owners)
                    windows, owners = [], []
        if windows:
            yield np.stack(windows), np.array(owners)


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

    def decode(
        self, paths: Sequence[Path], labels: Sequence[int], preprocessing: AudioPreprocessing, skip_empty: bool = False
    ) -> DecodedClips:
        features, kept, left_out = load_each(paths, lambda p: load_features(p, preprocessing), skip_empty)
        window, step = preprocessing.window_frames, preprocessing.window_step
        return DecodedClips(features, np.asarray(labels, dtype=np.int64)[kept], window, step, left_out, kept)


AUDIO = AudioModality()

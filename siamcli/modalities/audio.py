"""Audio: voices and other sounds as log-mel spectrograms of any length.

No fixed-length padding: training takes random crops (short clips are repeated to the crop's length),
and inference embeds the whole clip, pooled over time by the encoder.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from siamcli.data.audio import AUDIO_SUFFIXES, load_features

# 8 kHz, the telephone band: every dataset here and most recordings carry it, and a model trained on
# 8 kHz digits and 16 kHz audiobooks alike would otherwise learn the sample rate instead of the voice.
SAMPLE_RATE = 8000
CROP_FRAMES = (40, 200)  # training crops of 0.4 to 2 s


class AudioSamples:
    def __init__(self, features: list[np.ndarray], labels: np.ndarray) -> None:
        self.features = features  # each (n_mels, frames)
        self.labels = labels

    def __len__(self) -> int:
        return len(self.features)

    def training_batch(self, indices: np.ndarray, generator: Any) -> Any:
        import torch

        from siamcli.core.augment import augment_spectrograms

        length = int(torch.randint(CROP_FRAMES[0], CROP_FRAMES[1] + 1, (1,), generator=generator))
        crops = []
        for index in indices:
            clip = self.features[index]
            if clip.shape[1] < length:  # repeat a short clip rather than pad it with silence
                clip = np.tile(clip, (1, -(-length // clip.shape[1])))
            start = int(torch.randint(0, clip.shape[1] - length + 1, (1,), generator=generator))
            crops.append(clip[:, start : start + length])
        return augment_spectrograms(torch.from_numpy(np.stack(crops)), generator)

    def inference_batches(self, batch_size: int) -> Iterator[np.ndarray]:
        for clip in self.features:  # whole clips, of different lengths: one at a time
            yield clip[None]


class AudioModality:
    name = "audio"
    suffixes = AUDIO_SUFFIXES
    default_encoder = "audio-cnn"
    input_axes: ClassVar[dict[int, str]] = {0: "batch", 2: "frames"}

    def default_preprocessing(self) -> dict[str, Any]:
        return {
            "sample_rate": SAMPLE_RATE,
            "channels": "mono (mixed)",
            "trim_db": 40.0,
            "min_seconds": 0.1,
            "features": "log-mel",
            "n_fft": 256,
            "win_length": 200,  # 25 ms
            "hop_length": 80,  # 10 ms
            "n_mels": 40,
            "fmin": 20.0,
            "fmax": SAMPLE_RATE / 2,
        }

    def example_input(self, preprocessing: dict[str, Any]) -> np.ndarray:
        return np.zeros((1, int(preprocessing["n_mels"]), 100), np.float32)

    def load(self, paths: Sequence[Path], labels: Sequence[int], preprocessing: dict[str, Any]) -> AudioSamples:
        return AudioSamples([load_features(p, preprocessing) for p in paths], np.asarray(labels, dtype=np.int64))


AUDIO = AudioModality()

"""What an audio recipe says about its inputs: how a file becomes a log-mel spectrogram, and how
training varies it. Both are written into the model file and checked when read."""

from __future__ import annotations

from dataclasses import dataclass

from siamcli.core.settings import require


@dataclass(frozen=True)
class AudioPreprocessing:
    # 8 kHz, the telephone band: every dataset here and most recordings carry it, and a model trained on
    # 8 kHz digits and 16 kHz audiobooks alike would otherwise learn the sample rate instead of the voice.
    sample_rate: int = 8000
    channels: str = "mono (mixed)"
    trim_db: float = 40.0  # leading and trailing frames this far below the loudest are silence
    min_seconds: float = 0.1  # of sound after trimming; FSDD has digits of 0.17 s
    features: str = "log-mel"
    n_fft: int = 256
    win_length: int = 200  # 25 ms
    hop_length: int = 80  # 10 ms
    n_mels: int = 40
    fmin: float = 20.0
    fmax: float = 4000.0

    def __post_init__(self) -> None:
        require(1000 <= self.sample_rate <= 192_000, f"sample rate {self.sample_rate} out of range (1-192 kHz)")
        require(self.channels == "mono (mixed)", f"channels '{self.channels}' not supported (known: mono (mixed))")
        require(self.features == "log-mel", f"features '{self.features}' not supported (known: log-mel)")
        require(0 < self.win_length <= self.n_fft <= 65536, "need 0 < win_length <= n_fft <= 65536")
        require(self.hop_length > 0 and 1 <= self.n_mels <= 512, "hop_length and n_mels out of range")
        require(0 <= self.fmin < self.fmax <= self.sample_rate / 2, "need 0 <= fmin < fmax <= half the rate")
        require(self.min_seconds >= 0 and self.trim_db > 0, "min_seconds and trim_db out of range")


@dataclass(frozen=True)
class SpectrogramAugmentation:
    """Random crops of the clip (a new length every batch; short clips are repeated, never padded with
    silence), and SpecAugment's masks: one band of up to `max_bands` mels and one stretch of up to
    `max_time_fraction` of the frames, set to the crop's mean."""

    crop_frames: tuple[int, int] = (40, 200)  # 0.4 to 2 s at a 10 ms hop
    max_bands: int = 5
    max_time_fraction: float = 0.1

    def __post_init__(self) -> None:
        low, high = self.crop_frames
        require(1 <= low <= high, f"crop frames {self.crop_frames} must be positive and ascending")
        require(self.max_bands >= 0 and 0 <= self.max_time_fraction < 1, "mask sizes out of range")

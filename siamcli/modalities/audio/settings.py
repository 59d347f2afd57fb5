"""What an audio recipe says about its inputs: how a file becomes a (log-)mel spectrogram, which of
its frames are kept, how the encoder sees it (whole, or window by window), and how training varies it.
All of it is written into the model file and checked when read; fields added since 0.1.0 default to
what 0.1.0 did, so its files read unchanged."""

from __future__ import annotations

from dataclasses import dataclass

from siamcli.core.settings import require

FEATURES = ("log-mel", "mel")  # "mel": power, not logarithmic (what GE2E's encoder was trained on)
KEEP = ("trim-ends", "webrtc-vad")
VAD_RATES = (8000, 16000, 32000, 48000)  # the rates WebRTC's VAD reads


@dataclass(frozen=True)
class AudioPreprocessing:
    # 8 kHz, the telephone band: every dataset here and most recordings carry it, and a model trained on
    # 8 kHz digits and 16 kHz audiobooks alike would otherwise learn the sample rate instead of the voice.
    sample_rate: int = 8000
    channels: str = "mono (mixed)"
    trim_db: float = 40.0  # leading and trailing frames this far below the loudest are silence
    min_seconds: float = 0.1  # of sound after trimming (of speech found, with the VAD); FSDD has 0.17 s digits
    features: str = "log-mel"
    n_fft: int = 256
    win_length: int = 200  # 25 ms
    hop_length: int = 80  # 10 ms
    n_mels: int = 40
    fmin: float = 20.0
    fmax: float = 4000.0
    # What is kept of a clip. "trim-ends": leading and trailing silence (any sound may matter, so the
    # middle stays whole). "webrtc-vad": only the speech, found by WebRTC's voice activity detector
    # (mode 3, 30 ms frames, smoothed over 3, pauses up to 6 frames kept), anywhere in the clip.
    keep: str = "trim-ends"
    # A quieter clip is raised to this RMS level before its features (never lowered); None: as recorded.
    # The "mel" features are not logarithmic, so an encoder reading them hears loudness.
    loudness_dbfs: float | None = None
    # The encoder sees windows of this many frames, `window_step` apart, covering the clip (the last one
    # ends at its end); their embeddings are averaged. 0: the whole clip at once.
    window_frames: int = 0
    window_step: int = 0

    def __post_init__(self) -> None:
        require(1000 <= self.sample_rate <= 192_000, f"sample rate {self.sample_rate} out of range (1-192 kHz)")
        require(self.channels == "mono (mixed)", f"channels '{self.channels}' not supported (known: mono (mixed))")
        require(self.features in FEATURES, f"features '{self.features}' not supported (known: {', '.join(FEATURES)})")
        require(self.keep in KEEP, f"keep '{self.keep}' not supported (known: {', '.join(KEEP)})")
        require(self.keep != "webrtc-vad" or self.sample_rate in VAD_RATES, f"WebRTC's VAD needs a rate in {VAD_RATES}")
        require(self.loudness_dbfs is None or -80 <= self.loudness_dbfs <= 0, "loudness_dbfs out of range (-80-0)")
        require(0 <= self.window_frames <= 100_000 and 0 <= self.window_step <= self.window_frames, "bad windows")
        require((self.window_frames == 0) == (self.window_step == 0), "window_frames and window_step go together")
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

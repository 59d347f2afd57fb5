"""Audio decoding and features, in numpy: any common format and sample rate, brought to mono at the
model's rate, silence trimmed, as a log-mel spectrogram.

Training and inference run this same code. It never imports librosa (whose import alone takes
seconds), and a test checks its filterbank and spectrogram against librosa's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from siamcli.errors import NothingToEmbed, SiamcliError, first_line, printable
from siamcli.files import check_regular_file, limit, quiet_native_stderr
from siamcli.modalities.audio.settings import AudioPreprocessing

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".mp3"})
SILENT_PEAK = 1e-4  # below -80 dBFS at its loudest: nothing was recorded
FRAME_BLOCK = 8192  # frames computed at a time (82 s at a 10 ms hop): a short clip is one block
LOG_FLOOR = 1e-6
RATES = (1000, 384_000)  # sample rates a recording can sensibly have, in Hz
MAX_SECONDS = 3600.0  # an hour; read a block at a time it stays under 500 MB (benchmarks/voices.py measures it)
STREAM_ABOVE_SECONDS = 60.0  # longer files are read, resampled and framed a block at a time
BLOCK_SECONDS, CONTEXT_SECONDS = 30.0, 0.5  # each block is resampled with this much of its neighbours


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """The signal mixed to mono (float32, peak at most 1), and the file's sample rate.

    The header is checked before the samples are read: a sample rate outside 1-384 kHz, or a clip
    longer than SIAMCLI_MAX_AUDIO_SECONDS (default an hour), is refused without decoding it."""
    path = Path(path)
    with _decoding_errors(path):
        audio_info(path)
    signal, rate = _read_whole(path)
    return signal * _full_scale(_peak(signal)), rate


def _read_whole(path: Path) -> tuple[np.ndarray, int]:
    """The signal mixed to mono as the file holds it (its header already checked)."""
    with _decoding_errors(path):
        samples, rate = _soundfile().read(path, dtype="float32", always_2d=True)
    return _mono(path, samples), int(rate)


def _peak(signal: np.ndarray) -> float:
    return float(np.max(np.abs(signal))) if signal.size else 0.0


def _full_scale(peak: float) -> float:
    """The gain that brings a signal louder than full scale (floating-point files may be) down to it,
    so its log-mel stays finite; the encoder removes each band's mean over the clip, so a gain changes
    nothing it sees."""
    return 1.0 / peak if peak > 1.0 else 1.0


def _soundfile() -> Any:
    import soundfile

    return soundfile


def audio_info(path: Path) -> Any:
    """The file's header, checked: a regular file, a sample rate within RATES, at most
    SIAMCLI_MAX_AUDIO_SECONDS long."""
    check_regular_file(path, "an audio file")
    info = _soundfile().info(path)
    if not RATES[0] <= info.samplerate <= RATES[1]:
        raise SiamcliError(f"{path}: sample rate {info.samplerate} Hz (siamcli reads {RATES[0]}-{RATES[1]} Hz)")
    longest = limit("MAX_AUDIO_SECONDS", MAX_SECONDS)
    if info.frames > longest * info.samplerate:
        raise SiamcliError(
            f"{path}: {info.frames / info.samplerate:.0f} s long, more than the limit of {longest:g} s "
            "(SIAMCLI_MAX_AUDIO_SECONDS)"
        )
    return info


@contextmanager
def _decoding_errors(path: Path) -> Iterator[None]:
    """The decoder's failures as one line naming the file; what its C libraries print meanwhile (the MP3
    decoder's "Note: Illegal Audio-MPEG-Header" on a file that is not MP3) never reaches stderr."""
    try:
        with quiet_native_stderr():
            yield
    except PermissionError:
        raise SiamcliError(f"{path}: cannot read (permission denied)") from None
    except (RuntimeError, ValueError, TypeError, EOFError) as error:
        # libsndfile says "does not exist or is not a regular file" of any file it cannot open, and this
        # one was checked to be a regular file already
        opening = str(error).startswith("Error opening")
        reason = "its format is not recognised, or it is damaged" if opening else printable(first_line(error))
        raise SiamcliError(f"{path}: not a readable audio file (WAV, FLAC, OGG or MP3): {reason}") from None


def _mono(path: Path, samples: np.ndarray) -> np.ndarray:
    signal = samples.mean(axis=1)
    if not np.isfinite(signal).all():
        raise SiamcliError(f"{path}: holds samples that are not numbers (NaN or infinite): not audio")
    return signal


def resample(signal: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Band-limited resampling through the FFT: exact for the band both rates share."""
    if rate == target or signal.size == 0:
        return signal.astype(np.float32, copy=False)
    n_out = max(1, round(signal.size * target / rate))
    spectrum = np.fft.rfft(signal.astype(np.float64))
    kept = np.zeros(n_out // 2 + 1, dtype=complex)
    shared = min(spectrum.size, kept.size)
    kept[:shared] = spectrum[:shared]
    return (np.fft.irfft(kept, n_out) * (n_out / signal.size)).astype(np.float32)


def _frames(signal: np.ndarray, length: int, hop: int) -> np.ndarray:
    count = 1 + max(0, signal.size - length) // hop
    return np.lib.stride_tricks.as_strided(
        signal, shape=(count, length), strides=(signal.strides[0] * hop, signal.strides[0]), writeable=False
    )


def trim_silence(signal: np.ndarray, rate: int, top_db: float) -> np.ndarray:
    """Drop leading and trailing frames quieter than `top_db` below the loudest frame."""
    length, hop = max(1, int(0.025 * rate)), max(1, int(0.010 * rate))
    if signal.size < length:
        return signal
    frames = _frames(signal, length, hop)
    rms = np.concatenate(  # a block of frames at a time: an hour of frames at once would be gigabytes
        [
            np.sqrt(np.mean(frames[start : start + FRAME_BLOCK].astype(np.float64) ** 2, axis=1))
            for start in range(0, len(frames), FRAME_BLOCK)
        ]
    )
    loud = np.flatnonzero(20 * np.log10(np.maximum(rms, 1e-10) / max(rms.max(), 1e-10)) > -top_db)
    return signal[loud[0] * hop : loud[-1] * hop + length]


_MEL_LOGSTEP = np.log(6.4) / 27.0  # Slaney's scale: 27 mels from 1 kHz to 6.4 kHz


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default): linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / (200.0 / 3)
    return np.where(hz >= 1000.0, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / _MEL_LOGSTEP, linear)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel >= 15.0, 1000.0 * np.exp(_MEL_LOGSTEP * (mel - 15.0)), mel * 200.0 / 3)


@lru_cache(maxsize=8)  # one filterbank serves every file of a run
def mel_filterbank(rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangular filters, area-normalised (Slaney), as librosa.filters.mel."""
    fft_hz = np.fft.rfftfreq(n_fft, 1.0 / rate)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_hz[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return (weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32)


def mel_spectrogram(signal: np.ndarray, preprocessing: AudioPreprocessing) -> np.ndarray:
    """(n_mels, frames) mel spectrogram, power or its natural log as the preprocessing says:
    librosa.feature.melspectrogram's framing (centred, zero-padded, periodic Hann window)."""
    rate, n_fft = preprocessing.sample_rate, preprocessing.n_fft
    win, hop = preprocessing.win_length, preprocessing.hop_length
    padded = np.pad(signal.astype(np.float32), n_fft // 2)
    window = np.zeros(n_fft, dtype=np.float32)
    offset = (n_fft - win) // 2
    window[offset : offset + win] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)
    basis = mel_filterbank(rate, n_fft, preprocessing.n_mels, preprocessing.fmin, preprocessing.fmax)
    frames = _frames(padded, n_fft, hop)
    logarithmic = preprocessing.features == "log-mel"
    parts = []
    for start in range(0, len(frames), FRAME_BLOCK):  # spectra a block of frames at a time: memory stays flat
        spectrum = np.fft.rfft(frames[start : start + FRAME_BLOCK] * window, axis=1)
        power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)  # |X|^2 without its square root
        mel = (power @ basis.T).T
        parts.append((np.log(mel + LOG_FLOOR) if logarithmic else mel).astype(np.float32))
    return np.concatenate(parts, axis=1)


@dataclass(frozen=True)
class _Level:
    """How loud a signal is: its peak and its RMS."""

    peak: float
    rms: float

    @classmethod
    def of(cls, parts: Iterable[np.ndarray]) -> _Level:
        peak, energy, count = 0.0, 0.0, 0
        for part in parts:
            peak = max(peak, _peak(part))
            wide = part.astype(np.float64)  # a float32 sum of squares over an hour loses digits
            energy += float(wide @ wide)
            count += part.size
        return cls(peak, math.sqrt(energy / count) if count else 0.0)

    def gain(self, loudness_dbfs: float | None) -> float:
        """Down to full scale if above it; then, for a target loudness, up to it (never down)."""
        scale = _full_scale(self.peak)
        if loudness_dbfs is None or self.rms == 0:
            return scale
        return scale * max(1.0, 10 ** (loudness_dbfs / 20) / (self.rms * scale))


def resampled_blocks(path: Path, preprocessing: AudioPreprocessing) -> Iterator[np.ndarray]:
    """A file mono at the model's rate, at the preprocessing's loudness, in blocks: the whole file
    at once up to STREAM_ABOVE_SECONDS; longer files never have more than a block of their own rate in
    memory. A first pass finds the level, a second resamples BLOCK_SECONDS at a time, each block with
    CONTEXT_SECONDS of its neighbours on either side, so that its edges come out as if the whole file
    had been resampled."""
    path = Path(path)
    with _decoding_errors(path):
        info = audio_info(path)
    rate, target = int(info.samplerate), preprocessing.sample_rate
    if info.frames <= STREAM_ABOVE_SECONDS * rate:
        signal, rate = _read_whole(path)
        level = _Level.of([signal])
        _check_loud_enough(path, signal.size, level.peak)
        yield resample(signal * level.gain(preprocessing.loudness_dbfs), rate, target)
        return
    soundfile = _soundfile()
    unit = rate // math.gcd(rate, target)  # input samples that map to a whole number of output samples
    step = max(unit, round(BLOCK_SECONDS * rate / unit) * unit)
    context = max(unit, round(CONTEXT_SECONDS * rate / unit) * unit)
    with _decoding_errors(path), soundfile.SoundFile(path) as file:
        total = file.frames
        level = _Level.of(_mono(path, block) for block in file.blocks(blocksize=step, dtype="float32", always_2d=True))
        _check_loud_enough(path, total, level.peak)
        gain = level.gain(preprocessing.loudness_dbfs)
        for start in range(0, total, step):
            begin, end = max(0, start - context), min(total, start + step + context)
            file.seek(begin)
            chunk = resample(_mono(path, file.read(end - begin, dtype="float32", always_2d=True)) * gain, rate, target)
            first, last = start * target // rate, min(round(total * target / rate), (start + step) * target // rate)
            offset = begin * target // rate
            yield chunk[first - offset : last - offset]


def load_clip(path: Path, preprocessing: AudioPreprocessing) -> np.ndarray:
    """A file as the model hears it: mono, at its rate, silence trimmed from its ends, checked to
    hold enough sound."""
    target = preprocessing.sample_rate
    sound = trim_silence(np.concatenate(list(resampled_blocks(path, preprocessing))), target, preprocessing.trim_db)
    seconds, minimum = sound.size / target, preprocessing.min_seconds
    if seconds < minimum:
        raise SiamcliError(
            f"{path}: too short ({seconds:.2f} s of sound after trimming silence; at least {minimum:g} s)"
        )
    return sound


def _check_loud_enough(path: Path, samples: int, peak: float) -> None:
    if samples == 0:
        raise SiamcliError(f"{path}: empty audio file (no samples)")
    if peak < SILENT_PEAK:
        raise SiamcliError(f"{path}: silent (nothing louder than -80 dBFS)")


VAD_FRAME_SECONDS = 0.03  # WebRTC's VAD judges 10, 20 or 30 ms at a time
# Decisions are smoothed over 3 frames (2 of 3 must agree), so a lone frame of noise is not speech.
# Resemblyzer smooths over 8: on librispeech_10spk and speechocean_train the EER was the same either
# way, and 8 found no speech at all in 28 of fsdd_speakers' 3,000 spoken digits.
VAD_SMOOTHING = 3
# Fresh, the detector takes the first frames of any noise for speech (0.2 s of hiss, measured); it
# hears the clip's first 0.3 s once before deciding, and a clip of hiss is then found to hold none.
VAD_PRIMING = 10
VAD_PAUSE = 6  # a pause of up to this many frames between speech is kept, and half of it around speech


def speech(signal: np.ndarray, rate: int) -> tuple[np.ndarray, float]:
    """The speech in a signal, every stretch of it wherever it is, found by WebRTC's voice activity
    detector (its most selective mode), with the short pauses inside and around it; and the seconds
    the detector judged to be speech (the pauses left out)."""
    import webrtcvad

    length = int(VAD_FRAME_SECONDS * rate)
    count = signal.size // length
    if count == 0:
        return signal[:0], 0.0
    pcm = (np.clip(signal[: count * length], -1.0, 1.0) * 32767).round().astype("<i2").tobytes()
    frames = [pcm[2 * i * length : 2 * (i + 1) * length] for i in range(count)]
    detector = webrtcvad.Vad(3)
    for frame in frames[:VAD_PRIMING]:  # let it learn the clip's noise before it decides
        detector.is_speech(frame, rate)
    voiced = np.fromiter((detector.is_speech(frame, rate) for frame in frames), bool, count)
    # A moving average of the decisions, centred as Resemblyzer's is, then every frame within half of
    # VAD_PAUSE of a speech frame.
    padded = np.concatenate([np.zeros((VAD_SMOOTHING - 1) // 2), voiced, np.zeros(VAD_SMOOTHING // 2)])
    steady = np.round(np.convolve(padded, np.ones(VAD_SMOOTHING) / VAD_SMOOTHING, "valid")).astype(bool)
    kept = np.convolve(np.pad(steady, VAD_PAUSE // 2), np.ones(VAD_PAUSE + 1), "valid") > 0
    return signal[: count * length][np.repeat(kept, length)], steady.sum() * VAD_FRAME_SECONDS


def load_features(path: Path, preprocessing: AudioPreprocessing) -> np.ndarray:
    """A file's features, (n_mels, frames). With voice activity detection, block by block: an hour-long
    recording never has more than a block of its samples in memory, only its features."""
    if preprocessing.keep == "trim-ends":
        return mel_spectrogram(load_clip(path, preprocessing), preprocessing)
    rate, parts, seconds = preprocessing.sample_rate, [], 0.0
    for block in resampled_blocks(path, preprocessing):
        voiced, found = speech(block, rate)
        seconds += found
        if voiced.size:
            parts.append(mel_spectrogram(voiced, preprocessing))
    if seconds < preprocessing.min_seconds:
        raise NothingToEmbed(
            f"{path}: too little speech ({seconds:.2f} s found by voice activity detection; "
            f"at least {preprocessing.min_seconds:g} s)"
        )
    return np.concatenate(parts, axis=1)

"""Audio decoding and features, in numpy: any common format and sample rate, brought to mono at the
model's rate, silence trimmed, as a log-mel spectrogram.

Training and inference run this same code. It never imports librosa (whose import alone takes
seconds), and a test checks its filterbank and spectrogram against librosa's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from siamcli.errors import SiamcliError, first_line, printable
from siamcli.files import check_regular_file, limit
from siamcli.modalities.audio.settings import AudioPreprocessing

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".mp3"})
SILENT_PEAK = 1e-4  # below -80 dBFS at its loudest: nothing was recorded
FRAME_BLOCK = 8192  # frames computed at a time (82 s at a 10 ms hop): a short clip is one block
LOG_FLOOR = 1e-6
RATES = (1000, 384_000)  # sample rates a recording can sensibly have, in Hz
MAX_SECONDS = 3600.0  # an hour; read a block at a time it stays under 1 GB (benchmarks/audio.py measures it)
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
    try:
        yield
    except PermissionError:
        raise SiamcliError(f"{path}: cannot read (permission denied)") from None
    except (RuntimeError, ValueError, TypeError, EOFError) as error:
        reason = printable(first_line(error))
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


def log_mel(signal: np.ndarray, preprocessing: AudioPreprocessing) -> np.ndarray:
    """(n_mels, frames) log power mel spectrogram: librosa.feature.melspectrogram's framing (centred,
    zero-padded, periodic Hann window), then the natural log."""
    rate, n_fft = preprocessing.sample_rate, preprocessing.n_fft
    win, hop = preprocessing.win_length, preprocessing.hop_length
    padded = np.pad(signal.astype(np.float32), n_fft // 2)
    window = np.zeros(n_fft, dtype=np.float32)
    offset = (n_fft - win) // 2
    window[offset : offset + win] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)
    basis = mel_filterbank(rate, n_fft, preprocessing.n_mels, preprocessing.fmin, preprocessing.fmax)
    frames = _frames(padded, n_fft, hop)
    parts = []
    for start in range(0, len(frames), FRAME_BLOCK):  # spectra a block of frames at a time: memory stays flat
        power = np.abs(np.fft.rfft(frames[start : start + FRAME_BLOCK] * window, axis=1)) ** 2
        parts.append(np.log(basis @ power.T.astype(np.float32) + LOG_FLOOR).astype(np.float32))
    return np.concatenate(parts, axis=1)


def load_clip(path: Path, preprocessing: AudioPreprocessing) -> np.ndarray:
    """A file as the model hears it: mono, at its rate, silence trimmed, checked to hold enough sound.
    Files longer than STREAM_ABOVE_SECONDS are read and resampled a block at a time."""
    path = Path(path)
    with _decoding_errors(path):
        info = audio_info(path)
    target = preprocessing.sample_rate
    if info.frames > STREAM_ABOVE_SECONDS * info.samplerate:
        resampled = _resampled_in_blocks(path, info.samplerate, target)
    else:
        signal, rate = _read_whole(path)
        peak = _peak(signal)
        _check_loud_enough(path, signal.size, peak)
        resampled = resample(signal * _full_scale(peak), rate, target)
    sound = trim_silence(resampled, target, preprocessing.trim_db)
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


def _resampled_in_blocks(path: Path, rate: int, target: int) -> np.ndarray:
    """A long file, mono at `target`, never holding more than a block of it at its own rate: a first
    pass finds its peak, a second resamples BLOCK_SECONDS at a time, each block with CONTEXT_SECONDS of
    its neighbours on either side so that its edges come out as if the whole file had been resampled."""
    soundfile = _soundfile()
    unit = rate // math.gcd(rate, target)  # input samples that map to a whole number of output samples
    step = max(unit, round(BLOCK_SECONDS * rate / unit) * unit)
    context = max(unit, round(CONTEXT_SECONDS * rate / unit) * unit)
    with _decoding_errors(path), soundfile.SoundFile(path) as file:
        total, peak = file.frames, 0.0
        for block in file.blocks(blocksize=step, dtype="float32", always_2d=True):
            peak = max(peak, _peak(_mono(path, block)))
        _check_loud_enough(path, total, peak)
        scale = _full_scale(peak)
        out = np.empty(max(1, round(total * target / rate)), np.float32)
        for start in range(0, total, step):
            begin, end = max(0, start - context), min(total, start + step + context)
            file.seek(begin)
            chunk = resample(_mono(path, file.read(end - begin, dtype="float32", always_2d=True)) * scale, rate, target)
            first, last = start * target // rate, min(out.size, (start + step) * target // rate)
            offset = begin * target // rate
            out[first:last] = chunk[first - offset : last - offset]
    return out


def load_features(path: Path, preprocessing: AudioPreprocessing) -> np.ndarray:
    return log_mel(load_clip(path, preprocessing), preprocessing)

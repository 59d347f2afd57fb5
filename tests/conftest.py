"""Shared fixtures: small datasets made on the fly, and the real data when it is present."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SHARED_DATA = Path(os.environ.get("SIAMCLI_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))


def shared_dataset(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"real data not found at {path} (set SIAMCLI_DATA to the folder holding {name}/)")
    return path


def synthetic_face(identity: int, sample: int, size: tuple[int, int] = (56, 46)) -> np.ndarray:
    """A grey 'face' whose layout of blobs depends on the identity; each sample is shifted and noisy."""
    rng = np.random.default_rng(identity)
    height, width = size
    centres = rng.uniform([0.2 * height, 0.2 * width], [0.8 * height, 0.8 * width], size=(5, 2))
    radii = rng.uniform(3, 8, size=5)
    sample_rng = np.random.default_rng(1000 * identity + sample)
    shift = sample_rng.normal(0, 1.0, size=2)
    yy, xx = np.mgrid[0:height, 0:width]
    image = np.zeros(size)
    for (cy, cx), r in zip(centres + shift, radii):
        image += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r**2))
    image += sample_rng.normal(0, 0.05, size=size)
    image = (image - image.min()) / (image.max() - image.min())
    return (image * 255).astype(np.uint8)


def write_face_dataset(root: Path, identities: int, samples: int, suffix: str = ".pgm") -> Path:
    for identity in range(identities):
        folder = root / f"p{identity + 1}"
        folder.mkdir(parents=True, exist_ok=True)
        for sample in range(samples):
            Image.fromarray(synthetic_face(identity, sample)).save(folder / f"{sample + 1}{suffix}")
    return root


@pytest.fixture
def face_dataset(tmp_path: Path) -> Path:
    return write_face_dataset(tmp_path / "faces", identities=8, samples=5)


def synthetic_voice(identity: int, sample: int, rate: int = 16000) -> np.ndarray:
    """A 'voice': a harmonic tone whose pitch and spectral envelope depend on the identity, with a
    random length (0.6-1.4 s), slight pitch jitter and noise per sample, between bits of silence."""
    rng = np.random.default_rng(identity)
    pitch = rng.uniform(90, 260)
    formants = rng.uniform(300, 3500, size=3)
    sample_rng = np.random.default_rng(1000 * identity + sample)
    seconds = sample_rng.uniform(0.6, 1.4)
    t = np.arange(int(seconds * rate)) / rate
    f0 = pitch * (1 + 0.02 * sample_rng.normal()) * (1 + 0.03 * np.sin(2 * np.pi * 3 * t))
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = np.zeros_like(t)
    for harmonic in range(1, 30):
        frequency = harmonic * pitch
        if frequency > rate / 2 - 200:
            break
        gain = sum(np.exp(-((frequency - f) ** 2) / (2 * 250.0**2)) for f in formants) + 0.05
        voice += gain * np.sin(harmonic * phase)
    voice = 0.3 * voice / np.max(np.abs(voice)) + sample_rng.normal(0, 0.005, size=t.size)
    silence = np.zeros(int(0.2 * rate))
    return np.concatenate([silence, voice, silence]).astype(np.float32)


def write_voice_dataset(root: Path, identities: int, samples: int, suffix: str = ".wav", rate: int = 16000) -> Path:
    import soundfile

    for identity in range(identities):
        folder = root / f"v{identity + 1}"
        folder.mkdir(parents=True, exist_ok=True)
        for sample in range(samples):
            soundfile.write(folder / f"{sample + 1}{suffix}", synthetic_voice(identity, sample, rate), rate)
    return root

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


def _soft_ellipse(
    yy: np.ndarray, xx: np.ndarray, centre: tuple[float, float], radii: tuple[float, float], sharp: float
) -> np.ndarray:
    """1 inside the ellipse, 0 outside, with a soft edge."""
    inside = ((yy - centre[0]) / radii[0]) ** 2 + ((xx - centre[1]) / radii[1]) ** 2
    return 0.5 * (1 - np.tanh(sharp * (inside - 1) / 2))


def drawn_face(identity: int, sample: int, size: int = 160) -> Image.Image:
    """A colour 'portrait' the shipped face detector finds: a shaded face with hair, eyes in their
    sockets, brows, nostrils and lips, whose skin, hair, proportions and background depend on the
    identity; each sample is shifted a little and noisy. (The face encoder finds these faces all
    alike: tests of decisions between drawn people set their own threshold, or use a small model.)"""
    rng = np.random.default_rng(identity)
    skin, hair, ground = rng.uniform([170, 120, 95], [230, 180, 150]), rng.uniform(15, 90, 3), rng.uniform(90, 170, 3)
    width, height = rng.uniform(0.26, 0.32), rng.uniform(0.36, 0.42)
    eye_gap, eye_rise, mouth = rng.uniform(0.095, 0.12), rng.uniform(0.04, 0.08), rng.uniform(0.07, 0.1)
    sample_rng = np.random.default_rng(1000 * identity + sample)
    cy, cx = 0.52 + sample_rng.normal(0, 0.01), 0.5 + sample_rng.normal(0, 0.01)
    yy, xx = np.mgrid[0:size, 0:size] / size

    def paint(image: np.ndarray, mask: np.ndarray, colour: np.ndarray | float) -> np.ndarray:
        return image * (1 - mask[..., None]) + colour * mask[..., None]

    image = paint(
        np.ones((size, size, 3)) * ground, _soft_ellipse(yy, xx, (cy - 0.06, cx), (height, width * 1.08), 8), hair
    )
    shaded = skin * np.clip(1 - 0.35 * ((xx - cx) / width) ** 2, 0.5, 1)[..., None]
    image = paint(image, _soft_ellipse(yy, xx, (cy, cx), (height, width), 8), shaded)
    for side in (-1, 1):
        eye = (cy - eye_rise, cx + side * eye_gap)
        image *= 1 - 0.25 * _soft_ellipse(yy, xx, eye, (0.045, 0.07), 4)[..., None]
        image = paint(image, _soft_ellipse(yy, xx, eye, (0.018, 0.04), 10), 235.0)
        image = paint(image, _soft_ellipse(yy, xx, eye, (0.017, 0.017), 10), 35.0)
        image = paint(image, _soft_ellipse(yy, xx, (eye[0] - 0.045, eye[1]), (0.01, 0.05), 6), hair)
        image *= 1 - 0.5 * _soft_ellipse(yy, xx, (cy + 0.1, cx + side * 0.022), (0.009, 0.012), 6)[..., None]
    image *= 1 - 0.15 * _soft_ellipse(yy, xx, (cy + 0.04, cx + 0.012), (0.06, 0.012), 4)[..., None]
    image = paint(image, _soft_ellipse(yy, xx, (cy + 0.19, cx), (0.022, mouth), 8), np.array([160.0, 70.0, 70.0]))
    image += sample_rng.normal(0, 3, image.shape)
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))


def write_drawn_dataset(root: Path, identities: int, samples: int, suffix: str = ".png") -> Path:
    for identity in range(identities):
        folder = root / f"p{identity + 1}"
        folder.mkdir(parents=True, exist_ok=True)
        for sample in range(samples):
            drawn_face(identity, sample).save(folder / f"{sample + 1}{suffix}")
    return root


def drawn_glyph(script: int, character: int, drawing: int, size: tuple[int, int] = (60, 48)) -> Image.Image:
    """A handwritten-looking character: the strokes (polylines through 3 to 5 points) of character
    `character` of script `script`, each drawing with its points moved a little and its own pen width,
    dark on white, `size` (height, width). Characters of one script share a stroke style (their points
    stay near the same grid), so telling them apart within a script is the harder task."""
    shape = np.random.default_rng([script, character])
    style = np.random.default_rng(script)
    grid = style.uniform(0.15, 0.85, (6, 2))
    strokes = [grid[shape.integers(0, 6, shape.integers(3, 6))] + shape.normal(0, 0.05, (1, 2)) for _ in range(2)]
    hand = np.random.default_rng([script, character, drawing, 7])
    height, width = size
    image = Image.new("L", (width, height), 255)
    from PIL import ImageDraw

    draw = ImageDraw.Draw(image)
    pen = int(hand.integers(2, 5))
    for stroke in strokes:
        points = (stroke + hand.normal(0, 0.02, stroke.shape)).clip(0.05, 0.95) * [width, height]
        draw.line([tuple(point) for point in points], fill=int(hand.integers(0, 60)), width=pen, joint="curve")
    return image


def write_glyph_dataset(root: Path, scripts: range, characters: int, drawings: int) -> Path:
    """Omniglot's layout: one folder per character, named <script>_character<NN>."""
    for script in scripts:
        for character in range(characters):
            folder = root / f"script{script}_character{character + 1:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            for drawing in range(drawings):
                drawn_glyph(script, character, drawing).save(folder / f"{drawing + 1}.png")
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

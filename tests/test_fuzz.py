"""Property-based fuzzing of everything that reads a file: image and audio decoding, model files,
galleries and pairs CSV files. The property: a valid result, or a SiamcliError of one line that names
the file; never another exception, and never a changed file.

CI runs a bounded number of examples (SIAMCLI_FUZZ_EXAMPLES, default 100 per reader, seconds
in all); tests/fuzz_long.sh runs thousands."""

from __future__ import annotations

import io
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from siamcli.data.pairs import read_pairs
from siamcli.errors import SiamcliError
from siamcli.gallery import Gallery, ModelRef, NewSample
from siamcli.modalities.audio import AudioPreprocessing
from siamcli.modalities.audio.features import load_clip
from siamcli.modalities.image.decode import load_image
from siamcli.model import load_model
from tests.conftest import synthetic_face, synthetic_voice

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FUZZ = settings(
    max_examples=int(os.environ.get("SIAMCLI_FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


def image_bytes(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(synthetic_face(1, 2)).save(buffer, format=kind)
    return buffer.getvalue()


def audio_bytes(kind: str) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, synthetic_voice(1, 2, 8000), 8000, format=kind)
    return buffer.getvalue()


def gallery_bytes(folder: Path) -> bytes:
    path = folder / "seed.db"
    if not path.exists():
        ref = ModelRef("f" * 64, "/models/faces.model", "image", 4, "euclidean", 0.5)
        with Gallery.open(path, create=True) as gallery:
            for name in ("alice", "bob"):
                vector = np.ones(4, np.float32) / 2
                gallery.enroll(ref, name, [NewSample(f"/data/{name}", name.ljust(64, "0"), vector)])
    return path.read_bytes()


@st.composite
def mutated(draw: st.DrawFn, original: bytes, region: int | None = None) -> bytes:
    """`original` with a few bytes changed, inserted or cut, or cut short: the shapes of damage files
    really suffer (and of files made to hurt)."""
    data = bytearray(original)
    for _ in range(draw(st.integers(0, 8))):
        position = draw(st.integers(0, max(0, min(len(data), region or len(data)) - 1)))
        action = draw(st.sampled_from(["set", "insert", "delete"]))
        if action == "set" and data:
            data[position] = draw(st.integers(0, 255))
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif data:
            del data[position : position + draw(st.integers(1, 16))]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


def holds(reader: Callable[[Path], object], path: Path, content: bytes) -> None:
    path.write_bytes(content)
    try:
        reader(path)
    except SiamcliError as error:
        message = str(error)
        assert "\n" not in message and str(path) in message, message
    assert path.read_bytes() == content  # reading never changes the file


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "PPM", "GIF", "BMP", "TIFF"])
@FUZZ
@given(data=st.data())
def test_image_decoding(tmp_path: Path, kind: str, data: st.DataObject) -> None:
    content = data.draw(st.one_of(mutated(image_bytes(kind)), st.binary(max_size=512)))
    holds(lambda p: load_image(p, (32, 28)), tmp_path / f"probe.{kind.lower()}", content)


@pytest.mark.parametrize("kind", ["WAV", "FLAC", "OGG"])
@FUZZ
@given(data=st.data())
def test_audio_decoding(tmp_path: Path, kind: str, data: st.DataObject) -> None:
    content = data.draw(st.one_of(mutated(audio_bytes(kind), region=256), st.binary(max_size=512)))
    holds(lambda p: load_clip(p, AudioPreprocessing()), tmp_path / f"probe.{kind.lower()}", content)


@FUZZ
@given(data=st.data())
def test_model_loading(tmp_path: Path, data: st.DataObject) -> None:
    original = (FIXTURES / "faces-0.1.0.model").read_bytes()
    content = data.draw(st.one_of(mutated(original, region=4096), st.binary(max_size=256)))
    holds(load_model, tmp_path / "probe.model", content)


@FUZZ
@given(data=st.data())
def test_gallery_opening(tmp_path: Path, data: st.DataObject) -> None:
    content = data.draw(st.one_of(mutated(gallery_bytes(tmp_path)), st.binary(max_size=512)))

    def read_everything(path: Path) -> None:
        with Gallery.open(path) as gallery:
            for collection in gallery.collections():
                gallery.enrolled(collection)
            gallery.identities()
            list(gallery.samples())

    try:
        holds(read_everything, tmp_path / "probe.db", content)
    finally:
        sqlite3.connect(":memory:").close()


@FUZZ
@given(text=st.text(max_size=300))
def test_pairs_files(tmp_path: Path, text: str) -> None:
    holds(read_pairs, tmp_path / "pairs.csv", ("path_a,path_b,label\n" + text).encode("utf-8", "surrogatepass"))

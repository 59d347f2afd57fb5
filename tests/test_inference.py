"""The inference graph (inference.py): what onnxruntime embeds is what the torch network does, and
embedding never imports torch."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import siamcli.modalities.image.encoders  # noqa: F401  (registers the image networks)
from siamcli.core.encoders import build_encoder
from siamcli.core.registry import Spec
from siamcli.core.settings import to_json
from siamcli.modalities.image.decode import load_image, standardize
from siamcli.model import load_model
from siamcli.modelfile import load_torch_encoder, write_model
from tests.conftest import write_face_dataset
from tests.helpers import TINY_CARD, TINY_SPEC, tiny_model


@pytest.mark.parametrize("members", [1, 3])
def test_the_inference_graph_embeds_as_torch_does(tmp_path: Path, members: int) -> None:
    torch.manual_seed(0)
    spec = TINY_SPEC
    if members > 1:
        spec = Spec("ensemble", {"member": to_json(TINY_SPEC), "members": members})
    encoder = build_encoder(spec).eval()
    path = tmp_path / "tiny.model"
    write_model(path, encoder, replace(TINY_CARD, encoder=spec, embedding_dim=16 * members))
    loaded = load_model(path)
    assert loaded.card.encoder == spec and loaded.threshold == 0.8
    faces = sorted(write_face_dataset(tmp_path / "faces", 3, 3).rglob("*.pgm"))
    embeddings = loaded.embed(faces)  # onnxruntime, batch of 9: the graph was traced with a batch of 1
    images = np.stack([load_image(face, (32, 28)) for face in faces])
    with torch.no_grad():
        direct = encoder(torch.from_numpy(standardize(images)[:, None])).numpy()
        reloaded = load_torch_encoder(path)(torch.from_numpy(standardize(images)[:, None])).numpy()
    assert embeddings.shape == (9, 16 * members)
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1, atol=1e-5)
    assert np.abs(embeddings - direct).max() < 1e-5
    assert np.array_equal(reloaded, direct)


def test_embedding_does_not_import_torch(tmp_path: Path) -> None:
    path = tiny_model(tmp_path / "tiny.model", seed=0)
    face = next(write_face_dataset(tmp_path / "faces", 1, 1).rglob("*.pgm"))
    script = (
        "import sys\nfrom siamcli.model import load_model\n"
        f"print(load_model({str(path)!r}).embed([{str(face)!r}]).shape)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(1, 16)"

"""Helpers shared by the test modules: running the command line, and tiny model files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from siamcli.core.encoders import build_encoder
from siamcli.core.registry import Spec
from siamcli.modalities.image import ImagePreprocessing
from siamcli.modelcard import ModelCard, ThresholdRecord
from siamcli.modelfile import write_model

ENV = {**os.environ, "COLUMNS": "200"}
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TINY_SPEC = Spec("small-vgg", {"embedding_dim": 16, "width": 4, "blocks": 2})
TINY_CARD = ModelCard(
    modality="image",
    encoder=TINY_SPEC,
    embedding_dim=16,
    preprocessing=ImagePreprocessing(size=(32, 28)),
    distance="euclidean",
    threshold=ThresholdRecord(0.8, "eer"),
)


def siamcli(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "siamcli", *args], capture_output=True, text=True, input=stdin, env=ENV, cwd=cwd
    )


def json_lines(result: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def assert_clean_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """One line on stderr naming the problem, exit 2, nothing on stdout, no traceback."""
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def tiny_model(path: Path, seed: int) -> Path:
    """An untrained small image model, written as `siamcli train` would write it."""
    import siamcli.modalities.image.encoders  # noqa: F401  (registers the image networks)

    torch.manual_seed(seed)
    write_model(path, build_encoder(TINY_SPEC), TINY_CARD)
    return path


def run_example(name: str, *args: Path) -> list[str]:
    # The scripts call `siamcli`: the one installed beside this Python comes first on PATH.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", str(EXAMPLES / name), *map(str, args)], capture_output=True, text=True, timeout=600, env=env
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout.splitlines()

"""The model file (modelfile.py): round trip, refusal of foreign or newer files, no code executed on load."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save

import siamcli.modalities.image.encoders  # noqa: F401  (registers the image networks)
from siamcli.errors import SiamcliError
from siamcli.model import load_model
from siamcli.modelfile import FORMAT, read_card
from tests.helpers import TINY_CARD


def test_a_pickle_is_refused_without_being_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "executed"

    class Payload:
        def __reduce__(self):  # would create the marker file if unpickled
            return (Path.touch, (marker,))

    path = tmp_path / "evil.model"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(SiamcliError, match="not a siamcli model"):
        load_model(path)
    assert not marker.exists()


def write_stray_weights(path: Path, format_version: int) -> Path:
    """A model file whose metadata is valid but whose only tensor matches no encoder."""
    meta = {**TINY_CARD.to_json(), "format": FORMAT, "format_version": format_version}
    path.write_bytes(save({"w": torch.zeros(1)}, metadata={"siamcli": json.dumps(meta)}))
    return path


def test_a_newer_format_asks_for_an_upgrade(tmp_path: Path) -> None:
    path = write_stray_weights(tmp_path / "future.model", format_version=99)
    with pytest.raises(SiamcliError, match="newer than this siamcli"):
        read_card(path)


def test_damaged_weights_are_reported(tmp_path: Path) -> None:
    path = write_stray_weights(tmp_path / "damaged.model", format_version=1)
    with pytest.raises(SiamcliError, match=r"damaged siamcli model \(no inference graph\)"):
        load_model(path)
    truncated = tmp_path / "short.model"
    truncated.write_bytes(b"\x05\x00")
    with pytest.raises(SiamcliError, match="not a siamcli model"):
        load_model(truncated)

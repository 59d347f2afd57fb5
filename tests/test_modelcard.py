"""The typed model card: files written by siamcli 0.1.0 still load and embed as they did, the card
survives a round trip, and metadata of the wrong shape is refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save

from siamcli.errors import SiamcliError
from siamcli.model import load_model
from siamcli.modelcard import ModelCard, ThresholdRecord
from siamcli.modelfile import FORMAT, load_torch_encoder, read_card
from tests.helpers import TINY_CARD

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXPECTED = json.loads((FIXTURES / "expected-0.1.0.json").read_text())


def test_a_face_model_from_0_1_0_loads_and_embeds_as_it_did() -> None:
    model = load_model(FIXTURES / "faces-0.1.0.model")
    card = model.card
    assert card.modality == "image" and card.kind == "faces" and card.embedding_dim == 16
    assert card.encoder.name == "ensemble" and card.encoder.params["member"]["name"] == "face-cnn"
    assert card.preprocessing.size == (32, 28) and card.preprocessing.colour == "grey"
    assert card.threshold.value == 0.7 and card.threshold.calibrated_on.source == "validation identities"
    assert card.training.train_identities == ["p1"] and card.training.loss is None  # 0.1.0 did not record it
    assert model.fingerprint == EXPECTED["faces-0.1.0.model"]["fingerprint"]  # its galleries still match
    images = np.random.default_rng(0).normal(size=(3, 1, 32, 28)).astype(np.float32)
    expected = np.array(EXPECTED["faces-0.1.0.model"]["embedding"])
    assert np.abs(model.encoder(images) - expected).max() < 1e-6
    with torch.no_grad():  # the old encoder name still builds the torch network
        direct = load_torch_encoder(FIXTURES / "faces-0.1.0.model")(torch.from_numpy(images)).numpy()
    assert np.abs(direct - expected).max() < 1e-5


def test_a_calibrated_voice_model_from_0_1_0_loads_into_the_same_threshold_shape() -> None:
    model = load_model(FIXTURES / "voices-0.1.0.model")
    threshold = model.card.threshold
    assert model.card.encoder.name == "audio-cnn" and model.card.preprocessing.sample_rate == 8000
    assert (threshold.value, threshold.operating_point, threshold.n_impostor) == (0.33, "eer", 1000)
    origin = threshold.calibrated_on
    assert origin.source == "calibration data" and origin.data == "/data/voices-calibration"
    assert (origin.identities, origin.samples, origin.calibrated) == (5, 50, "2026-11-28T00:00:00+00:00")
    rng = np.random.default_rng(0)
    rng.normal(size=(3, 1, 32, 28))  # the face model's inputs came first from the same generator
    clip = rng.normal(size=(1, 40, 57)).astype(np.float32)
    expected = np.array(EXPECTED["voices-0.1.0.model"]["embedding"])
    assert np.abs(model.encoder(clip) - expected).max() < 1e-6
    assert model.fingerprint == EXPECTED["voices-0.1.0.model"]["fingerprint"]


def test_the_card_survives_a_round_trip_through_json() -> None:
    card = read_card(FIXTURES / "faces-0.1.0.model")
    assert ModelCard.from_json(json.loads(json.dumps(card.to_json()))) == card
    assert ModelCard.from_json(TINY_CARD.to_json()) == TINY_CARD


def test_gallery_thresholds_in_the_0_1_0_shape_read_as_records() -> None:
    stored = {
        "value": 0.4,
        "operating_point": "far=0.001",
        "far": 0.001,
        "frr": 0.2,
        "n_genuine": 10,
        "n_impostor": 1000,
        "calibrated_on": {"data": "/people", "identities": 15, "samples": 150},
        "calibrated": "2026-11-28T10:00:00+00:00",
    }
    record = ThresholdRecord.from_json(stored)
    assert record.calibrated_on.source == "calibration data" and record.calibrated_on.identities == 15
    assert record.calibrated_on.calibrated == "2026-11-28T10:00:00+00:00"
    assert ThresholdRecord.from_json(record.to_json()) == record


def write_metadata(path: Path, meta: dict) -> Path:
    meta = {"format": FORMAT, "format_version": 1, **meta}
    path.write_bytes(save({"w": torch.zeros(1)}, metadata={"siamcli": json.dumps(meta)}))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"preprocessing": {"size": "big"}}, "preprocessing.size"),
        ({"preprocessing": {"size": [32, 28], "colour": "ultraviolet"}}, "colour 'ultraviolet' not supported"),
        ({"embedding_dim": "sixteen"}, "metadata.embedding_dim: expected an integer"),
        ({"embedding_dim": 10**9}, "embedding_dim 1000000000 out of range"),
        ({"distance": "manhattan"}, "unknown distance 'manhattan'"),
        ({"modality": "smell"}, "unknown modality 'smell'"),
        (
            {"threshold": {"value": -1.0, "operating_point": "eer"}},
            "threshold -1 is outside the distances' range (0 to 2)",
        ),
        ({"threshold": {"value": "low", "operating_point": "eer"}}, "threshold.value: expected a number"),
        ({"owner": "mallory"}, "unknown field 'owner'"),
    ],
)
def test_metadata_of_the_wrong_shape_is_refused_by_name(tmp_path: Path, change: dict, message: str) -> None:
    path = write_metadata(tmp_path / "odd.model", {**TINY_CARD.to_json(), **change})
    with pytest.raises(SiamcliError, match="odd.model: damaged siamcli model") as raised:
        read_card(path)
    assert message in str(raised.value)

"""The real run: ORL faces, train on s1-s30 with default flags, evaluate on s31-s40 (never seen)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import shared_dataset
from tests.test_cli import siamcli


def link(source: Path, names: list[str], target: Path) -> Path:
    target.mkdir()
    for name in names:
        (target / name).symlink_to((source / name).resolve(), target_is_directory=True)
    return target


@pytest.fixture(scope="module")
def orl_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    orl = shared_dataset("orl_faces")
    root = tmp_path_factory.mktemp("orl")
    train = link(orl, [f"s{i}" for i in range(1, 31)], root / "train")
    test = link(orl, [f"s{i}" for i in range(31, 41)], root / "test")
    model = root / "faces.model"
    trained = siamcli("train", "faces", str(train), "-o", str(model))
    assert trained.returncode == 0, trained.stderr
    evaluated = siamcli("eval", str(model), str(test), "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    return json.loads(evaluated.stdout)


def test_orl_unseen_people_beat_raw_pixels(orl_report: dict) -> None:
    # Measured 2026-11-28: EER 14.2%, 10-way 78.8%, AUC 0.924. Raw pixels on the same people give
    # EER 18.0% and 10-way 76.1% (benchmarks/orl_faces.py). The targets (EER 7%, 10-way 91%)
    # are not met yet: these bounds guard what is reached, with a little room for numeric noise.
    assert orl_report["identities"] == 10 and orl_report["samples"] == 100
    assert orl_report["eer"] <= 0.16
    assert orl_report["one_shot"]["10-way"] >= 0.75
    assert orl_report["roc_auc"] >= 0.90
    assert set(orl_report["one_shot"]) == {"5-way", "10-way"}  # 10 people: no 20-way


def test_orl_stored_threshold_transfers_to_unseen_people(orl_report: dict) -> None:
    # Calibrated at the EER of held-out training identities (measured: FAR 5.2%, FRR 24.2% on new people).
    at = orl_report["at_threshold"]
    assert at["far"] <= 0.15 and at["frr"] <= 0.30
    assert at["balanced_accuracy"] >= 0.80

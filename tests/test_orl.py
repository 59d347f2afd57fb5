"""The real run: ORL faces, train on s1-s30 with default flags, evaluate on s31-s40 (never seen),
through examples/faces_unseen_people.sh, as a user would run it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import shared_dataset
from tests.helpers import run_example


@pytest.fixture(scope="module")
def orl_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    orl = shared_dataset("orl_faces")
    work = tmp_path_factory.mktemp("orl")
    lines = run_example("faces_unseen_people.sh", orl, work)
    folder_report, pairs_report, *embeddings = (json.loads(line) for line in lines)
    assert (pairs_report["genuine_pairs"], pairs_report["impostor_pairs"]) == (300, 300)
    assert [Path(e["path"]).name for e in embeddings] == ["1.pgm", "10.pgm", "2.pgm"]
    assert all(len(e["embedding"]) == 512 for e in embeddings)
    return folder_report


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

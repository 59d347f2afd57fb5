"""Evaluation results (evaluation.py): one typed Metrics that the table, the report and the JSON all read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from siamcli.evaluation import IdentityRates, Metrics, metrics, score_all_pairs
from siamcli.files import json_text
from siamcli.report import ModelMetrics, summary_rows
from tests.helpers import tiny_model

KEYS = [
    "identities", "samples", "genuine_pairs", "impostor_pairs", "impostor_sampling", "roc_auc", "eer",
    "eer_interval", "eer_threshold", "min_dcf", "tar_at_far", "threshold", "at_threshold", "one_shot",
    "one_shot_interval", "intervals", "episodes", "seed", "per_identity", "open_set",
]  # fmt: skip
GROUP_KEYS = ["groups", "one_shot_within_groups", "one_shot_within_groups_interval"]


def scored_clusters(model: object) -> object:
    """Six identities of five samples, two groups of three by name, around well-separated centres."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(6), 5)
    centres = rng.normal(size=(6, 16))
    points = (centres[labels] + 0.3 * rng.normal(size=(30, 16))).astype(np.float32)
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    names = [f"{script}_{i}" for script in ("latin", "greek") for i in range(3)]
    return score_all_pairs(points, labels, names, model.distance)


def test_metrics_are_typed_and_their_json_keeps_its_shape(tmp_path: Path) -> None:
    import siamcli

    model = siamcli.load_model(tiny_model(tmp_path / "m.model", seed=0))
    scored = scored_clusters(model)
    plain = metrics(model, scored, episodes=200)
    assert isinstance(plain, Metrics) and plain.identities == 6 and plain.samples == 30
    assert plain.genuine_pairs == 6 * 10 and plain.impostor_pairs == 30 * 29 // 2 - 60
    assert plain.eer < 0.05 and plain.one_shot["5-way"] > 0.9 and set(plain.one_shot) == {"5-way"}
    assert plain.at_threshold.far + plain.at_threshold.frr >= 0 and plain.threshold.value == model.threshold
    assert all(isinstance(row, IdentityRates) for row in plain.per_identity)
    document = json.loads(json_text(ModelMetrics("m.model", plain, scored).to_json("data")))
    assert list(document) == ["model", "data", *KEYS]  # no group keys where groups were not measured
    assert document["eer"] == float(f"{plain.eer:.6g}") and document["at_threshold"]["far"] == plain.at_threshold.far
    assert document["threshold"]["operating_point"] == "eer" and len(document["eer_interval"]) == 2
    assert document["per_identity"][0].keys() == {"identity", "samples", "genuine_pairs", "frr", "far"}

    grouped = metrics(model, scored, episodes=200, group_separator="_")
    assert grouped.groups is not None and (grouped.groups.separator, grouped.groups.count) == ("_", 2)
    assert list(grouped.to_json())[-3:] == GROUP_KEYS
    rows = dict(summary_rows(grouped))  # the table and report.html read the same object
    assert rows["identities / samples"] == "6 / 30" and "one-shot 5-way within groups" not in rows  # 3 a group

"""Calibration on the user's own identities: the threshold at a target false-accept rate, or at the
equal-error point, with a record of where it came from."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from siamcli.core.thresholds import calibrate
from siamcli.data.dataset import Dataset
from siamcli.errors import SiamcliError
from siamcli.evaluation import scores_on_dataset
from siamcli.model import Model


def threshold_for(model: Model, dataset: Dataset, far: float | None) -> dict[str, Any]:
    """The threshold, calibrated on all pairs of the dataset's identities (far None: the EER point)."""
    scores = scores_on_dataset(model, dataset)
    n_impostor = int((~scores.same).sum())
    if far is not None and n_impostor * far < 1:
        raise SiamcliError(
            f"{dataset.root}: {n_impostor} impostor pairs cannot measure a false-accept rate of {far:g} "
            f"(it needs {round(1 / far)}): add identities, or use --far {max(far, 1 / n_impostor * 10):.2g} or --eer"
        )
    threshold = calibrate(scores.distances, scores.same, far)
    return {
        **threshold.to_dict(),
        "calibrated_on": {
            "data": str(Path(dataset.root).resolve()),
            "identities": len(dataset.identities),
            "samples": dataset.n_samples,
        },
        "calibrated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def seen_in_training(model: Model, dataset: Dataset) -> list[str]:
    """Identities of the dataset that the model trained on: the model separates them better than
    strangers, so a threshold set on them does not hold on people it never saw."""
    training = model.meta.get("training", {})
    if "data" not in training:
        return []
    trained = {(Path(training["data"]) / name).resolve() for name in training.get("train_identities", [])}
    return [i.name for i in dataset.identities if (Path(dataset.root) / i.name).resolve() in trained]

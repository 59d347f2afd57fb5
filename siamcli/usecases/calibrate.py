"""Calibrate a threshold on the user's own identities: `siamcli calibrate MODEL DATA [--far F | --eer]`,
into the model file or into a gallery's collection for the model."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from siamcli.core.thresholds import calibrate as calibrate_trials
from siamcli.data.dataset import Dataset, scan_dataset
from siamcli.errors import SiamcliError
from siamcli.evaluation import on_dataset
from siamcli.gallery import Gallery
from siamcli.model import Model, load_model
from siamcli.modelcard import CalibratedOn, ThresholdRecord, now
from siamcli.modelfile import update_threshold
from siamcli.models import REF_PREFIX

DEFAULT_FAR = 0.001


@dataclass
class Calibration:
    threshold: ThresholdRecord
    stored_in: str  # the model file, or the gallery's collection
    seen_in_training: list[str]  # identities of the data the model trained on: their rates flatter


def calibrate(
    model: Path | str,
    data_dir: Path,
    *,
    far: float | None = DEFAULT_FAR,
    gallery: Path | None = None,
) -> Calibration:
    """The threshold at false-accept rate `far` (None: the equal-error point) on every pair of
    DATA_DIR's identities, stored in the model file or, with `gallery`, in that gallery's collection
    for the model (the shipped models can only be calibrated that way)."""
    if far is not None and not 0 < far < 1:
        raise SiamcliError(
            f"--far {far:g}: a false-accept rate to calibrate at is above 0 (no count of pairs can show a rate of 0) "
            "and below 1"
        )
    shipped = str(model).startswith(REF_PREFIX)
    if shipped and gallery is None:
        raise SiamcliError(
            f"{model}: the shipped model is part of siamcli; calibrate it into your gallery with --gallery"
        )
    loaded = load_model(model)
    dataset = scan_dataset(Path(data_dir), loaded.modality.suffixes)
    seen = seen_in_training(loaded, dataset)
    if gallery is None:
        threshold = threshold_for(loaded, dataset, far)
        update_threshold(Path(model), threshold)
        return Calibration(threshold, str(model), seen)
    with Gallery.open(gallery) as opened:
        collection = opened.collection(loaded.fingerprint)
        if collection is None:
            raise SiamcliError(f"{opened.path}: nobody is enrolled with {model} yet; enroll first, then calibrate")
        threshold = threshold_for(loaded, dataset, far)
        opened.set_threshold(collection, threshold)
    return Calibration(threshold, f"{opened.path} (collection of {collection.model})", seen)


def threshold_for(model: Model, dataset: Dataset, far: float | None) -> ThresholdRecord:
    """The threshold, calibrated on all pairs of the dataset's identities (far None: the EER point)."""
    trials = on_dataset(model, dataset).trials
    n_impostor = trials.impostor.size
    if far is not None and n_impostor * far < 1:
        raise SiamcliError(
            f"{dataset.root}: {n_impostor:,} impostor pairs cannot measure a false-accept rate of {far:g} "
            f"(it needs {_count_text(1 / far)}): add identities, or use --far {max(far, 1 / n_impostor * 10):.2g} "
            "or --eer"
        )
    # The data set's name, not where it lay on this disk: a model file travels to other machines.
    origin = CalibratedOn(
        "calibration data", Path(dataset.root).resolve().name, len(dataset.identities), dataset.n_samples, now()
    )
    return ThresholdRecord.of(calibrate_trials(trials, far), origin)


def _count_text(count: float) -> str:
    """A count for a person: 1,000 as such, 1e+300 not as 301 digits."""
    return f"{math.ceil(count):,}" if count < 1e9 else f"{count:.3g}"


def seen_in_training(model: Model, dataset: Dataset) -> list[str]:
    """Identities of the dataset that the model trained on: the model separates them better than
    strangers, so a threshold set on them does not hold on people it never saw."""
    training = model.card.training
    if training is None:
        return []
    trained = {(Path(training.data) / name).resolve() for name in training.train_identities}
    return [i.name for i in dataset.identities if (Path(dataset.root) / i.name).resolve() in trained]

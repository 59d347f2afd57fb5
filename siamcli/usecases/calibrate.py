"""Calibrate the operating points on the user's own identities, into the model file or into a
gallery's collection for the model: `siamcli calibrate MODEL DATA [--far F | --eer] [--fpir P]`.

Two thresholds come out of one set of identities: 1:1 (`verify --claim`) at a false-accept rate on
every pair, and 1:N (`verify` without a claim) at a false-positive identification rate for each
gallery size the identities can hold (siamcli/core/openset.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from siamcli.core.openset import DEFAULT_FPIR, MIN_STRANGERS, calibrate_claims, calibrate_open_set
from siamcli.core.thresholds import calibrate as calibrate_trials
from siamcli.data.dataset import Dataset, scan_dataset
from siamcli.errors import SiamcliError
from siamcli.evaluation import ScoredPairs, on_dataset
from siamcli.gallery import Gallery
from siamcli.model import Model, load_model
from siamcli.modelcard import CalibratedOn, OpenSetRecord, ThresholdRecord, now
from siamcli.modelfile import update_operating_points
from siamcli.models import REF_PREFIX

DEFAULT_FAR = 0.001


@dataclass
class Calibration:
    threshold: ThresholdRecord
    open_set: OpenSetRecord | None  # None: too few identities to draw a gallery and strangers from
    stored_in: str  # the model file, or the gallery's collection
    seen_in_training: list[str]  # identities of the data the model trained on: their rates flatter


def calibrate(
    model: Path | str,
    data_dir: Path,
    *,
    far: float | None = DEFAULT_FAR,
    fpir: float | None = None,
    gallery: Path | None = None,
) -> Calibration:
    """The 1:1 threshold at false-accept rate `far` (None: the equal-error point) on every pair of
    DATA_DIR's identities, and the 1:N thresholds at false-positive identification rate `fpir`
    (None: DEFAULT_FPIR where the identities are enough to draw galleries and strangers from).
    Both are stored in the model file or, with `gallery`, in that gallery's collection for the
    model (the shipped models can only be calibrated that way)."""
    if far is not None and not 0 < far < 1:
        raise SiamcliError(
            f"--far {far:g}: a false-accept rate to calibrate at is above 0 (no count of pairs can show a rate of 0) "
            "and below 1"
        )
    if fpir is not None and not 0 < fpir < 1:
        raise SiamcliError(f"--fpir {fpir:g}: a share of strangers to name, above 0 and below 1")
    shipped = str(model).startswith(REF_PREFIX)
    if shipped and gallery is None:
        raise SiamcliError(
            f"{model}: the shipped model is part of siamcli; calibrate it into your gallery with --gallery"
        )
    loaded = load_model(model)
    dataset = scan_dataset(Path(data_dir), loaded.modality.suffixes)
    seen = seen_in_training(loaded, dataset)
    if gallery is None:
        threshold, open_set = operating_points(loaded, dataset, far, fpir)
        update_operating_points(Path(model), threshold, open_set)
        return Calibration(threshold, open_set, str(model), seen)
    with Gallery.open(gallery) as opened:
        collection = opened.collection(loaded.fingerprint)
        if collection is None:
            raise SiamcliError(f"{opened.path}: nobody is enrolled with {model} yet; enroll first, then calibrate")
        threshold, open_set = operating_points(loaded, dataset, far, fpir)
        opened.set_operating_points(collection, threshold, open_set)
    return Calibration(threshold, open_set, f"{opened.path} (collection of {collection.model})", seen)


def operating_points(
    model: Model, dataset: Dataset, far: float | None, fpir: float | None
) -> tuple[ThresholdRecord, OpenSetRecord | None]:
    """Both thresholds from the dataset's embeddings, embedded once."""
    scored = on_dataset(model, dataset)
    origin = _origin(dataset)
    threshold = threshold_for(scored, dataset, far, origin)
    open_set = open_set_for(scored, DEFAULT_FPIR if fpir is None else fpir, origin)
    if open_set is None and fpir is not None:
        raise SiamcliError(
            f"{dataset.root}: {len(dataset.identities)} identities are too few to calibrate 1:N "
            f"(a gallery of one and {MIN_STRANGERS} strangers need {MIN_STRANGERS + 1}; more give a truer threshold)"
        )
    return threshold, open_set


def _origin(dataset: Dataset) -> CalibratedOn:
    # The data set's name, not where it lay on this disk: a model file travels to other machines.
    return CalibratedOn(
        "calibration data", Path(dataset.root).resolve().name, len(dataset.identities), dataset.n_samples, now()
    )


def open_set_for(scored: ScoredPairs, fpir: float, origin: CalibratedOn) -> OpenSetRecord | None:
    """The 1:N thresholds for every gallery size the identities can hold; None when they are too few."""
    try:
        points = calibrate_open_set(scored.embeddings, scored.labels, scored.distance, fpir)
    except ValueError:
        return None
    return OpenSetRecord(fpir, points, origin)


def threshold_for(scored: ScoredPairs, dataset: Dataset, far: float | None, origin: CalibratedOn) -> ThresholdRecord:
    """The 1:1 threshold, calibrated on all pairs of the dataset's identities (far None: the EER point)."""
    trials = scored.trials
    n_impostor = trials.impostor.size
    if far is not None and n_impostor * far < 1:
        raise SiamcliError(
            f"{dataset.root}: {n_impostor:,} impostor pairs cannot measure a false-accept rate of {far:g} "
            f"(it needs {_count_text(1 / far)}): add identities, or use --far {max(far, 1 / n_impostor * 10):.2g} "
            "or --eer"
        )
    threshold = calibrate_trials(trials, far)
    # claims against the centroid of several samples, at the FAR reached on single pairs (so --eer too)
    by_samples = calibrate_claims(scored.embeddings, scored.labels, scored.distance, max(threshold.far, 1e-9))
    return ThresholdRecord.of(threshold, origin, by_samples)


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

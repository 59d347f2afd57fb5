"""The model card: everything a model file says about its encoder, typed, in one place.

Every reader of a model's metadata goes through `ModelCard.from_json`, which checks each field;
every writer goes through `to_json`. The threshold record has one shape, shared with the threshold
a gallery's collection keeps. Files written by siamcli 0.1.0 (a string or a bare dict for
`calibrated_on`, `face-cnn` and `audio-cnn` encoders) read into the same card.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from siamcli.core.distances import check_threshold, get_distance
from siamcli.core.openset import (
    ClaimPoint,
    OperatingPoint,
    check_score_threshold,
    claim_threshold,
    extrapolated,
    threshold_for_size,
)
from siamcli.core.registry import Spec
from siamcli.core.settings import from_json, require, to_json
from siamcli.core.thresholds import Threshold
from siamcli.modalities import get_modality


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class CalibratedOn:
    """Where a threshold's trials came from."""

    source: str  # "validation identities", "training identities (none held out)", "calibration data"
    data: str | None = None  # the data set's name (its folder's), never a path on the machine that calibrated
    identities: int | None = None
    samples: int | None = None
    calibrated: str | None = None  # when, ISO 8601


@dataclass(frozen=True)
class ThresholdRecord:
    """A calibrated decision threshold: accept at this distance or less."""

    value: float
    operating_point: str  # "eer" or "far=<target>"
    far: float | None = None  # achieved on the calibration trials
    frr: float | None = None
    n_genuine: int | None = None
    n_impostor: int | None = None
    calibrated_on: CalibratedOn = field(default_factory=lambda: CalibratedOn("unknown"))
    # at the same FAR, for a claimed identity enrolled with several samples (their centroid); none: not calibrated
    by_samples: list[ClaimPoint] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_threshold(self.value)
        counts = [point.samples_each for point in self.by_samples]
        if counts != sorted(set(counts)) or any(count < 2 for count in counts):
            raise ValueError("threshold.by_samples: distinct numbers of samples from 2 up, in order")
        for point in self.by_samples:
            check_threshold(point.threshold)

    def for_samples(self, samples_each: int) -> float:
        """The threshold for a claimed identity of this many enrolled samples."""
        return claim_threshold(self.value, self.by_samples, samples_each)

    @classmethod
    def of(
        cls, threshold: Threshold, calibrated_on: CalibratedOn, by_samples: list[ClaimPoint] | None = None
    ) -> ThresholdRecord:
        return cls(
            threshold.value,
            threshold.operating_point,
            threshold.far,
            threshold.frr,
            threshold.n_genuine,
            threshold.n_impostor,
            calibrated_on,
            by_samples or [],
        )

    def to_json(self) -> dict[str, Any]:
        return to_json(self)

    @classmethod
    def from_json(cls, data: Any, where: str = "threshold") -> ThresholdRecord:
        return from_json(cls, upgrade_threshold(data), where)


def upgrade_threshold(data: Any) -> Any:
    """A threshold as siamcli 0.1.0 wrote it, in today's shape: its train wrote `calibrated_on` as a
    string, its calibrate as the data's description with the time beside it."""
    if not isinstance(data, dict) or "calibrated_on" not in data:
        return data
    origin = data["calibrated_on"]
    if isinstance(origin, str):
        return {**data, "calibrated_on": {"source": origin}}
    if isinstance(origin, dict) and "source" not in origin:
        rest = {key: value for key, value in data.items() if key != "calibrated"}
        return {**rest, "calibrated_on": {"source": "calibration data", **origin, "calibrated": data.get("calibrated")}}
    return data


@dataclass(frozen=True)
class OpenSetRecord:
    """The 1:N operating point: the threshold on the open-set score (siamcli/core/openset.py) for
    each calibrated gallery size and number of samples enrolled an identity, all at one
    false-positive identification rate."""

    fpir: float
    points: list[OperatingPoint]  # by samples enrolled an identity, then gallery size
    calibrated_on: CalibratedOn = field(default_factory=lambda: CalibratedOn("unknown"))

    def __post_init__(self) -> None:
        if not 0 < self.fpir < 1:
            raise ValueError(f"open_set.fpir {self.fpir:g} is outside (0, 1)")
        if not self.points:
            raise ValueError("open_set: no calibrated gallery sizes")
        keys = [(point.samples_each, point.identities) for point in self.points]
        if keys != sorted(set(keys)) or min(min(key) for key in keys) < 1:
            raise ValueError("open_set: points must be distinct, in order, and of galleries of at least 1 sample")
        for point in self.points:
            check_score_threshold(point.threshold)

    def threshold(self, identities: int, samples_each: float = 1.0) -> float:
        return threshold_for_size(self.points, identities, samples_each)

    def extrapolated(self, identities: int) -> bool:
        return extrapolated(self.points, identities)

    @property
    def operating_point(self) -> str:
        return f"fpir={self.fpir:g}"

    def to_json(self) -> dict[str, Any]:
        return to_json(self)

    @classmethod
    def from_json(cls, data: Any, where: str = "open_set") -> OpenSetRecord:
        return from_json(cls, data, where)


@dataclass(frozen=True)
class MemberRecord:
    """One ensemble member's run."""

    best_epoch: int
    epochs_run: int
    val_eer: float | None
    loss_per_epoch: list[float]
    val_eer_per_epoch: list[float | None]
    start_val_eer: float | None = None  # of the pretrained weights it started from (best_epoch 0: kept)


@dataclass(frozen=True)
class TrainingRecord:
    """What the model was trained on, and how."""

    data: str  # the folder, resolved
    identities: int
    samples: int
    train_identities: list[str]
    val_identities: list[str]
    config: dict[str, Any]  # the scalar settings (epochs, lr, seed, ...)
    val_eer: float | None
    seconds: float
    members: list[MemberRecord]
    wall_seconds: float
    loss: Spec | None = None  # None in 0.1.0's files: the contrastive loss over hard impostors
    miner: Spec | None = None
    augmentation: Any = None  # the modality's augmentation dataclass; None in 0.1.0's files


@dataclass(frozen=True)
class PretrainedRecord:
    """Where weights converted from another package came from, and under which licence."""

    package: str  # name and version, as its registry lists it
    file: str  # inside the package
    sha256: str  # of that file
    licence: str  # SPDX identifier; the notice is in siamcli/models/NOTICES.md
    converter: str  # the script in this repository that converted it


@dataclass(frozen=True)
class ModelCard:
    modality: str
    encoder: Spec  # the whole network (an ensemble names its member inside)
    embedding_dim: int
    preprocessing: Any  # the modality's preprocessing dataclass
    distance: str
    threshold: ThresholdRecord
    kind: str | None = None  # the recipe, for a trained model
    training: TrainingRecord | None = None
    created: str | None = None
    siamcli_version: str | None = None
    pretrained: PretrainedRecord | None = None  # weights converted from another package (or started from)
    open_set: OpenSetRecord | None = None  # the 1:N operating point; None: not calibrated for 1:N

    def to_json(self) -> dict[str, Any]:
        return to_json(self)

    @classmethod
    def from_json(cls, meta: dict[str, Any]) -> ModelCard:
        """The card of a model file's metadata; ValueError naming the first field that is wrong."""
        if not isinstance(meta, dict):
            raise ValueError("metadata: expected an object")
        modality_name = meta.get("modality")
        if not isinstance(modality_name, str):
            raise ValueError("metadata: missing field 'modality'")
        modality = get_modality(modality_name)
        card = from_json(cls, {**meta, "threshold": upgrade_threshold(meta.get("threshold"))}, "metadata")
        get_distance(card.distance)
        require(1 <= card.embedding_dim <= 65536, f"embedding_dim {card.embedding_dim} out of range (1-65536)")
        preprocessing = from_json(modality.preprocessing_type, card.preprocessing, "preprocessing")
        training = card.training
        if training is not None and training.augmentation is not None:
            augmentation = from_json(modality.augmentation_type, training.augmentation, "training.augmentation")
            training = replace(training, augmentation=augmentation)
        return replace(card, preprocessing=preprocessing, training=training)

"""Thresholds on distances: find the operating point on calibration pairs, then decide.

A pair is accepted (same identity) when its distance is at most the threshold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Roc:
    """False-accept and false-reject rates at every distinct threshold, thresholds ascending."""

    thresholds: np.ndarray
    far: np.ndarray
    frr: np.ndarray


@dataclass(frozen=True)
class Threshold:
    value: float
    operating_point: str  # "eer" or "far=<target>"
    far: float  # achieved on the calibration pairs
    frr: float
    n_genuine: int
    n_impostor: int

    def to_dict(self) -> dict:
        return asdict(self)


def split_scores(distances: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    distances = np.asarray(distances, dtype=np.float64)
    same = np.asarray(same, dtype=bool)
    genuine, impostor = np.sort(distances[same]), np.sort(distances[~same])
    if genuine.size == 0 or impostor.size == 0:
        raise ValueError("calibration needs at least one genuine and one impostor pair")
    return genuine, impostor


def error_rates(genuine: np.ndarray, impostor: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """FAR and FRR at each threshold; `genuine` and `impostor` must be sorted."""
    far = np.searchsorted(impostor, thresholds, side="right") / impostor.size
    frr = 1.0 - np.searchsorted(genuine, thresholds, side="right") / genuine.size
    return far, frr


def roc(distances: np.ndarray, same: np.ndarray, weights: np.ndarray | None = None) -> Roc:
    """FAR and FRR at every distinct distance. `weights` count each pair that many times (a bootstrap
    replicate draws identities with replacement, so a pair of identities drawn twice counts twice)."""
    split_scores(distances, same)  # both kinds present
    distances = np.asarray(distances, dtype=np.float64)
    same = np.asarray(same, dtype=bool)
    weights = np.ones(distances.size) if weights is None else np.asarray(weights, dtype=np.float64)
    order = np.argsort(distances, kind="stable")
    values, first = np.unique(distances[order], return_index=True)
    last = np.append(first[1:], distances.size) - 1  # each threshold accepts every pair up to its last tie
    genuine_accepted = np.cumsum(np.where(same[order], weights[order], 0.0))[last]
    impostor_accepted = np.cumsum(np.where(same[order], 0.0, weights[order]))[last]
    genuine_total, impostor_total = genuine_accepted[-1], impostor_accepted[-1]
    if genuine_total <= 0 or impostor_total <= 0:
        raise ValueError("the weights leave no genuine or no impostor pair")
    # Start below every score (reject all: FAR 0, FRR 1) so the curve spans both ends.
    thresholds = np.concatenate([[np.nextafter(values[0], -np.inf)], values])
    far = np.concatenate([[0.0], impostor_accepted / impostor_total])
    frr = np.concatenate([[1.0], 1.0 - genuine_accepted / genuine_total])
    return Roc(thresholds, far, frr)


def equal_error_rate(distances: np.ndarray, same: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float]:
    """(EER, threshold) where FAR and FRR cross, interpolated linearly between neighbouring thresholds."""
    curve = roc(distances, same, weights)
    gap = curve.far - curve.frr  # rises from -1 to +1
    i = int(np.argmax(gap >= 0))
    if i == 0 or gap[i] == 0:
        return float((curve.far[i] + curve.frr[i]) / 2), float(curve.thresholds[i])
    w = -gap[i - 1] / (gap[i] - gap[i - 1])
    eer = (1 - w) * curve.far[i - 1] + w * curve.far[i]
    eer_other = (1 - w) * curve.frr[i - 1] + w * curve.frr[i]
    threshold = (1 - w) * curve.thresholds[i - 1] + w * curve.thresholds[i]
    return float((eer + eer_other) / 2), float(threshold)


def threshold_at_far(distances: np.ndarray, same: np.ndarray, target_far: float) -> float:
    """The largest threshold whose FAR on these pairs is at most `target_far`.

    It is placed halfway to the next impostor distance, not on a sample, so that a tiny shift of
    unseen scores does not flip the first rejected impostor into an accept.
    """
    if not 0 <= target_far < 1:
        raise ValueError("the target false-accept rate must be in [0, 1)")
    _, impostor = split_scores(distances, same)
    allowed = int(np.floor(target_far * impostor.size + 1e-9))
    first_rejected = impostor[allowed]
    below = impostor[impostor < first_rejected]
    if below.size == 0:
        return float(np.nextafter(first_rejected, -np.inf))
    return float((below[-1] + first_rejected) / 2)


def calibrate(distances: np.ndarray, same: np.ndarray, target_far: float | None = None) -> Threshold:
    """The threshold at the equal-error point, or at a target false-accept rate."""
    if target_far is None:
        _, value = equal_error_rate(distances, same)
        operating_point = "eer"
    else:
        value = threshold_at_far(distances, same, target_far)
        operating_point = f"far={target_far:g}"
    genuine, impostor = split_scores(distances, same)
    far, frr = error_rates(genuine, impostor, np.array([value]))
    return Threshold(value, operating_point, float(far[0]), float(frr[0]), int(genuine.size), int(impostor.size))


def decide(distances: np.ndarray, threshold: float) -> np.ndarray:
    """True where a pair is accepted as the same identity."""
    return np.asarray(distances) <= threshold

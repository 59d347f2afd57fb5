"""Thresholds on distances: find the operating point on calibration trials, then decide.

The accept rule is written once, here: a pair is accepted (same identity) when its distance is at
most the threshold. Verify, eval and calibrate all use `accepts` or `error_rates`, which counts it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from siamcli.core.trials import Trials


def accepts(distances: np.ndarray | float, threshold: float) -> np.ndarray:
    """True where a pair is accepted as the same identity."""
    return np.asarray(distances) <= threshold


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
    far: float  # achieved on the calibration trials
    frr: float
    n_genuine: int
    n_impostor: int


def error_rates(trials: Trials, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """FAR and FRR at each threshold: the share of impostor and genuine trials that `accepts`
    would accept, counted on the sorted distances (side="right": a distance equal to the threshold
    is accepted)."""
    far = np.searchsorted(trials.impostor, thresholds, side="right") / trials.impostor.size
    frr = 1.0 - np.searchsorted(trials.genuine, thresholds, side="right") / trials.genuine.size
    return far, frr


def roc(trials: Trials, weights: np.ndarray | None = None) -> Roc:
    """FAR and FRR at every distinct distance. `weights` count each trial that many times (a bootstrap
    replicate draws identities with replacement, so a pair of identities drawn twice counts twice)."""
    if weights is None:
        weights = np.ones(len(trials))
    ends = trials.tie_ends
    genuine_accepted = np.cumsum(np.where(trials.same, weights, 0.0))[ends]
    impostor_accepted = np.cumsum(np.where(trials.same, 0.0, weights))[ends]
    genuine_total, impostor_total = genuine_accepted[-1], impostor_accepted[-1]
    if genuine_total <= 0 or impostor_total <= 0:
        raise ValueError("the weights leave no genuine or no impostor pair")
    values = trials.distances[ends]
    # Start below every distance (reject all: FAR 0, FRR 1) so the curve spans both ends.
    thresholds = np.concatenate([[np.nextafter(values[0], -np.inf)], values])
    far = np.concatenate([[0.0], impostor_accepted / impostor_total])
    frr = np.concatenate([[1.0], 1.0 - genuine_accepted / genuine_total])
    return Roc(thresholds, far, frr)


def equal_error_rate(trials: Trials, weights: np.ndarray | None = None) -> tuple[float, float]:
    """(EER, threshold) where FAR and FRR cross, interpolated linearly between neighbouring thresholds."""
    curve = roc(trials, weights)
    gap = curve.far - curve.frr  # rises from -1 to +1
    i = int(np.argmax(gap >= 0))
    if i == 0 or gap[i] == 0:
        return float((curve.far[i] + curve.frr[i]) / 2), float(curve.thresholds[i])
    w = -gap[i - 1] / (gap[i] - gap[i - 1])
    eer = (1 - w) * curve.far[i - 1] + w * curve.far[i]
    eer_other = (1 - w) * curve.frr[i - 1] + w * curve.frr[i]
    threshold = (1 - w) * curve.thresholds[i - 1] + w * curve.thresholds[i]
    return float((eer + eer_other) / 2), float(threshold)


def check_far(target_far: float) -> float:
    """A target false-accept rate must leave something to accept and something to reject."""
    if not 0 <= target_far < 1:
        raise ValueError("the target false-accept rate must be in [0, 1)")
    return target_far


def threshold_at_far(trials: Trials, target_far: float) -> float:
    """The largest threshold whose FAR on these trials is at most `target_far`."""
    return threshold_at_rate(trials.impostor, check_far(target_far))


def threshold_at_rate(negatives: np.ndarray, rate: float) -> float:
    """The largest threshold that accepts at most a share `rate` of `negatives` (sorted ascending:
    impostor distances, strangers' scores).

    It is placed halfway to the next negative, not on a sample, so that a tiny shift of unseen
    values does not flip the first rejected one into an accept.
    """
    allowed = int(np.floor(rate * negatives.size + 1e-9))
    if allowed >= negatives.size:  # a rate of 1: every one accepted
        return float(negatives[-1])
    first_rejected = negatives[allowed]
    below = np.searchsorted(negatives, first_rejected, side="left")
    if below == 0:
        return float(np.nextafter(first_rejected, -np.inf))
    return float((negatives[below - 1] + first_rejected) / 2)


def calibrate(trials: Trials, target_far: float | None = None) -> Threshold:
    """The threshold at the equal-error point, or at a target false-accept rate."""
    if target_far is None:
        _, value = equal_error_rate(trials)
        operating_point = "eer"
    else:
        value = threshold_at_far(trials, target_far)
        operating_point = f"far={target_far:g}"
    far, frr = error_rates(trials, np.array([value]))
    return Threshold(value, operating_point, float(far[0]), float(frr[0]), trials.genuine.size, trials.impostor.size)

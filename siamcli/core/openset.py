"""Open-set identification (1:N): is the probe anyone enrolled, and if so who?

A stranger compared with N enrolled identities has N chances to fall under a threshold, so a
threshold that names a share `fpir` of strangers (the false-positive identification rate) must fall
as the gallery grows. Two things keep "unknown" meaning unknown:

- The score: the distance to the nearest identity, less its lead over the runner-up (2*d1 - d2).
  A stranger tends to sit about as far from several people; a genuine probe is distinctly nearer
  to one. Measured on identities no choice was tuned on, at FPIR 1% it recognises more of the
  enrolled than the nearest distance alone (benchmarks/open_set.py).
- The threshold follows the number of identities enrolled: calibrated by drawing galleries of each
  size from calibration identities (the others as strangers), interpolated in log N between sizes.

Identities are scored by the centroid of their samples: with several samples per identity it is
one comparison an identity (as in calibration), and it measured better than the nearest sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from siamcli.core.distances import LARGEST, Distance
from siamcli.core.search import Enrolled, identity_distances
from siamcli.core.thresholds import threshold_at_rate

DEFAULT_FPIR = 0.01  # 1:N: name at most 1 stranger in 100
SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)  # gallery sizes calibrated, up to what the data allows
STRANGER_SHARE = 0.2  # of the calibration identities kept out of every drawn gallery, as strangers
MIN_STRANGERS = 2
STRANGER_SCORES = 50  # pooled per 1/fpir: a 1% quantile from 5,000 strangers' scores
# Strangers' scores within one drawn gallery share its enrolled people: the quantile settles only
# once about this many have been enrolled over the rounds.
ENROLLED_DRAWS = 1000
MAX_ROUNDS = 1000
# Enrolled samples an identity that calibration measures: the centroid of several samples lies nearer
# to everyone (it keeps what all faces or voices share and loses what is this sample's own), so a
# threshold set with one sample each names more strangers in a gallery of three each.
SAMPLES_EACH = (1, 2, 3, 5)
EXTRAPOLATE_FROM = 10  # the gallery sizes whose trend is continued past the largest calibrated


def open_set_scores(distances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For (probes, identities) distances: each probe's nearest identity (column) and its score,
    2*d1 - d2; with one identity enrolled there is no runner-up and the score is d1."""
    distances = np.asarray(distances, dtype=np.float64)
    nearest = distances.argmin(axis=1)
    d1 = distances[np.arange(len(distances)), nearest]
    if distances.shape[1] < 2:
        return nearest, d1
    d2 = np.partition(distances, 1, axis=1)[:, 1]
    return nearest, 2 * d1 - d2


def open_set_score(nearest: float, runner_up: float | None) -> float:
    """One probe's score from its two nearest identities' distances (runner_up None: one enrolled)."""
    return nearest if runner_up is None else 2 * nearest - runner_up


def check_score_threshold(value: float) -> float:
    """A 1:N threshold that decides something: within the scores' range, 2*0 - LARGEST to 2*LARGEST."""
    if not -LARGEST <= value < 2 * LARGEST:
        raise ValueError(
            f"threshold {value:g} is outside the open-set scores' range ({-LARGEST:g} to {2 * LARGEST:g}): "
            "it would decide nothing"
        )
    return value


@dataclass(frozen=True)
class OperatingPoint:
    """The 1:N threshold for galleries of `identities` with `samples_each` samples enrolled for each,
    and what it let through where calibrated."""

    identities: int
    samples_each: int
    threshold: float  # accept when the score is at most this
    dir: float  # share of enrolled people's probes identified correctly at it


def _along_sizes(row: list[OperatingPoint], identities: int) -> float:
    """One row of points (one samples_each), interpolated linearly in log N; below the smallest size,
    the smallest's; beyond the largest, an extrapolation (_beyond)."""
    if len(row) == 1 or identities <= row[0].identities:
        return row[0].threshold
    if identities > row[-1].identities:
        return _beyond(row, identities)
    segment = next(i for i in range(1, len(row)) if identities <= row[i].identities)
    low, high = row[segment - 1], row[segment]
    weight = (math.log(identities) - math.log(low.identities)) / (math.log(high.identities) - math.log(low.identities))
    return low.threshold + weight * (high.threshold - low.threshold)


def _beyond(row: list[OperatingPoint], identities: int) -> float:
    """Past the largest size calibrated: its threshold, moved along the slope in log N that the sizes
    from EXTRAPOLATE_FROM up show (least squares: the largest sizes rest on the fewest strangers, so
    one segment's slope is noise), and never loosened: more people enrolled never call for a laxer one."""
    fitted = [point for point in row if point.identities >= EXTRAPOLATE_FROM] or row[-2:]
    if len(fitted) < 2:
        fitted = row[-2:]
    x = np.log([point.identities for point in fitted])
    y = np.array([point.threshold for point in fitted])
    slope = float(np.polyfit(x, y, 1)[0])
    return float(row[-1].threshold + min(slope, 0.0) * (math.log(identities) - x[-1]))


def threshold_for_size(points: Sequence[OperatingPoint], identities: int, samples_each: float = 1.0) -> float:
    """The threshold for a gallery of `identities` holding `samples_each` samples an identity on
    average: along the gallery sizes in log N, then linearly between the calibrated numbers of
    samples (beyond the largest, the largest's: centroids of more samples were not measured)."""
    if not points:
        raise ValueError("no calibrated gallery sizes")
    rows: dict[int, list[OperatingPoint]] = {}
    for point in sorted(points, key=lambda p: (p.samples_each, p.identities)):
        rows.setdefault(point.samples_each, []).append(point)
    counts = sorted(rows)
    n, k = max(1, identities), min(max(samples_each, counts[0]), counts[-1])
    upper = next(c for c in counts if c >= k)
    lower = max(c for c in counts if c <= k)
    if upper == lower:
        return _along_sizes(rows[upper], n)
    weight = (k - lower) / (upper - lower)
    return (1 - weight) * _along_sizes(rows[lower], n) + weight * _along_sizes(rows[upper], n)


def extrapolated(points: Sequence[OperatingPoint], identities: int) -> bool:
    """Whether a gallery of this size is beyond every calibrated one."""
    return identities > max(point.identities for point in points)


@dataclass(frozen=True)
class DrawnGallery:
    """One gallery drawn from labelled samples: some identities enrolled, the others strangers."""

    enrolled: Enrolled  # the enrolled samples' embeddings, grouped by identity
    genuine: np.ndarray  # probe rows: the enrolled identities' other samples
    genuine_identity: np.ndarray  # each genuine probe's identity, as a column of the enrolled
    strangers: np.ndarray  # probe rows: every sample of the identities not enrolled


def identity_groups(labels: np.ndarray) -> list[np.ndarray]:
    """Each identity's sample rows."""
    order = np.argsort(labels, kind="stable")
    _, starts = np.unique(labels[order], return_index=True)
    return np.split(order, starts[1:])


def draw_galleries(
    embeddings: np.ndarray,
    groups: list[np.ndarray],
    identities: int,
    samples_each: int,
    rounds: int,
    rng: np.random.Generator,
) -> Iterator[DrawnGallery]:
    """`rounds` galleries of `identities` people, `samples_each` samples enrolled for each (drawn from
    identities with that many), every sample of the others as strangers."""
    eligible = np.flatnonzero([len(group) >= samples_each for group in groups])
    if identities > len(eligible) or identities >= len(groups):
        raise ValueError(f"{len(groups)} identities cannot hold a gallery of {identities} and strangers")
    for _ in range(rounds):
        chosen = rng.choice(eligible, identities, replace=False)
        enrolled_rows, genuine, genuine_identity = [], [], []
        for column, identity in enumerate(chosen):
            rows = rng.permutation(groups[identity])
            enrolled_rows.append(rows[:samples_each])
            genuine.append(rows[samples_each:])
            genuine_identity.append(np.full(len(rows) - samples_each, column))
        others = np.setdiff1d(np.arange(len(groups)), chosen)
        enrolled = Enrolled(
            [str(i) for i in chosen],
            embeddings[np.concatenate(enrolled_rows)],
            np.arange(identities, dtype=np.int64) * samples_each,
        )
        yield DrawnGallery(
            enrolled,
            np.concatenate(genuine),
            np.concatenate(genuine_identity),
            np.concatenate([groups[i] for i in others]),
        )


@dataclass(frozen=True)
class OpenSetScores:
    """Scores pooled over drawn galleries of one size: genuine probes (with whether their nearest
    identity was their own) and strangers."""

    genuine: np.ndarray
    correct: np.ndarray
    strangers: np.ndarray  # sorted ascending

    def at(self, threshold: float) -> tuple[float, float]:
        """(DIR, FPIR) at a threshold: enrolled probes identified as themselves; strangers named."""
        detected = float(np.mean(self.correct & (self.genuine <= threshold))) if self.genuine.size else math.nan
        named = float(np.searchsorted(self.strangers, threshold, side="right") / self.strangers.size)
        return detected, named

    def threshold_at(self, fpir: float) -> float:
        return threshold_at_rate(self.strangers, fpir)


def score_galleries(
    embeddings: np.ndarray,
    labels: np.ndarray,
    distance: Distance,
    identities: int,
    samples_each: int,
    rounds: int,
    seed: int = 0,
) -> OpenSetScores:
    """Genuine and stranger scores over `rounds` drawn galleries of one size."""
    rng = np.random.default_rng([seed, identities, samples_each])
    genuine, correct, strangers = [], [], []
    groups = identity_groups(labels)
    for drawn in draw_galleries(embeddings, groups, identities, samples_each, rounds, rng):
        nearest, scores = open_set_scores(
            identity_distances(embeddings[drawn.genuine], drawn.enrolled, distance, "centroid")
        )
        genuine.append(scores)
        correct.append(nearest == drawn.genuine_identity)
        strangers.append(
            open_set_scores(identity_distances(embeddings[drawn.strangers], drawn.enrolled, distance, "centroid"))[1]
        )
    return OpenSetScores(np.concatenate(genuine), np.concatenate(correct), np.sort(np.concatenate(strangers)))


def calibration_sizes(n_identities: int) -> list[int]:
    """The gallery sizes calibration identities can hold with a fifth of them left as strangers."""
    largest = n_identities - max(MIN_STRANGERS, math.ceil(n_identities * STRANGER_SHARE))
    if largest < 1:
        return []
    return [size for size in SIZES if size < largest] + [largest]


def rounds_for(fpir: float, identities: int, strangers_per_round: float) -> int:
    """Enough drawn galleries that the fpir quantile rests on about STRANGER_SCORES/fpir scores and
    ENROLLED_DRAWS enrolled people."""
    wanted = max(STRANGER_SCORES / fpir / max(strangers_per_round, 1.0), ENROLLED_DRAWS / identities)
    return int(min(MAX_ROUNDS, math.ceil(wanted)))


def calibrate_open_set(
    embeddings: np.ndarray, labels: np.ndarray, distance: Distance, fpir: float, seed: int = 0
) -> list[OperatingPoint]:
    """The threshold at `fpir` for each gallery size the identities can hold, with each of
    SAMPLES_EACH samples enrolled an identity where enough identities have a probe beyond them;
    ValueError when they are too few to hold a gallery and strangers."""
    if not 0 < fpir < 1:
        raise ValueError("the target false-positive identification rate must be in (0, 1)")
    labels = np.asarray(labels)
    groups = identity_groups(labels)
    sizes = calibration_sizes(len(groups))
    if not sizes:
        raise ValueError(f"{len(groups)} identities are too few: a gallery and {MIN_STRANGERS} strangers need more")
    points = []
    for samples_each in SAMPLES_EACH:
        enrollable = sum(len(group) > samples_each for group in groups)
        for size in (size for size in sizes if size <= enrollable):
            strangers_per_round = len(labels) * (len(groups) - size) / len(groups)
            rounds = rounds_for(fpir, size, strangers_per_round)
            scored = score_galleries(embeddings, labels, distance, size, samples_each, rounds, seed)
            threshold = scored.threshold_at(fpir)
            points.append(OperatingPoint(size, samples_each, threshold, scored.at(threshold)[0]))
    if not points:
        raise ValueError("no identity has a sample left to probe with beyond its enrolled one")
    return points


@dataclass(frozen=True)
class ClaimPoint:
    """The 1:1 threshold for a claimed identity enrolled with `samples_each` samples (their centroid),
    and the share of its genuine probes rejected there."""

    samples_each: int
    threshold: float
    frr: float


CLAIM_SAMPLES_EACH = (2, 3, 5)  # beside 1, which every pair of samples calibrates


def calibrate_claims(
    embeddings: np.ndarray, labels: np.ndarray, distance: Distance, far: float, seed: int = 0
) -> list[ClaimPoint]:
    """1:1 thresholds at false-accept rate `far` for claims against the centroid of 2, 3 and 5
    enrolled samples, where enough identities have a probe beyond them. A centroid sits nearer to
    everyone than one sample does, so the threshold of single pairs would accept more impostors
    (on celeba_subset 0.1% with one sample, 0.55% with three): a claim is a gallery of one identity,
    every other identity's samples its impostors."""
    labels = np.asarray(labels)
    groups = identity_groups(labels)
    points = []
    for samples_each in CLAIM_SAMPLES_EACH:
        if len(groups) < 2 or not any(len(group) > samples_each for group in groups):
            break
        rounds = rounds_for(far, 1, len(labels) * (len(groups) - 1) / len(groups))
        scored = score_galleries(embeddings, labels, distance, 1, samples_each, rounds, seed)
        threshold = scored.threshold_at(far)
        points.append(ClaimPoint(samples_each, threshold, 1.0 - scored.at(threshold)[0]))
    return points


def claim_threshold(pairs: float, points: Sequence[ClaimPoint], samples_each: int) -> float:
    """The 1:1 threshold for a claimed identity of `samples_each` samples: `pairs` (the single-sample
    threshold) for one, linear between the calibrated numbers, the largest's beyond."""
    known = [(1, pairs)] + [(point.samples_each, point.threshold) for point in points]
    counts, values = zip(*known)
    return float(np.interp(max(1, samples_each), counts, values))


EVAL_SIZES = (10, 100, 1000)  # gallery sizes eval reports, where the data holds them and strangers
EVAL_SAMPLES_EACH = (1, 3)
EVAL_FPIRS = (0.01, 0.05, 0.1)
CURVE_FPIRS = tuple(float(f) for f in np.geomspace(1e-3, 1.0, 31))


@dataclass(frozen=True)
class AtThreshold:
    threshold: float
    fpir: float
    dir: float


@dataclass(frozen=True)
class OpenSetRates:
    """Open-set identification on galleries of one size drawn from the data: how many of the enrolled
    are identified (DIR) when only a share of strangers is named (FPIR)."""

    identities: int  # enrolled in each drawn gallery
    samples_each: int  # enrolled per identity (scored by their centroid)
    rounds: int
    genuine_probes: int  # pooled over the rounds
    stranger_probes: int
    dir_at_fpir: dict[str, float]  # "0.01": DIR at the threshold that names 1% of strangers
    at_operating_point: AtThreshold | None  # at the model's 1:N threshold for this size, where it has one
    curve: list[tuple[float, float]]  # (FPIR, DIR)


def eval_sizes(n_identities: int) -> list[int]:
    """EVAL_SIZES the data holds with a fifth of it left as strangers, and its largest gallery when
    that is not one of them."""
    sizes = calibration_sizes(n_identities)
    if not sizes:
        return []
    largest = sizes[-1]
    return [size for size in EVAL_SIZES if size <= largest] + ([largest] if largest not in EVAL_SIZES else [])


def open_set_rates(
    embeddings: np.ndarray,
    labels: np.ndarray,
    distance: Distance,
    operating_threshold: Callable[[int, int], float] | None = None,
    seed: int = 0,
) -> list[OpenSetRates]:
    """DIR at EVAL_FPIRS, the DIR-FPIR curve and the rates at the model's own threshold, for each
    gallery size and enrolled samples per identity the data holds."""
    labels = np.asarray(labels)
    groups = identity_groups(labels)
    results = []
    for samples_each in EVAL_SAMPLES_EACH:
        enrollable = sum(len(group) > samples_each for group in groups)  # enrolled, with a probe left
        for size in eval_sizes(len(groups)):
            if size > enrollable:
                continue
            strangers_per_round = len(labels) * (len(groups) - size) / len(groups)
            rounds = rounds_for(min(EVAL_FPIRS), size, strangers_per_round)
            scored = score_galleries(embeddings, labels, distance, size, samples_each, rounds, seed)
            at = None
            if operating_threshold is not None:
                threshold = operating_threshold(size, samples_each)
                detected, named = scored.at(threshold)
                at = AtThreshold(threshold, named, detected)
            results.append(
                OpenSetRates(
                    size,
                    samples_each,
                    rounds,
                    int(scored.genuine.size),
                    int(scored.strangers.size),
                    {f"{fpir:g}": scored.at(scored.threshold_at(fpir))[0] for fpir in EVAL_FPIRS},
                    at,
                    [(fpir, scored.at(scored.threshold_at(fpir))[0]) for fpir in CURVE_FPIRS],
                )
            )
    return results

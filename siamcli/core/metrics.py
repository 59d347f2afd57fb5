"""Verification and one-shot identification metrics, on distances (smaller means more alike).

Verification metrics read a `Trials` (sorted once); one-shot episodes compute only the distances they need.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from siamcli.core.distances import Distance
from siamcli.core.thresholds import error_rates, roc, threshold_at_far
from siamcli.core.trials import Groups, Trials


def roc_auc(trials: Trials) -> float:
    """Probability that a genuine pair is closer than an impostor pair (ties count half)."""
    genuine, impostor = trials.genuine, trials.impostor
    below = np.searchsorted(impostor, genuine, side="left")  # impostors strictly closer than each genuine
    tied = np.searchsorted(impostor, genuine, side="right") - below
    farther = impostor.size - below - tied
    return float((farther.sum() + 0.5 * tied.sum()) / (genuine.size * impostor.size))


def tar_at_far(trials: Trials, target_far: float) -> float | None:
    """True-accept rate at the threshold that gives `target_far` on these trials.

    None when there are too few impostor trials for the rate to mean anything (fewer than 1/FAR).
    """
    if trials.impostor.size * target_far < 1:
        return None
    _, frr = error_rates(trials, np.array([threshold_at_far(trials, target_far)]))
    return float(1 - frr[0])


def rates_at(trials: Trials, threshold: float) -> dict[str, float]:
    """Accuracy, FAR, FRR and balanced accuracy of the accept rule at `threshold`."""
    n_genuine, n_impostor = trials.genuine.size, trials.impostor.size
    far, frr = (float(r[0]) for r in error_rates(trials, np.array([threshold])))
    correct = (1 - frr) * n_genuine + (1 - far) * n_impostor
    return {
        "accuracy": correct / (n_genuine + n_impostor),
        "balanced_accuracy": 1 - (far + frr) / 2,
        "far": far,
        "frr": frr,
    }


def check_p_target(p_target: float) -> float:
    if not 0 < p_target < 1:
        raise ValueError("P_target must be between 0 and 1")
    return p_target


def min_dcf(trials: Trials, p_target: float = 0.01, weights: np.ndarray | None = None) -> tuple[float, float]:
    """(minimum normalised detection cost, its threshold), the NIST speaker-recognition measure.

    Cost = P_target * FRR + (1 - P_target) * FAR at the best threshold, divided by the cost of the
    better trivial system (accept all or reject all), so 1.0 means no better than not trying.
    """
    check_p_target(p_target)
    curve = roc(trials, weights)
    cost = p_target * curve.frr + (1 - p_target) * curve.far
    best = int(np.argmin(cost))
    return float(cost[best] / min(p_target, 1 - p_target)), float(curve.thresholds[best])


def one_shot_accuracy(
    embeddings: np.ndarray, labels: np.ndarray, n_way: int, episodes: int, seed: int, distance: Distance
) -> float:
    """N-way one-shot identification: one reference sample for each of n_way identities, and a query
    (another sample of one of them); correct when the query's nearest reference is its own identity."""
    correct, _ = one_shot_episodes(embeddings, labels, n_way, episodes, np.random.default_rng(seed), distance)
    return float(correct.mean())


EPISODE_CHUNK = 256  # episodes at a time: (256, 20, dim) differences stay a few MB


def one_shot_episodes(
    embeddings: np.ndarray,
    labels: np.ndarray,
    n_way: int,
    episodes: int,
    rng: np.random.Generator,
    distance: Distance,
    within: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Every episode drawn at once: (correct, target identity) of each.

    Only the distances an episode needs (its query to its references) are computed, a chunk of
    episodes at a time: never the samples' whole distance matrix. Identities are indices into the
    sorted distinct labels; those with one sample give no query and are never drawn. With `within`
    (a group number for each identity), each episode draws a group, uniformly among those with
    n_way usable identities, and its n_way identities from that group alone (Omniglot's episodes
    within one alphabet: harder than across them, where other scripts are easy to tell apart).
    """
    groups = Groups.of(labels)
    counts, first, by_identity = groups.sizes, groups.starts, groups.by_identity
    usable = counts >= 2
    if np.count_nonzero(usable) < n_way:
        raise ValueError(f"{n_way}-way needs {n_way} identities with two samples, found {np.count_nonzero(usable)}")
    if within is not None:
        sizes = np.bincount(within[usable], minlength=within.max() + 1)
        eligible = np.flatnonzero(sizes >= n_way)
        if not eligible.size:
            raise ValueError(f"{n_way}-way within groups needs a group of {n_way} identities with two samples")
    chosen = np.empty((episodes, n_way), dtype=np.int64)
    for start in range(0, episodes, EPISODE_CHUNK):  # a chunk of episodes' keys at a time: memory stays flat
        keys = rng.random((min(EPISODE_CHUNK, episodes - start), counts.size))
        keys[:, ~usable] = -1.0
        if within is not None:
            drawn = rng.choice(eligible, size=len(keys))
            keys[within[None, :] != drawn[:, None]] = -1.0
        chosen[start : start + len(keys)] = np.argsort(-keys, axis=1)[:, :n_way]  # n_way distinct, uniformly
    reference_offset = (rng.random(chosen.shape) * counts[chosen]).astype(int)
    references = by_identity[first[chosen] + reference_offset]
    rows = np.arange(episodes)
    target = rng.integers(n_way, size=episodes)
    identity = chosen[rows, target]
    # Any sample of the target identity but its reference.
    step = 1 + (rng.random(episodes) * (counts[identity] - 1)).astype(int)
    query = by_identity[first[identity] + (reference_offset[rows, target] + step) % counts[identity]]
    nearest = np.empty(episodes, dtype=np.int64)
    for start in range(0, episodes, EPISODE_CHUNK):
        part = slice(start, start + EPISODE_CHUNK)
        to_references = distance.paired(embeddings[query[part], None], embeddings[references[part]])
        nearest[part] = np.argmin(np.asarray(to_references), axis=1)
    return nearest == target, identity


def bootstrap_interval(
    statistic: Callable[[np.ndarray], float], n_identities: int, rounds: int, seed: int, level: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of `statistic(multiplicity)` over identities drawn with replacement.

    Pairs and episodes of one identity are not independent; resampling identities, not pairs, gives
    intervals honest about how few people were measured.
    """
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        multiplicity = rng.multinomial(n_identities, np.full(n_identities, 1.0 / n_identities))
        try:
            values.append(statistic(multiplicity))
        except ValueError:  # a draw without genuine or impostor pairs, or too few identities for N-way
            continue
    if not values:
        raise ValueError("no bootstrap replicate could be scored")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)

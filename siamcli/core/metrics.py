"""Verification and one-shot identification metrics, on distances (smaller means more alike)."""

from __future__ import annotations

import numpy as np

from siamcli.core.distances import Distance
from siamcli.core.thresholds import error_rates, split_scores, threshold_at_far


def _average_ranks(values: np.ndarray) -> np.ndarray:
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return ((ends - counts + 1 + ends) / 2.0)[inverse]


def roc_auc(distances: np.ndarray, same: np.ndarray) -> float:
    """Probability that a genuine pair is closer than an impostor pair (ties count half)."""
    genuine, impostor = split_scores(distances, same)
    ranks = _average_ranks(-np.concatenate([genuine, impostor]))
    genuine_rank_sum = ranks[: genuine.size].sum()
    return float((genuine_rank_sum - genuine.size * (genuine.size + 1) / 2) / (genuine.size * impostor.size))


def tar_at_far(distances: np.ndarray, same: np.ndarray, target_far: float) -> float | None:
    """True-accept rate at the threshold that gives `target_far` on these pairs.

    None when there are too few impostor pairs for the rate to mean anything (fewer than 1/FAR).
    """
    genuine, impostor = split_scores(distances, same)
    if impostor.size * target_far < 1:
        return None
    threshold = threshold_at_far(distances, same, target_far)
    _, frr = error_rates(genuine, impostor, np.array([threshold]))
    return float(1 - frr[0])


def rates_at(distances: np.ndarray, same: np.ndarray, threshold: float) -> dict[str, float]:
    """Accuracy, FAR, FRR and balanced accuracy of accept-if-distance<=threshold."""
    genuine, impostor = split_scores(distances, same)
    far, frr = (float(r[0]) for r in error_rates(genuine, impostor, np.array([threshold])))
    correct = (1 - frr) * genuine.size + (1 - far) * impostor.size
    return {
        "accuracy": correct / (genuine.size + impostor.size),
        "balanced_accuracy": 1 - (far + frr) / 2,
        "far": far,
        "frr": frr,
    }


def one_shot_accuracy(
    embeddings: np.ndarray, labels: np.ndarray, n_way: int, episodes: int, seed: int, distance: Distance
) -> float:
    """N-way one-shot identification: one reference sample for each of n_way identities, and a query
    (another sample of one of them); correct when the query's nearest reference is its own identity."""
    labels = np.asarray(labels)
    by_identity = [np.flatnonzero(labels == label) for label in np.unique(labels)]
    by_identity = [indices for indices in by_identity if indices.size >= 2]
    if len(by_identity) < n_way:
        raise ValueError(f"{n_way}-way needs {n_way} identities with two samples, found {len(by_identity)}")
    rng = np.random.default_rng(seed)
    correct = 0
    for _ in range(episodes):
        chosen = rng.choice(len(by_identity), size=n_way, replace=False)
        references = np.empty(n_way, dtype=int)
        for slot, identity in enumerate(chosen):
            references[slot] = rng.choice(by_identity[identity])
        target = int(rng.integers(n_way))
        candidates = by_identity[chosen[target]]
        query = rng.choice(candidates[candidates != references[target]])
        distances = distance.pairwise(embeddings[query][None, :], embeddings[references])[0]
        correct += int(np.argmin(distances) == target)
    return correct / episodes

"""Evaluation at scale: above a size, every genuine pair and a stratified draw of impostor pairs; the
draw is checked against the exact figures on sets small enough for both, and the vectorised
per-identity rates against a loop over identities."""

from __future__ import annotations

import numpy as np
import pytest

from siamcli.core.distances import Euclidean
from siamcli.core.thresholds import equal_error_rate
from siamcli.core.trials import genuine_pairs, impostor_pair_count, stratified_impostor_pairs
from siamcli.evaluation import per_identity, score_all_pairs


def clustered(identities: int, per_identity: int, spread: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit embeddings around one random centre per identity: the harder, the larger `spread`."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(identities, 16))
    labels = np.repeat(np.arange(identities), per_identity)
    points = centres[labels] + spread * rng.normal(size=(labels.size, 16))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32), labels


def test_the_draw_is_distinct_impostor_pairs_in_proportion_to_each_pair_of_identities() -> None:
    labels = np.repeat(np.arange(12), [3, 4, 5, 6, 7, 8, 3, 4, 5, 6, 7, 8])
    total = impostor_pair_count(labels)
    first, second = stratified_impostor_pairs(labels, total // 4, np.random.default_rng(1))
    assert (labels[first] != labels[second]).all()
    pairs = {(min(i, j), max(i, j)) for i, j in zip(first.tolist(), second.tolist())}
    assert len(pairs) == first.size and abs(first.size - total / 4) < 0.05 * total
    sizes = np.bincount(labels)
    for a in range(12):
        for b in range(a + 1, 12):
            drawn = np.sum((labels[np.minimum(first, second)] == a) & (labels[np.maximum(first, second)] == b))
            assert abs(drawn - sizes[a] * sizes[b] / 4) <= 1, (a, b, drawn)  # random rounding only
    again = stratified_impostor_pairs(labels, total // 4, np.random.default_rng(1))
    assert np.array_equal(again[0], first) and np.array_equal(again[1], second)  # seeded


def test_genuine_pairs_are_every_pair_within_an_identity() -> None:
    labels = np.array([2, 0, 2, 1, 0, 2])
    first, second = genuine_pairs(labels)
    assert sorted(zip(first.tolist(), second.tolist())) == [(0, 2), (0, 5), (1, 4), (2, 5)]


def test_sampled_figures_agree_with_the_exact_ones() -> None:
    embeddings, labels = clustered(60, 6, spread=0.9)
    names = [f"id{i}" for i in range(60)]
    exact = score_all_pairs(embeddings, labels, names, Euclidean())
    sampled = score_all_pairs(embeddings, labels, names, Euclidean(), exact_pairs=0, impostor_sample=15_000)
    assert exact.impostor_sampling is None and exact.trials.impostor.size == impostor_pair_count(labels)
    assert sampled.impostor_sampling["in_data"] == impostor_pair_count(labels) == 63_720
    assert abs(sampled.trials.impostor.size - 15_000) < 200
    assert np.allclose(sampled.trials.genuine, exact.trials.genuine, atol=1e-5)  # every genuine pair, always
    exact_eer, exact_threshold = equal_error_rate(exact.trials)
    sampled_eer, sampled_threshold = equal_error_rate(sampled.trials)
    assert 0.05 < exact_eer < 0.45
    assert sampled_eer == pytest.approx(exact_eer, abs=0.01)
    assert sampled_threshold == pytest.approx(exact_threshold, abs=0.02)


def test_per_identity_rates_match_a_loop_over_identities() -> None:
    embeddings, labels = clustered(7, 5, spread=0.8, seed=3)
    evaluated = score_all_pairs(embeddings, labels, [f"id{i}" for i in range(7)], Euclidean())
    threshold = float(np.median(evaluated.trials.distances))
    trials = evaluated.trials
    accepted = trials.distances <= threshold
    for row in per_identity(evaluated, threshold):
        index = int(row.identity[2:])
        involved = (trials.identities == index).any(axis=1)
        genuine, impostor = involved & trials.same, involved & ~trials.same
        assert row.genuine_pairs == genuine.sum() == 10 and row.samples == 5
        assert row.frr == pytest.approx(np.mean(~accepted[genuine]))
        assert row.far == pytest.approx(np.mean(accepted[impostor]))

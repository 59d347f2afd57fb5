"""minDCF, weighted ROC curves, one-shot episodes and bootstrap intervals, against values computed
independently on small hand-made score sets."""

from __future__ import annotations

import numpy as np
import pytest

from siamcli.core.distances import Euclidean
from siamcli.core.metrics import bootstrap_interval, min_dcf, one_shot_episodes, tar_at_far
from siamcli.core.thresholds import equal_error_rate, roc
from siamcli.core.trials import Trials

GENUINE = [0.1, 0.2, 0.3, 0.6]
IMPOSTOR = [0.4, 0.5, 0.7, 0.8, 0.9]
DISTANCES = np.array(GENUINE + IMPOSTOR)
SAME = np.array([True] * 4 + [False] * 5)
TRIALS = Trials.of(DISTANCES, SAME)


def brute_force_min_dcf(p_target: float) -> float:
    """Every threshold tried by hand: reject all, then accept up to each distance."""
    genuine, impostor = np.array(GENUINE), np.array(IMPOSTOR)
    costs = [p_target * 1.0]  # reject everything: FRR 1, FAR 0
    for t in sorted(DISTANCES):
        costs.append(p_target * np.mean(genuine > t) + (1 - p_target) * np.mean(impostor <= t))
    return min(costs) / min(p_target, 1 - p_target)


@pytest.mark.parametrize(("p_target", "expected", "threshold"), [(0.5, 0.25, 0.3), (0.9, 0.4, 0.6)])
def test_min_dcf_on_a_hand_made_set(p_target: float, expected: float, threshold: float) -> None:
    # p 0.5: cost = FRR + FAR after normalising; best at 0.3 (FRR 1/4, FAR 0).
    # p 0.9: cost = 9 FRR + FAR; best at 0.6 (FRR 0, FAR 2/5).
    value, at = min_dcf(TRIALS, p_target)
    assert value == pytest.approx(expected) == pytest.approx(brute_force_min_dcf(p_target))
    assert at == pytest.approx(threshold)


def test_min_dcf_is_one_for_a_useless_system() -> None:
    same = np.array([True, False] * 50)
    assert min_dcf(Trials.of(np.full(100, 0.5), same), 0.01)[0] == pytest.approx(1.0)


def test_tar_at_far_on_a_hand_made_set() -> None:
    # 20 impostors, one of them close (0.4). FAR 5% allows accepting it: the threshold goes halfway to
    # the next impostor (0.7), and all 4 genuine pairs pass.
    impostors = [0.4] + [1.0 + i / 100 for i in range(19)]
    distances = np.array(GENUINE + impostors)
    same = np.array([True] * 4 + [False] * 20)
    assert tar_at_far(Trials.of(distances, same), 0.05) == pytest.approx(1.0)
    # A genuine pair beyond the threshold (1.5) is rejected: 3 of 4.
    assert tar_at_far(Trials.of([*GENUINE[:3], 1.5, *impostors], same), 0.05) == pytest.approx(0.75)
    assert tar_at_far(Trials.of(distances, same), 0.01) is None  # 20 impostors cannot measure 1%


def test_weights_count_pairs_as_if_repeated() -> None:
    weights = np.array([1, 2, 1, 3, 1, 1, 2, 1, 1], dtype=float)
    repeated = np.repeat(np.arange(DISTANCES.size), weights.astype(int))
    # Trials sort their distances: the weights follow the same order.
    sorted_weights = weights[np.argsort(DISTANCES, kind="stable")]
    repeated_trials = Trials.of(DISTANCES[repeated], SAME[repeated])
    weighted, plain = roc(TRIALS, sorted_weights), roc(repeated_trials)
    assert np.allclose(weighted.far, plain.far) and np.allclose(weighted.frr, plain.frr)
    assert equal_error_rate(TRIALS, sorted_weights) == pytest.approx(equal_error_rate(repeated_trials))
    assert min_dcf(TRIALS, 0.3, sorted_weights) == pytest.approx(min_dcf(repeated_trials, 0.3))


def test_one_shot_episodes_perfect_and_with_twins() -> None:
    labels = np.repeat(np.arange(3), 4)
    points = np.array([[0.0], [10.0], [20.0]])[labels] + np.tile([0.0, 0.1, 0.2, 0.3], 3)[:, None]
    correct, target = one_shot_episodes(points, labels, 2, 1000, np.random.default_rng(0), Euclidean())
    assert correct.all() and set(target) == {0, 1, 2}
    # Identities 0 and 1 are one point: an episode holding both (1 in 3) is a tie, broken by the order
    # the two were drawn in, so right half the time; every other episode is right: 1/3 * 1/2 + 2/3 = 5/6.
    twins = np.array([[0.0], [0.0], [20.0]])[labels]
    correct, _ = one_shot_episodes(twins, labels, 2, 20000, np.random.default_rng(1), Euclidean())
    assert correct.mean() == pytest.approx(5 / 6, abs=0.01)


def test_one_shot_needs_enough_identities_with_two_samples() -> None:
    labels = np.array([0, 0, 1, 2])  # identities 1 and 2 have one sample: no query possible
    with pytest.raises(ValueError, match="2-way needs 2 identities"):
        one_shot_episodes(np.zeros((4, 4)), labels, 2, 10, np.random.default_rng(0), Euclidean())


def test_bootstrap_interval_over_identities() -> None:
    per_identity = np.array([0.0, 0.1, 0.2, 0.9])  # one bad identity among four

    def mean_of(multiplicity: np.ndarray) -> float:
        return float(np.average(per_identity, weights=multiplicity))

    low, high = bootstrap_interval(mean_of, 4, 500, seed=0)
    assert 0.0 <= low < per_identity.mean() < high <= 0.9
    assert (low, high) == bootstrap_interval(mean_of, 4, 500, seed=0)  # seeded
    assert bootstrap_interval(lambda m: 0.3, 4, 50, seed=0) == (0.3, 0.3)

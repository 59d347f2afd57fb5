import numpy as np
import pytest

from siamcli.core.distances import Euclidean
from siamcli.core.metrics import one_shot_accuracy, rates_at, roc_auc, tar_at_far
from siamcli.core.thresholds import accepts, calibrate, equal_error_rate, roc, threshold_at_far
from siamcli.core.trials import Trials

# A known ROC: genuine pairs at 0.1..0.4, impostors at 0.35..0.7.
GENUINE = [0.1, 0.2, 0.3, 0.4]
IMPOSTOR = [0.35, 0.5, 0.6, 0.7]
DISTANCES = np.array(GENUINE + IMPOSTOR)
SAME = np.array([True] * 4 + [False] * 4)
TRIALS = Trials.of(DISTANCES, SAME)


def test_roc_rates_at_each_threshold() -> None:
    curve = roc(TRIALS)
    assert curve.far[0] == 0 and curve.frr[0] == 1  # below every score: reject all
    at = {round(t, 2): (far, frr) for t, far, frr in zip(curve.thresholds[1:], curve.far[1:], curve.frr[1:])}
    assert at[0.3] == (0.0, 0.25)
    assert at[0.35] == (0.25, 0.25)
    assert at[0.4] == (0.25, 0.0)
    assert at[0.7] == (1.0, 0.0)


def test_equal_error_rate_on_a_known_roc() -> None:
    eer, threshold = equal_error_rate(TRIALS)
    assert eer == pytest.approx(0.25)
    assert threshold == pytest.approx(0.35)


def test_equal_error_rate_interpolates_between_thresholds() -> None:
    # (FAR, FRR) at 0.15 is (1/2, 2/3) and at 0.2 is (1/2, 1/3): FAR - FRR changes sign halfway.
    distances = np.array([0.1, 0.2, 0.3, 0.15, 0.4])
    eer, threshold = equal_error_rate(Trials.of(distances, [True, True, True, False, False]))
    assert eer == pytest.approx(0.5)
    assert threshold == pytest.approx(0.175)


def test_perfect_separation_has_zero_eer() -> None:
    eer, threshold = equal_error_rate(Trials.of([0.1, 0.2, 0.8, 0.9], [True, True, False, False]))
    assert eer == 0.0
    assert 0.2 <= threshold < 0.8


def test_threshold_at_far_meets_the_target_halfway_to_the_next_impostor() -> None:
    impostors = np.linspace(0.5, 1.49, 100)
    distances = np.concatenate([[0.1, 0.2], impostors])
    same = np.array([True, True] + [False] * 100)
    t = threshold_at_far(Trials.of(distances, same), 0.02)  # two impostors may pass
    assert (impostors <= t).sum() == 2
    assert t == pytest.approx((impostors[1] + impostors[2]) / 2)
    assert threshold_at_far(Trials.of(distances, same), 0.0) < impostors[0]


def test_threshold_at_far_respects_ties() -> None:
    distances = np.array([0.1, 0.5, 0.5, 0.5, 0.9])
    same = np.array([True, False, False, False, False])
    t = threshold_at_far(Trials.of(distances, same), 0.5)  # 2 of 4 allowed, but three are tied at 0.5
    assert t < 0.5


def test_calibrate_records_the_operating_point() -> None:
    at_eer = calibrate(TRIALS)
    assert at_eer.operating_point == "eer" and at_eer.far == 0.25 and at_eer.frr == 0.25
    strict = calibrate(TRIALS, target_far=0.0)
    assert strict.operating_point == "far=0" and strict.far == 0.0 and strict.frr == 0.25
    assert (strict.n_genuine, strict.n_impostor) == (4, 4)


def test_accepts_at_or_below_the_threshold() -> None:
    assert accepts(np.array([0.1, 0.35, 0.36]), 0.35).tolist() == [True, True, False]


def test_roc_auc_counts_ordered_pairs() -> None:
    # 15 of 16 genuine/impostor pairs are ordered right; 0.4 > 0.35 is the one wrong
    assert roc_auc(TRIALS) == pytest.approx(15 / 16)
    assert roc_auc(Trials.of([0.5, 0.5], [True, False])) == pytest.approx(0.5)


def test_tar_at_far_and_too_few_impostors() -> None:
    assert tar_at_far(TRIALS, 0.25) == pytest.approx(1.0)
    ten_impostors = np.array([0.1, 0.2, 0.3, 0.4, 0.25, *np.linspace(0.5, 0.9, 9)])
    flags = np.array([True] * 4 + [False] * 10)
    # the impostor at 0.25 passes, and the genuine pair at 0.4 does not
    assert tar_at_far(Trials.of(ten_impostors, flags), 0.1) == pytest.approx(0.75)
    assert tar_at_far(TRIALS, 0.01) is None  # 4 impostor pairs cannot measure 1%


def test_rates_at_threshold() -> None:
    rates = rates_at(TRIALS, 0.35)
    assert rates == pytest.approx({"accuracy": 0.75, "balanced_accuracy": 0.75, "far": 0.25, "frr": 0.25})


def test_one_shot_accuracy_perfect_and_chance() -> None:
    labels = np.repeat(np.arange(10), 3)
    separated = np.eye(10)[labels] * 10
    assert one_shot_accuracy(separated, labels, 5, 200, 0, Euclidean()) == 1.0
    noise = np.random.default_rng(0).normal(size=(30, 8))
    chance = one_shot_accuracy(noise, labels, 5, 4000, 0, Euclidean())
    assert 0.15 < chance < 0.25
    assert one_shot_accuracy(noise, labels, 5, 500, 3, Euclidean()) == one_shot_accuracy(
        noise, labels, 5, 500, 3, Euclidean()
    )

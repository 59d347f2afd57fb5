"""Unknown means unknown: open-set identification (1:N) and the 1:1 operating point of the shipped
models, on people and speakers they never trained on.

    python benchmarks/open_set.py [--data ../shared/data] [--splits 50] [--quick]

Protocol (issue 31): celeba_subset with 100 people enrolled and the others as strangers;
speechocean_train with 50 speakers enrolled and the other 50 as strangers; enrolled with one sample
each and with three; every other sample of the enrolled is a genuine probe, every sample of a
stranger a stranger probe. Each figure is over `--splits` random draws of who is enrolled (the mean,
and all draws pooled). Known label errors are merged first (common.SAME_PERSON).

- before: the release before this change (nearest enrolled sample, its distance against the
  equal-error threshold of 1:1 pairs: faces 0.4394, voices 0.7956), at that threshold and at the
  threshold that names 1% of strangers in each draw (chosen on the draw itself: a ceiling).
- now: the default (each identity's centroid, the open-set score, the model's 1:N threshold for
  the gallery's size), and the same score at the ceiling threshold.
- cross-fitted: the 1:N thresholds calibrated on half of the identities and used on the other half
  (half of it enrolled, half strangers), so that no threshold ever saw the people it is measured on.
  The shipped thresholds were calibrated on all of each data set, as the 1:1 threshold always was.
- growth: FPIR as the gallery grows, at the 1:N threshold calibrated for 10 identities held fixed and
  at the threshold that follows the gallery's size (all identities: how FPIR grows, not a held-out
  figure), to say what to expect beyond the largest gallery calibrated.
- alternatives: the rules tried for issue 31, each at its own ceiling (DIR where 1% of strangers are
  named, the threshold chosen on the draw): nearest sample or centroid, distance or open-set score,
  and S-norm / AS-norm (top 50) against a cohort of the other half's identities, as a cohort stored
  in the model would be. Measured on the half the cohort never saw.
- 1:1: false-accept and false-reject rates of all pairs at the model's 1:1 threshold, and
  cross-fitted (calibrated at FAR 0.1% on half the identities, measured on pairs of the other half).
- claims of several samples: 1:1 against the centroid of 2, 3 and 5 enrolled samples, at the
  single pairs' threshold and at the model's threshold for that many samples, and cross-fitted
  (calibrated on half the identities, measured on the other half).
- eval's cost: the seconds its open-set figures add on 6,600 samples.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from common import arguments, corrected_view, percent, quick_view  # sibling scripts

from siamcli.core.openset import (
    DrawnGallery,
    OpenSetScores,
    calibrate_claims,
    calibrate_open_set,
    calibration_sizes,
    draw_galleries,
    identity_groups,
    open_set_rates,
    open_set_scores,
    rounds_for,
    score_galleries,
    threshold_for_size,
)
from siamcli.core.search import identity_distances
from siamcli.core.thresholds import calibrate, error_rates
from siamcli.core.trials import Trials
from siamcli.data.dataset import scan_dataset
from siamcli.evaluation import ScoredPairs, on_dataset
from siamcli.model import Model, load_model

PROTOCOLS = {"celeba_subset": ("default:image", 100), "speechocean_train": ("default:audio", 50)}
BEFORE = {"default:image": 0.4394, "default:audio": 0.7956}  # the shipped EER thresholds until this change
FPIR = 0.01


def embedded(model: Model, data: Path) -> ScoredPairs:
    return on_dataset(model, scan_dataset(data, model.modality.suffixes))


def drawn(embeddings: np.ndarray, labels: np.ndarray, enrolled: int, samples_each: int, seed: int) -> DrawnGallery:
    """One draw of who is enrolled: every other sample of theirs a genuine probe, every sample of the
    others a stranger, as calibration and eval draw them."""
    rng = np.random.default_rng(seed)
    return next(draw_galleries(embeddings, identity_groups(labels), enrolled, samples_each, 1, rng))


def rates(embeddings: np.ndarray, distance, draw: DrawnGallery, rule: str) -> OpenSetScores:
    """Genuine and stranger scores of one draw under a rule: "before" (nearest sample, distance) or
    "now" (centroid, open-set score)."""

    def scored(probes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if rule == "before":
            matrix = identity_distances(embeddings[probes], draw.enrolled, distance, "nearest")
            return matrix.argmin(1), matrix.min(1)
        return open_set_scores(identity_distances(embeddings[probes], draw.enrolled, distance, "centroid"))

    nearest, genuine_scores = scored(draw.genuine)
    return OpenSetScores(genuine_scores, nearest == draw.genuine_identity, np.sort(scored(draw.strangers)[1]))


def open_set(model: Model, ref: str, scored: ScoredPairs, enrolled: int, splits: int) -> None:
    embeddings, labels, distance = scored.embeddings, scored.labels, model.distance
    record = model.card.open_set
    assert record is not None, "the shipped model has no 1:N operating point"
    before_threshold = BEFORE[ref]
    for samples_each in (1, 3):
        found: dict[str, list[tuple[float, float]]] = {"before": [], "before ceiling": [], "now": [], "now ceiling": []}
        pooled: dict[str, list[OpenSetScores]] = {"before": [], "now": []}
        for s in range(splits):
            gallery = drawn(embeddings, labels, enrolled, samples_each, s)
            for rule, threshold in (("before", before_threshold), ("now", record.threshold(enrolled, samples_each))):
                draw = rates(embeddings, distance, gallery, rule)
                pooled[rule].append(draw)
                found[rule].append(draw.at(threshold))
                found[f"{rule} ceiling"].append(draw.at(draw.threshold_at(FPIR)))
        print(f"  {enrolled} enrolled x {samples_each}, the rest strangers ({splits} draws):")
        for name, values in found.items():
            detected, named = (statistics.mean(v) for v in zip(*values))
            print(f"    {name:15s} FPIR {percent(named):>7s}  DIR {percent(detected):>7s}")
        ratio = statistics.mean(v[0] for v in found["now ceiling"]) / statistics.mean(
            v[0] for v in found["before ceiling"]
        )
        print(f"    DIR at FPIR 1%, now / before: {ratio:.2f}x")


def growth(model: Model, scored: ScoredPairs, quick: bool) -> None:
    record = model.card.open_set
    assert record is not None, "the shipped model has no 1:N operating point"
    sizes = [size for size in calibration_sizes(len(scored.names)) if size >= 10] or calibration_sizes(
        len(scored.names)
    )
    fixed = record.threshold(sizes[0])
    print(f"  growth, 1 sample each: FPIR at the threshold for {sizes[0]} identities held fixed / following the size:")
    for size in sizes:
        strangers_per_round = len(scored.labels) * (len(scored.names) - size) / len(scored.names)
        rounds = 5 if quick else rounds_for(FPIR, size, strangers_per_round)
        drawn = score_galleries(scored.embeddings, scored.labels, model.distance, size, 1, rounds)
        held, following = drawn.at(fixed)[1], drawn.at(record.threshold(size))[1]
        print(f"    {size:4d} enrolled: FPIR {percent(held):>7s} / {percent(following):>7s}")


def cross_fitted(model: Model, scored: ScoredPairs, splits: int) -> None:
    """1:N thresholds calibrated on half of the identities, used on the other half."""
    embeddings, labels, distance = scored.embeddings, scored.labels, model.distance
    groups = identity_groups(labels)
    for samples_each in (1, 3):
        named, detected = [], []
        for s in range(splits):
            rng = np.random.default_rng(1000 + s)
            order = rng.permutation(len(groups))
            half = len(groups) // 2
            calibration = np.concatenate([groups[i] for i in order[:half]])
            points = calibrate_open_set(embeddings[calibration], labels[calibration], distance, FPIR, seed=s)
            test = np.concatenate([groups[i] for i in order[half:]])
            enrolled = (len(groups) - half) // 2
            gallery = drawn(embeddings[test], labels[test], enrolled, samples_each, 3000 + s)
            draw = rates(embeddings[test], distance, gallery, "now")
            d, n = draw.at(threshold_for_size(points, enrolled, samples_each))
            detected.append(d)
            named.append(n)
        print(
            f"  cross-fitted, {enrolled} enrolled x {samples_each} of the other half ({splits} draws): "
            f"FPIR {percent(statistics.mean(named))} (worst draw {percent(max(named))}), "
            f"DIR {percent(statistics.mean(detected))}"
        )


RULES = ("nearest, distance", "centroid, distance", "centroid, open-set score (default)", "S-norm", "AS-norm top 50")


def rule_scores(matrix: np.ndarray, rule: str, probe_stats, identity_stats) -> tuple[np.ndarray, np.ndarray]:
    """Each probe's nearest identity and score under a rule, from its (probes, identities) distances."""
    if rule.startswith(("S-norm", "AS-norm")):
        (probe_mean, probe_sd), (identity_mean, identity_sd) = probe_stats, identity_stats
        matrix = 0.5 * ((matrix - probe_mean) / probe_sd + (matrix - identity_mean) / identity_sd)
    if rule.endswith("distance") or rule.startswith(("S-norm", "AS-norm")):
        return matrix.argmin(1), matrix.min(1)
    return open_set_scores(matrix)


def cohort_stats(rows: np.ndarray, cohort: np.ndarray, distance, top: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread of each row's distances to the cohort (its `top` nearest only, for AS-norm)."""
    matrix = np.sort(np.asarray(distance.pairwise(rows, cohort)), axis=1)
    if top is not None:
        matrix = matrix[:, :top]
    return matrix.mean(1, keepdims=True), matrix.std(1, keepdims=True) + 1e-6


def alternatives(model: Model, scored: ScoredPairs, splits: int) -> None:
    embeddings, labels, distance = scored.embeddings, scored.labels, model.distance
    groups = identity_groups(labels)
    for samples_each in (1, 3):
        found: dict[str, list[float]] = {rule: [] for rule in RULES}
        for s in range(splits):
            order = np.random.default_rng(4000 + s).permutation(len(groups))
            half = len(groups) // 2
            cohort_rows = np.concatenate([groups[i] for i in order[:half]])
            cohort = np.stack([embeddings[groups[i]].mean(0) for i in order[:half]])
            cohort /= np.linalg.norm(cohort, axis=1, keepdims=True)
            test = np.concatenate([groups[i] for i in order[half:]])
            assert not set(cohort_rows) & set(test)
            test_embeddings = embeddings[test]
            enrolled = (len(groups) - half) // 2
            draw = drawn(test_embeddings, labels[test], enrolled, samples_each, 5000 + s)
            centroids = draw.enrolled.centroids
            for rule in RULES:
                top = 50 if rule.startswith("AS-norm") else None
                per_probe = {}
                for name, probes in (("genuine", draw.genuine), ("strangers", draw.strangers)):
                    matrix = identity_distances(
                        test_embeddings[probes],
                        draw.enrolled,
                        distance,
                        "nearest" if rule.startswith("nearest") else "centroid",
                    )
                    per_probe[name] = rule_scores(
                        matrix,
                        rule,
                        cohort_stats(test_embeddings[probes], cohort, distance, top),
                        tuple(stat.T for stat in cohort_stats(centroids, cohort, distance, top)),
                    )
                nearest, genuine_scores = per_probe["genuine"]
                rates_now = OpenSetScores(
                    genuine_scores, nearest == draw.genuine_identity, np.sort(per_probe["strangers"][1])
                )
                found[rule].append(rates_now.at(rates_now.threshold_at(FPIR))[0])
        print(f"  alternatives, {enrolled} enrolled x {samples_each} of the half the cohort never saw, DIR at FPIR 1%:")
        for rule, values in found.items():
            print(f"    {rule:36s} {percent(statistics.mean(values)):>7s}")


def one_to_one(model: Model, scored: ScoredPairs, splits: int) -> None:
    trials = scored.trials
    far, frr = error_rates(trials, np.array([model.threshold]))
    print(
        f"  1:1 at the model's threshold {model.threshold:.4f} ({model.card.threshold.operating_point}): "
        f"FAR {far[0]:.3%}, FRR {frr[0]:.2%} on all {trials.genuine.size:,} genuine and "
        f"{trials.impostor.size:,} impostor pairs"
    )
    groups = identity_groups(scored.labels)
    fars, frrs = [], []
    for s in range(splits):
        order = np.random.default_rng(2000 + s).permutation(len(groups))
        half = len(groups) // 2
        a, b = (np.concatenate([groups[i] for i in part]) for part in (order[:half], order[half:]))
        threshold = calibrate(Trials.all_pairs(scored.embeddings[a], scored.labels[a], model.distance), 0.001).value
        far, frr = error_rates(
            Trials.all_pairs(scored.embeddings[b], scored.labels[b], model.distance), np.array([threshold])
        )
        fars.append(far[0])
        frrs.append(frr[0])
    print(
        f"  1:1 cross-fitted (FAR 0.1% on half the identities, {splits} draws): FAR {statistics.mean(fars):.3%} "
        f"(worst {max(fars):.3%}), FRR {statistics.mean(frrs):.2%}"
    )


def claims(model: Model, scored: ScoredPairs, splits: int, quick: bool) -> None:
    embeddings, labels, distance = scored.embeddings, scored.labels, model.distance
    record = model.card.threshold
    groups = identity_groups(labels)
    rounds = 5 if quick else 200
    halves = []  # per split: the points calibrated on one half of the identities, the other half's rows
    for s in range(splits):
        order = np.random.default_rng(6000 + s).permutation(len(groups))
        half = len(groups) // 2
        a, b = (np.concatenate([groups[i] for i in part]) for part in (order[:half], order[half:]))
        halves.append((calibrate_claims(embeddings[a], labels[a], distance, 0.001), b))
    for samples_each in (point.samples_each for point in record.by_samples):
        if not all(any(p.samples_each == samples_each for p in points) for points, _ in halves):
            continue  # a half whose identities have too few samples for claims of this many
        drawn_claims = score_galleries(embeddings, labels, distance, 1, samples_each, rounds, seed=7)
        far_pairs, far_own = (drawn_claims.at(t)[1] for t in (record.value, record.for_samples(samples_each)))
        frr_own = 1 - drawn_claims.at(record.for_samples(samples_each))[0]
        held_out = []
        for s, (points, b) in enumerate(halves):
            (point,) = [p for p in points if p.samples_each == samples_each]
            measured = score_galleries(embeddings[b], labels[b], distance, 1, samples_each, rounds, seed=s)
            held_out.append(measured.at(point.threshold))
        print(
            f"  1:1 claims of {samples_each} samples (centroid): FAR {far_pairs:.3%} at the pairs' threshold; "
            f"at the model's for {samples_each}, FAR {far_own:.3%}, FRR {frr_own:.2%}; cross-fitted ({splits} draws) "
            f"FAR {statistics.mean(v[1] for v in held_out):.3%} (worst {max(v[1] for v in held_out):.3%}), "
            f"FRR {statistics.mean(1 - v[0] for v in held_out):.2%}"
        )


def eval_cost(model: Model, scored: ScoredPairs, samples: int) -> None:
    """Seconds eval's open-set figures take on `samples` samples (the data's, repeated as new identities)."""
    copies = int(np.ceil(samples / len(scored.labels)))
    rng = np.random.default_rng(0)
    noise = [rng.normal(scale=0.05, size=scored.embeddings.shape) for _ in range(copies)]
    embeddings = np.concatenate([scored.embeddings + n for n in noise])[:samples]
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    labels = np.concatenate([scored.labels + c * (scored.labels.max() + 1) for c in range(copies)])[:samples]
    started = time.perf_counter()
    measured = open_set_rates(embeddings.astype(np.float32), labels, model.distance, model.card.open_set.threshold)
    sizes = ", ".join(f"{r.identities}x{r.samples_each}" for r in measured)
    print(
        f"  eval's open-set figures on {samples:,} samples: {time.perf_counter() - started:.1f} s (galleries {sizes})"
    )


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--splits", type=int, default=50)
    args = parser.parse_args()
    splits = 2 if args.quick else args.splits
    with tempfile.TemporaryDirectory() as folder:
        data = quick_view(args.data, Path(folder) / "quick", identities=30, files=4) if args.quick else args.data
        for name, (ref, enrolled) in PROTOCOLS.items():
            root = data / name
            if not root.is_dir():
                print(f"{name}: not found under {data}; skipped")
                continue
            model = load_model(ref)
            scored = embedded(model, corrected_view(root, Path(folder) / "corrected"))
            enrolled = len(scored.names) // 2 if args.quick else enrolled
            print(f"{name} ({len(scored.names)} identities, {len(scored.labels)} samples), {ref}:")
            open_set(model, ref, scored, enrolled, splits)
            cross_fitted(model, scored, splits)
            growth(model, scored, args.quick)
            alternatives(model, scored, splits)
            one_to_one(model, scored, 2 if args.quick else 10)
            claims(model, scored, 2 if args.quick else 10, args.quick)
            if name == "celeba_subset":
                eval_cost(model, scored, 600 if args.quick else 6600)


if __name__ == "__main__":
    main()

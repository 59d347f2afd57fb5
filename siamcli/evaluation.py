"""Evaluation of a model on identities it was not trained on: verification and one-shot identification,
with intervals from resampling identities. Every metric reads one `Trials`, sorted once.

Up to EXACT_PAIRS pairs of samples (about 2,000 samples) every pair is scored. Beyond, every genuine
pair is, with IMPOSTOR_SAMPLE impostor pairs drawn within each pair of identities in proportion
(seeded, and said in the output): memory and time then grow with the samples, not with their square.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from siamcli.core.distances import Distance
from siamcli.core.metrics import bootstrap_interval, min_dcf, one_shot_episodes, rates_at, roc_auc, tar_at_far
from siamcli.core.thresholds import accepts, equal_error_rate
from siamcli.core.trials import (
    Trials,
    genuine_pairs,
    impostor_pair_count,
    paired_distances,
    stratified_impostor_pairs,
)
from siamcli.data.dataset import Dataset, require_pairs_left, require_pairs_possible
from siamcli.data.pairs import Pair
from siamcli.errors import SiamcliError
from siamcli.modalities.base import warn_left_out
from siamcli.model import Model

N_WAYS = (5, 10, 20)
FAR_TARGETS = (1e-2, 1e-3, 1e-4)
WORST_SHOWN = 10
EXACT_PAIRS = 2_000_000
IMPOSTOR_SAMPLE = 1_000_000


@dataclass
class EvaluationSet:
    """The trials scored, and the samples' embeddings (one-shot episodes draw from them)."""

    trials: Trials
    embeddings: np.ndarray
    labels: np.ndarray  # identity index of each sample
    names: list[str]  # identity names, by index
    distance: Distance
    impostors_in_data: int  # impostor pairs the data holds: more than the trials when they were sampled
    seed: int = 0  # of the impostor draw

    @property
    def impostor_sampling(self) -> dict[str, Any] | None:
        scored = int(self.trials.impostor.size)
        if scored >= self.impostors_in_data:
            return None
        return {
            "scored": scored,
            "in_data": self.impostors_in_data,
            "stratified_by": "pair of identities",
            "seed": self.seed,
        }


def on_dataset(model: Model, dataset: Dataset, seed: int = 0) -> EvaluationSet:
    """Every genuine pair of the dataset, and every impostor pair (or, above EXACT_PAIRS pairs, a
    stratified draw of IMPOSTOR_SAMPLE of them, seeded)."""
    require_pairs_possible(dataset)
    paths, labels = dataset.samples()
    label_of = dict(zip(paths, labels))
    rows, kept, left_out = [], [], []
    for chunk in model.embed_each(paths):
        for unusable in chunk.unusable:
            if not unusable.nothing_found:  # a corrupt file is an error; a photo without a face is left out
                raise SiamcliError(unusable.problem)
            left_out.append(unusable.problem)
        rows.append(chunk.embeddings)
        kept += [label_of[path] for path in chunk.paths]
    require_pairs_left(dataset.root, np.asarray(kept, dtype=np.int64), left_out, len(paths))
    warn_left_out(left_out, len(paths))
    return score_all_pairs(np.concatenate(rows), np.asarray(kept), dataset.names, model.distance, seed)


def score_all_pairs(
    embeddings: np.ndarray,
    labels: np.ndarray,
    names: list[str],
    distance: Distance,
    seed: int = 0,
    exact_pairs: int = EXACT_PAIRS,
    impostor_sample: int = IMPOSTOR_SAMPLE,
) -> EvaluationSet:
    """Every pair of the samples, or above `exact_pairs` pairs every genuine one and a stratified draw
    of `impostor_sample` impostor ones."""
    n = len(labels)
    impostors = impostor_pair_count(labels)
    if n * (n - 1) // 2 <= exact_pairs:
        trials = Trials.all_pairs(embeddings, labels, distance)
    else:
        same_first, same_second = genuine_pairs(labels)
        other_first, other_second = stratified_impostor_pairs(labels, impostor_sample, np.random.default_rng(seed))
        first, second = np.concatenate([same_first, other_first]), np.concatenate([same_second, other_second])
        trials = Trials.of(
            paired_distances(embeddings, first, second, distance),
            labels[first] == labels[second],
            np.stack([labels[first], labels[second]], axis=1),
        )
    return EvaluationSet(trials, embeddings, labels, names, distance, impostors, seed)


def on_pairs(model: Model, pairs: list[Pair]) -> EvaluationSet:
    """Exactly the listed pairs. A file's identity is its folder's name."""
    files = sorted({p for pair in pairs for p in (pair.path_a, pair.path_b)}, key=str)
    index = {path: i for i, path in enumerate(files)}
    embeddings = model.embed(files)
    a = np.array([index[pair.path_a] for pair in pairs])
    b = np.array([index[pair.path_b] for pair in pairs])
    folders = sorted({path.parent.name for path in files})
    labels = np.array([folders.index(path.parent.name) for path in files])
    same = np.array([pair.same for pair in pairs])
    distances = paired_distances(embeddings, a, b, model.distance)
    trials = Trials.of(distances, same, np.stack([labels[a], labels[b]], axis=1))
    return EvaluationSet(trials, embeddings, labels, folders, model.distance, int(np.sum(~same)))


def per_identity(evaluated: EvaluationSet, threshold: float) -> list[dict[str, Any]]:
    """Each identity's false-reject rate (its genuine trials) and false-accept rate (impostor trials it
    is in) at the threshold, worst false-reject rate first."""
    trials, n = evaluated.trials, len(evaluated.names)
    accepted = accepts(trials.distances, threshold)
    first, second = trials.identities[:, 0], trials.identities[:, 1]

    def per_side(mask: np.ndarray, both_sides: bool) -> np.ndarray:
        counts = np.bincount(first[mask], minlength=n)
        return counts + np.bincount(second[mask], minlength=n) if both_sides else counts

    genuine, impostor = per_side(trials.same, False), per_side(~trials.same, True)
    rejected, let_in = per_side(trials.same & ~accepted, False), per_side(~trials.same & accepted, True)
    samples = np.bincount(evaluated.labels, minlength=n)
    rows = [
        {
            "identity": name,
            "samples": int(samples[i]),
            "genuine_pairs": int(genuine[i]),
            "frr": float(rejected[i] / genuine[i]) if genuine[i] else None,
            "far": float(let_in[i] / impostor[i]) if impostor[i] else None,
        }
        for i, name in enumerate(evaluated.names)
    ]
    return sorted(rows, key=lambda row: (-1 if row["frr"] is None else -row["frr"], row["identity"]))


def metrics(
    model: Model,
    evaluated: EvaluationSet,
    episodes: int = 2000,
    seed: int = 0,
    p_target: float = 0.01,
    rounds: int = 200,
    group_separator: str | None = None,
) -> dict[str, Any]:
    """Every metric of the model on `evaluated`. With `group_separator`, identities are grouped by their
    name up to its last separator (Omniglot's `Latin_character01`: `Latin`), and one-shot accuracy
    is also reported with every episode drawn within one group."""
    trials = evaluated.trials
    n_identities = len(evaluated.names)
    eer, eer_threshold = equal_error_rate(trials)
    dcf, dcf_threshold = min_dcf(trials, p_target)
    identifiable = int(np.sum(np.bincount(evaluated.labels, minlength=n_identities) >= 2))

    def eer_of(multiplicity: np.ndarray) -> float:
        return equal_error_rate(trials, trials.weights(multiplicity))[0]

    def one_shot(within: np.ndarray | None) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
        accuracy: dict[str, float] = {}
        interval: dict[str, tuple[float, float]] = {}
        for n_way in (n for n in N_WAYS if n <= identifiable):
            rng = np.random.default_rng(seed)
            try:
                correct, target = one_shot_episodes(
                    evaluated.embeddings, evaluated.labels, n_way, episodes, rng, evaluated.distance, within
                )
            except ValueError:  # within groups: none holds n_way identities
                continue
            accuracy[f"{n_way}-way"] = float(correct.mean())

            def accuracy_of(
                multiplicity: np.ndarray, correct: np.ndarray = correct, target: np.ndarray = target
            ) -> float:
                weights = multiplicity[target]  # each episode counts as often as its query's identity was drawn
                if not weights.any():
                    raise ValueError("no episode's identity was drawn")
                return float(np.average(correct, weights=weights))

            interval[f"{n_way}-way"] = bootstrap_interval(accuracy_of, n_identities, rounds, seed)
        return accuracy, interval

    interval = {"level": 0.95, "rounds": rounds, "over": "identities", "seed": seed}
    grouped: dict[str, Any] = {}
    if group_separator is not None:
        names = [name.rsplit(group_separator, 1)[0] for name in evaluated.names]
        _, within = np.unique(names, return_inverse=True)
        accuracy, within_interval = one_shot(within)
        grouped = {
            "groups": {"separator": group_separator, "count": len(set(names))},
            "one_shot_within_groups": accuracy,
            "one_shot_within_groups_interval": within_interval,
        }
    accuracy, accuracy_interval = one_shot(None)
    return {
        "identities": n_identities,
        "samples": len(evaluated.labels),
        "genuine_pairs": int(trials.genuine.size),
        "impostor_pairs": int(trials.impostor.size),
        "impostor_sampling": evaluated.impostor_sampling,  # None: every impostor pair was scored
        "roc_auc": roc_auc(trials),
        "eer": eer,
        "eer_interval": bootstrap_interval(eer_of, n_identities, rounds, seed),
        "eer_threshold": eer_threshold,
        "min_dcf": {"p_target": p_target, "value": dcf, "threshold": dcf_threshold},
        # None where there are fewer than 1/FAR impostor pairs: the rate would be a guess.
        "tar_at_far": {f"{far:g}": tar_at_far(trials, far) for far in FAR_TARGETS},
        "threshold": model.card.threshold.to_json(),
        "at_threshold": rates_at(trials, model.threshold),
        "one_shot": accuracy,
        "one_shot_interval": accuracy_interval,
        **grouped,
        "intervals": interval,
        "episodes": episodes,
        "seed": seed,
        "per_identity": per_identity(evaluated, model.threshold),
    }

"""Evaluation of a model on identities it was not trained on: verification and one-shot identification,
with intervals from resampling identities. Every metric reads one `Trials`, sorted once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from siamcli.core.metrics import bootstrap_interval, min_dcf, one_shot_episodes, rates_at, roc_auc, tar_at_far
from siamcli.core.thresholds import accepts, equal_error_rate
from siamcli.core.trials import Trials
from siamcli.data.dataset import Dataset, require_pairs_possible
from siamcli.data.pairs import Pair
from siamcli.model import Model

N_WAYS = (5, 10, 20)
FAR_TARGETS = (1e-2, 1e-3, 1e-4)
WORST_SHOWN = 10


@dataclass
class EvaluationSet:
    """The trials scored, and the samples' own distance matrix (for one-shot identification)."""

    trials: Trials
    matrix: np.ndarray  # distances between every two samples
    labels: np.ndarray  # identity index of each sample
    names: list[str]  # identity names, by index


def on_dataset(model: Model, dataset: Dataset) -> EvaluationSet:
    """Every pair of every sample of the dataset."""
    require_pairs_possible(dataset)
    paths, labels = dataset.samples()
    embeddings = model.embed_decoded(model.decode(paths, labels))
    label_array = np.asarray(labels)
    matrix = np.asarray(model.distance.pairwise(embeddings, embeddings))
    return EvaluationSet(Trials.from_matrix(matrix, label_array), matrix, label_array, dataset.names)


def on_pairs(model: Model, pairs: list[Pair]) -> EvaluationSet:
    """Exactly the listed pairs. A file's identity is its folder's name."""
    files = sorted({p for pair in pairs for p in (pair.path_a, pair.path_b)}, key=str)
    index = {path: i for i, path in enumerate(files)}
    embeddings = model.embed(files)
    a = np.array([index[pair.path_a] for pair in pairs])
    b = np.array([index[pair.path_b] for pair in pairs])
    folders = sorted({path.parent.name for path in files})
    labels = np.array([folders.index(path.parent.name) for path in files])
    matrix = np.asarray(model.distance.pairwise(embeddings, embeddings))
    same = np.array([pair.same for pair in pairs])
    trials = Trials.of(matrix[a, b], same, np.stack([labels[a], labels[b]], axis=1))
    return EvaluationSet(trials, matrix, labels, folders)


def per_identity(evaluated: EvaluationSet, threshold: float) -> list[dict[str, Any]]:
    """Each identity's false-reject rate (its genuine trials) and false-accept rate (impostor trials it
    is in) at the threshold, worst false-reject rate first."""
    trials = evaluated.trials
    accepted = accepts(trials.distances, threshold)
    rows = []
    for index, name in enumerate(evaluated.names):
        involved = (trials.identities == index).any(axis=1)
        genuine, impostor = involved & trials.same, involved & ~trials.same
        rows.append(
            {
                "identity": name,
                "samples": int(np.sum(evaluated.labels == index)),
                "genuine_pairs": int(genuine.sum()),
                "frr": float(np.mean(~accepted[genuine])) if genuine.any() else None,
                "far": float(np.mean(accepted[impostor])) if impostor.any() else None,
            }
        )
    return sorted(rows, key=lambda row: (-1 if row["frr"] is None else -row["frr"], row["identity"]))


def metrics(
    model: Model,
    evaluated: EvaluationSet,
    episodes: int = 2000,
    seed: int = 0,
    p_target: float = 0.01,
    rounds: int = 200,
) -> dict[str, Any]:
    trials = evaluated.trials
    n_identities = len(evaluated.names)
    eer, eer_threshold = equal_error_rate(trials)
    dcf, dcf_threshold = min_dcf(trials, p_target)
    identifiable = int(np.sum(np.bincount(evaluated.labels, minlength=n_identities) >= 2))

    def eer_of(multiplicity: np.ndarray) -> float:
        return equal_error_rate(trials, trials.weights(multiplicity))[0]

    one_shot: dict[str, float] = {}
    one_shot_interval: dict[str, tuple[float, float]] = {}
    for n_way in (n for n in N_WAYS if n <= identifiable):
        rng = np.random.default_rng(seed)
        correct, target = one_shot_episodes(evaluated.matrix, evaluated.labels, n_way, episodes, rng)
        one_shot[f"{n_way}-way"] = float(correct.mean())

        def accuracy_of(multiplicity: np.ndarray, correct: np.ndarray = correct, target: np.ndarray = target) -> float:
            weights = multiplicity[target]  # each episode counts as often as its query's identity was drawn
            if not weights.any():
                raise ValueError("no episode's identity was drawn")
            return float(np.average(correct, weights=weights))

        one_shot_interval[f"{n_way}-way"] = bootstrap_interval(accuracy_of, n_identities, rounds, seed)

    interval = {"level": 0.95, "rounds": rounds, "over": "identities", "seed": seed}
    return {
        "identities": n_identities,
        "samples": len(evaluated.labels),
        "genuine_pairs": int(trials.genuine.size),
        "impostor_pairs": int(trials.impostor.size),
        "roc_auc": roc_auc(trials),
        "eer": eer,
        "eer_interval": bootstrap_interval(eer_of, n_identities, rounds, seed),
        "eer_threshold": eer_threshold,
        "min_dcf": {"p_target": p_target, "value": dcf, "threshold": dcf_threshold},
        # None where there are fewer than 1/FAR impostor pairs: the rate would be a guess.
        "tar_at_far": {f"{far:g}": tar_at_far(trials, far) for far in FAR_TARGETS},
        "threshold": model.card.threshold.to_json(),
        "at_threshold": rates_at(trials, model.threshold),
        "one_shot": one_shot,
        "one_shot_interval": one_shot_interval,
        "intervals": interval,
        "episodes": episodes,
        "seed": seed,
        "per_identity": per_identity(evaluated, model.threshold),
    }

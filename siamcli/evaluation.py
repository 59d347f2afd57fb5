"""Evaluation of a model on identities it was not trained on: verification and one-shot identification,
with intervals from resampling identities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from siamcli.core.metrics import (
    bootstrap_interval,
    min_dcf,
    one_shot_episodes,
    rates_at,
    roc_auc,
    tar_at_far,
)
from siamcli.core.thresholds import equal_error_rate, split_scores
from siamcli.data.dataset import Dataset, require_pairs_possible
from siamcli.data.pairs import Pair
from siamcli.model import Model

N_WAYS = (5, 10, 20)
FAR_TARGETS = (1e-2, 1e-3, 1e-4)
WORST_SHOWN = 10


@dataclass
class Scores:
    """Distances of the pairs scored, with the identity of each side, and the files' own distances."""

    distances: np.ndarray  # one per pair, sorted ascending
    same: np.ndarray
    pair_identities: np.ndarray  # (pairs, 2): identity index of each side
    matrix: np.ndarray  # distances between every two files, for one-shot identification
    labels: np.ndarray  # identity index of each file
    names: list[str]  # identity names, by index

    def pair_weights(self, multiplicity: np.ndarray) -> np.ndarray:
        """How often each pair occurs when identity i is drawn multiplicity[i] times."""
        a, b = multiplicity[self.pair_identities[:, 0]], multiplicity[self.pair_identities[:, 1]]
        return np.where(self.same, a, a * b).astype(np.float64)


def _sorted_scores(distances: np.ndarray, same: np.ndarray, pair_identities: np.ndarray, **files: Any) -> Scores:
    # Sorted once, so that the bootstrap's many ROC curves sort already-sorted data.
    order = np.argsort(distances, kind="stable")
    return Scores(distances[order], same[order], pair_identities[order], **files)


def scores_on_dataset(model: Model, dataset: Dataset) -> Scores:
    """Every pair of every sample of the dataset."""
    require_pairs_possible(dataset)
    paths, labels = dataset.samples()
    embeddings = model.embed_samples(model.load_samples(paths, labels))
    label_array = np.asarray(labels)
    matrix = np.asarray(model.distance.pairwise(embeddings, embeddings))
    a, b = np.triu_indices(len(label_array), k=1)
    identities = np.stack([label_array[a], label_array[b]], axis=1)
    return _sorted_scores(
        matrix[a, b],
        label_array[a] == label_array[b],
        identities,
        matrix=matrix,
        labels=label_array,
        names=dataset.names,
    )


def scores_on_pairs(model: Model, pairs: list[Pair]) -> Scores:
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
    identities = np.stack([labels[a], labels[b]], axis=1)
    return _sorted_scores(matrix[a, b], same, identities, matrix=matrix, labels=labels, names=folders)


def per_identity(scores: Scores, threshold: float) -> list[dict[str, Any]]:
    """Each identity's false-reject rate (its genuine pairs) and false-accept rate (impostor pairs it is
    in) at the threshold, worst false-reject rate first."""
    accepted = scores.distances <= threshold
    rows = []
    for index, name in enumerate(scores.names):
        involved = (scores.pair_identities == index).any(axis=1)
        genuine, impostor = involved & scores.same, involved & ~scores.same
        rows.append(
            {
                "identity": name,
                "samples": int(np.sum(scores.labels == index)),
                "genuine_pairs": int(genuine.sum()),
                "frr": float(np.mean(~accepted[genuine])) if genuine.any() else None,
                "far": float(np.mean(accepted[impostor])) if impostor.any() else None,
            }
        )
    return sorted(rows, key=lambda row: (-1 if row["frr"] is None else -row["frr"], row["identity"]))


def metrics(
    model: Model,
    scores: Scores,
    episodes: int = 2000,
    seed: int = 0,
    p_target: float = 0.01,
    rounds: int = 200,
) -> dict[str, Any]:
    genuine, impostor = split_scores(scores.distances, scores.same)
    n_identities = len(scores.names)
    eer, eer_threshold = equal_error_rate(scores.distances, scores.same)
    dcf, dcf_threshold = min_dcf(scores.distances, scores.same, p_target)
    identifiable = int(np.sum(np.bincount(scores.labels, minlength=n_identities) >= 2))

    def eer_of(multiplicity: np.ndarray) -> float:
        return equal_error_rate(scores.distances, scores.same, scores.pair_weights(multiplicity))[0]

    one_shot: dict[str, float] = {}
    one_shot_interval: dict[str, tuple[float, float]] = {}
    for n_way in (n for n in N_WAYS if n <= identifiable):
        rng = np.random.default_rng(seed)
        correct, target = one_shot_episodes(scores.matrix, scores.labels, n_way, episodes, rng)
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
        "samples": len(scores.labels),
        "genuine_pairs": int(genuine.size),
        "impostor_pairs": int(impostor.size),
        "roc_auc": roc_auc(scores.distances, scores.same),
        "eer": eer,
        "eer_interval": bootstrap_interval(eer_of, n_identities, rounds, seed),
        "eer_threshold": eer_threshold,
        "min_dcf": {"p_target": p_target, "value": dcf, "threshold": dcf_threshold},
        # None where there are fewer than 1/FAR impostor pairs: the rate would be a guess.
        "tar_at_far": {f"{far:g}": tar_at_far(scores.distances, scores.same, far) for far in FAR_TARGETS},
        "threshold": model.meta["threshold"],
        "at_threshold": rates_at(scores.distances, scores.same, model.threshold),
        "one_shot": one_shot,
        "one_shot_interval": one_shot_interval,
        "intervals": interval,
        "episodes": episodes,
        "seed": seed,
        "per_identity": per_identity(scores, model.threshold),
    }

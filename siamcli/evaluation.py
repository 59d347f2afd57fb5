"""Evaluation of a model on identities it was not trained on: verification and one-shot identification."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from siamcli.core.distances import all_pairs
from siamcli.core.metrics import one_shot_accuracy, rates_at, roc_auc, tar_at_far
from siamcli.core.thresholds import equal_error_rate
from siamcli.data.dataset import Dataset, require_pairs_possible
from siamcli.data.pairs import Pair
from siamcli.model import Model

N_WAYS = (5, 10, 20)
FAR_TARGETS = (0.01, 0.001)


@dataclass
class Scores:
    distances: np.ndarray
    same: np.ndarray
    embeddings: np.ndarray  # one row per distinct file
    labels: np.ndarray  # identity index of each row
    n_identities: int


def scores_on_dataset(model: Model, dataset: Dataset) -> Scores:
    """Every pair of every sample of the dataset."""
    require_pairs_possible(dataset)
    paths, labels = dataset.samples()
    embeddings = model.embed_samples(model.load_samples(paths, labels))
    label_array = np.asarray(labels)
    distances, same = all_pairs(embeddings, label_array, model.distance)
    return Scores(distances, same, embeddings, label_array, len(dataset.identities))


def scores_on_pairs(model: Model, pairs: list[Pair]) -> Scores:
    """Exactly the listed pairs. A file's identity, for one-shot identification, is its folder's name."""
    files = sorted({p for pair in pairs for p in (pair.path_a, pair.path_b)}, key=str)
    index = {path: i for i, path in enumerate(files)}
    embeddings = model.embed(files)
    a = np.array([index[pair.path_a] for pair in pairs])
    b = np.array([index[pair.path_b] for pair in pairs])
    distances = np.asarray(model.distance.paired(embeddings[a], embeddings[b]))
    folders = sorted({path.parent.name for path in files})
    labels = np.array([folders.index(path.parent.name) for path in files])
    same = np.array([pair.same for pair in pairs])
    return Scores(distances, same, embeddings, labels, len(folders))


def metrics(model: Model, scores: Scores, episodes: int = 2000, seed: int = 0) -> dict[str, Any]:
    eer, eer_threshold = equal_error_rate(scores.distances, scores.same)
    identifiable = sum(1 for label in np.unique(scores.labels) if np.sum(scores.labels == label) >= 2)
    return {
        "identities": scores.n_identities,
        "samples": len(scores.labels),
        "genuine_pairs": int(scores.same.sum()),
        "impostor_pairs": int((~scores.same).sum()),
        "roc_auc": roc_auc(scores.distances, scores.same),
        "eer": eer,
        "eer_threshold": eer_threshold,
        "tar_at_far": {f"{far:g}": tar_at_far(scores.distances, scores.same, far) for far in FAR_TARGETS},
        "threshold": model.meta["threshold"],
        "at_threshold": rates_at(scores.distances, scores.same, model.threshold),
        "one_shot": {
            f"{n}-way": one_shot_accuracy(scores.embeddings, scores.labels, n, episodes, seed, model.distance)
            for n in N_WAYS
            if n <= identifiable
        },
        "episodes": episodes,
        "seed": seed,
    }

"""Scoring probes against enrolled identities: nearest enrolled sample, or the identity's centroid."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from siamcli.core.distances import Distance

SCORES = ("nearest", "centroid")


@dataclass
class Enrolled:
    """Enrolled embeddings, rows grouped so that each identity's samples are contiguous."""

    names: list[str]  # one per identity
    embeddings: np.ndarray  # (samples, dim)
    starts: np.ndarray  # first row of each identity

    @classmethod
    def from_rows(cls, identities: Sequence[str], embeddings: np.ndarray) -> Enrolled:
        names, codes = np.unique(np.asarray(identities, dtype=object), return_inverse=True)
        order = np.argsort(codes, kind="stable")
        starts = np.searchsorted(codes[order], np.arange(len(names)))
        return cls([str(name) for name in names], embeddings[order], starts)

    def __len__(self) -> int:
        return len(self.names)

    def centroids(self) -> np.ndarray:
        sums = np.add.reduceat(self.embeddings.astype(np.float64), self.starts, axis=0)
        counts = np.diff(np.append(self.starts, len(self.embeddings)))
        means = sums / counts[:, None]
        norms = np.linalg.norm(self.embeddings, axis=1)
        if np.allclose(norms, 1.0, atol=1e-3):
            # Unit-length embeddings (every siamcli encoder): keep the centroid on the sphere too, so
            # the threshold calibrated on sample-to-sample distances stays on the same scale.
            means /= np.linalg.norm(means, axis=1, keepdims=True).clip(min=1e-12)
        return means.astype(np.float32)


def identity_distances(probes: np.ndarray, enrolled: Enrolled, distance: Distance, score: str) -> np.ndarray:
    """(probes, identities): each probe's distance to each identity."""
    if score == "centroid":
        return np.asarray(distance.pairwise(probes, enrolled.centroids()))
    if score != "nearest":
        raise ValueError(f"unknown score '{score}' (known: {', '.join(SCORES)})")
    return np.minimum.reduceat(np.asarray(distance.pairwise(probes, enrolled.embeddings)), enrolled.starts, axis=1)


def ranked(distances: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k smallest distances of a row, smallest first."""
    k = min(k, len(distances))
    nearest = np.argpartition(distances, k - 1)[:k]
    return nearest[np.argsort(distances[nearest], kind="stable")]

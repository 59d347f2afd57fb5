"""Scoring probes against enrolled identities: nearest enrolled sample, or the identity's centroid.

A search answers, for each probe, the k nearest identities and their distances. ExactSearch scores
every enrolled sample; a search index (the gallery's) answers the same question among millions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np

from siamcli.core.distances import Distance

SCORES = ("nearest", "centroid")

Nearest = list[tuple[str, float]]  # (identity, distance), nearest first


@dataclass
class Enrolled:
    """Enrolled embeddings, rows grouped so that each identity's samples are contiguous."""

    names: list[str]  # one per identity
    embeddings: np.ndarray  # (samples, dim)
    starts: np.ndarray  # first row of each identity

    @classmethod
    def from_grouped_rows(cls, identities: Sequence[str], embeddings: np.ndarray) -> Enrolled:
        """Rows already grouped by identity (as an index scan returns them)."""
        starts = [i for i in range(len(identities)) if i == 0 or identities[i] != identities[i - 1]]
        names = [identities[i] for i in starts]
        if len(set(names)) != len(names):
            raise ValueError("rows are not grouped by identity")
        return cls(names, embeddings, np.asarray(starts, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.names)

    @cached_property
    def squared_norms(self) -> np.ndarray:
        """Each enrolled embedding's squared norm: computed once, not once a probe (for 100,000
        samples it is most of a search's time)."""
        return (self.embeddings * self.embeddings).sum(-1)

    @cached_property
    def centroids(self) -> np.ndarray:
        """Each identity's mean embedding; computed once, however many chunks of probes are scored."""
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
        return np.asarray(distance.pairwise(probes, enrolled.centroids))
    if score != "nearest":
        raise ValueError(f"unknown score '{score}' (known: {', '.join(SCORES)})")
    to_samples = np.asarray(distance.pairwise(probes, enrolled.embeddings, enrolled.squared_norms))
    return np.minimum.reduceat(to_samples, enrolled.starts, axis=1)


def ranked(distances: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k smallest distances of a row, smallest first."""
    k = min(k, len(distances))
    nearest = np.argpartition(distances, k - 1)[:k]
    return nearest[np.argsort(distances[nearest], kind="stable")]


def nearest_identities(names: Sequence[str], distances: np.ndarray, k: int) -> Nearest:
    """The k nearest identities among samples named `names` at `distances`: each at its nearest sample."""
    best: dict[str, float] = {}
    for name, value in zip(names, distances.tolist()):
        if value < best.get(name, float("inf")):
            best[name] = value
    return sorted(best.items(), key=lambda item: item[1])[:k]


class Search(Protocol):
    def nearest(self, probes: np.ndarray, k: int) -> list[Nearest]:
        """Each probe's k nearest identities, nearest first."""
        ...


@dataclass
class ExactSearch:
    """Every enrolled sample (or centroid) scored: exact, and fastest below some tens of thousands."""

    enrolled: Enrolled
    distance: Distance
    score: str = "nearest"

    def nearest(self, probes: np.ndarray, k: int) -> list[Nearest]:
        distances = identity_distances(probes, self.enrolled, self.distance, self.score)
        return [[(self.enrolled.names[i], float(row[i])) for i in ranked(row, k)] for row in distances]

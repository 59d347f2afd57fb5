"""Trials: scored pairs of samples (genuine: same identity; impostor: two identities), sorted once.

Every threshold and metric reads one `Trials`: the distances are sorted when it is made and never
again, whatever the number of metrics or bootstrap replicates computed from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Trials:
    distances: np.ndarray  # ascending
    same: np.ndarray  # True for a genuine trial
    identities: np.ndarray  # (trials, 2): identity index of each side

    @classmethod
    def of(cls, distances: Any, same: Any, identities: Any = None) -> Trials:
        """Trials from unsorted distances; ValueError without a genuine or an impostor trial."""
        distances = np.asarray(distances, dtype=np.float64)
        same = np.asarray(same, dtype=bool)
        identities = np.zeros((distances.size, 2), np.int64) if identities is None else np.asarray(identities)
        if not same.any() or same.all():
            raise ValueError("needs at least one genuine and one impostor pair")
        order = np.argsort(distances, kind="stable")
        return cls(distances[order], same[order], identities[order])

    @classmethod
    def all_pairs(cls, embeddings: Any, labels: Any, distance: Any) -> Trials:
        """Every unordered pair of samples; `labels` are identity indices."""
        return cls.from_matrix(np.asarray(distance.pairwise(embeddings, embeddings)), np.asarray(labels))

    @classmethod
    def from_matrix(cls, matrix: np.ndarray, labels: np.ndarray) -> Trials:
        a, b = np.triu_indices(len(labels), k=1)
        return cls.of(matrix[a, b], labels[a] == labels[b], np.stack([labels[a], labels[b]], axis=1))

    def __len__(self) -> int:
        return self.distances.size

    @cached_property
    def genuine(self) -> np.ndarray:
        """Genuine distances, ascending."""
        return self.distances[self.same]

    @cached_property
    def impostor(self) -> np.ndarray:
        """Impostor distances, ascending."""
        return self.distances[~self.same]

    @cached_property
    def tie_ends(self) -> np.ndarray:
        """Index of the last trial of each distinct distance: a threshold accepts up to its last tie."""
        return np.append(np.flatnonzero(np.diff(self.distances)), self.distances.size - 1)

    def weights(self, multiplicity: np.ndarray) -> np.ndarray:
        """How often each trial occurs when identity i is drawn multiplicity[i] times (a bootstrap
        replicate): m_a for a genuine trial, m_a * m_b for an impostor trial."""
        a, b = multiplicity[self.identities[:, 0]], multiplicity[self.identities[:, 1]]
        return np.where(self.same, a, a * b).astype(np.float64)


@dataclass(frozen=True)
class Groups:
    """Samples grouped by identity: identity i's samples are by_identity[starts[i] : starts[i] + sizes[i]]
    (in index order), identities numbered as the sorted distinct labels."""

    sizes: np.ndarray
    starts: np.ndarray
    by_identity: np.ndarray

    @classmethod
    def of(cls, labels: Any) -> Groups:
        _, identity = np.unique(np.asarray(labels), return_inverse=True)
        sizes = np.bincount(identity).astype(np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        return cls(sizes, starts, np.argsort(identity, kind="stable"))

    def members(self, i: int) -> np.ndarray:
        return self.by_identity[self.starts[i] : self.starts[i] + self.sizes[i]]


def genuine_pairs(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of samples of one identity, as index arrays."""
    groups = Groups.of(labels)
    firsts, seconds = [], []
    for i in range(groups.sizes.size):
        members = groups.members(i)
        a, b = np.triu_indices(members.size, k=1)
        firsts.append(members[a])
        seconds.append(members[b])
    return np.concatenate(firsts), np.concatenate(seconds)


def impostor_pair_count(labels: np.ndarray) -> int:
    sizes = Groups.of(labels).sizes
    return int((sizes.sum() ** 2 - (sizes**2).sum()) // 2)


def stratified_impostor_pairs(
    labels: np.ndarray, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """About `count` distinct impostor pairs, drawn within each pair of identities in proportion to its
    pairs (random rounding): every impostor pair is drawn with the same probability, so rates measured
    on the draw estimate those of all pairs without weights, and no pair of identities is left out by
    design. Index arrays, never the whole pairs matrix."""
    groups = Groups.of(labels)
    sizes, starts = groups.sizes, groups.starts
    a, b = np.triu_indices(sizes.size, k=1)
    cells = sizes[a] * sizes[b]  # impostor pairs of each pair of identities
    fraction = min(1.0, count / cells.sum())
    drawn = np.floor(fraction * cells + rng.random(cells.size)).astype(np.int64)
    pair_of_draw = np.repeat(np.arange(cells.size), drawn)
    cell = (rng.random(pair_of_draw.size) * cells[pair_of_draw]).astype(np.int64)
    while True:  # a pair drawn twice is drawn again: rare, as only a small fraction is drawn
        key = pair_of_draw * cells.max() + cell
        order = np.argsort(key, kind="stable")
        repeated = order[1:][key[order[1:]] == key[order[:-1]]]
        if repeated.size == 0:
            break
        cell[repeated] = (rng.random(repeated.size) * cells[pair_of_draw[repeated]]).astype(np.int64)
    ia, ib = a[pair_of_draw], b[pair_of_draw]
    row, column = np.divmod(cell, sizes[ib])
    return groups.by_identity[starts[ia] + row], groups.by_identity[starts[ib] + column]


def paired_distances(
    embeddings: Any, first: np.ndarray, second: np.ndarray, distance: Any, chunk: int = 1 << 14
) -> np.ndarray:
    """Distances of the pairs (first[k], second[k]), a chunk at a time so memory stays flat."""
    parts = [
        np.asarray(distance.paired(embeddings[first[s : s + chunk]], embeddings[second[s : s + chunk]]))
        for s in range(0, first.size, chunk)
    ]
    return np.concatenate(parts) if parts else np.zeros(0)

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

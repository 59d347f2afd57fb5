"""Distances between embeddings, written once for numpy arrays and torch tensors alike.

Smaller is more similar for both, so one threshold rule (accept when distance <= threshold) serves all.
"""

from __future__ import annotations

from typing import Any, Protocol

Array = Any  # a numpy array or a torch tensor: only operators both share are used

_EPS = 1e-12  # keeps sqrt's gradient finite at zero distance (a sample paired with itself)


# Every encoder's embeddings have unit length: no two are further apart than this, by either distance.
# A threshold at or past it would accept anyone, so it decides nothing.
LARGEST = 2.0


class Distance(Protocol):
    name: str

    def paired(self, a: Array, b: Array) -> Array:
        """Distance between a[i] and b[i] for every i."""
        ...

    def pairwise(self, a: Array, b: Array, b_squared_norms: Array | None = None) -> Array:
        """Matrix of distances between every a[i] and every b[j]. `b_squared_norms`, when given, are
        b's rows' squared norms, computed once for a gallery searched many times."""
        ...


def _squared_norms(x: Array) -> Array:
    return (x * x).sum(-1)


class Euclidean:
    name = "euclidean"

    def paired(self, a: Array, b: Array) -> Array:
        return (_squared_norms(a - b).clip(min=_EPS)) ** 0.5

    def pairwise(self, a: Array, b: Array, b_squared_norms: Array | None = None) -> Array:
        # a's norms before b's: in training a and b are one tensor, and the order the graph is built in
        # is the order its gradients are summed in; this order is the one the shipped models trained with.
        a_squared = _squared_norms(a)
        b_squared = _squared_norms(b) if b_squared_norms is None else b_squared_norms
        squared = a_squared[:, None] + b_squared[None, :] - 2.0 * (a @ b.T)
        return squared.clip(min=_EPS) ** 0.5


class Cosine:
    name = "cosine"

    def paired(self, a: Array, b: Array) -> Array:
        return 1.0 - (a * b).sum(-1) / ((_squared_norms(a) * _squared_norms(b)).clip(min=_EPS) ** 0.5)

    def pairwise(self, a: Array, b: Array, b_squared_norms: Array | None = None) -> Array:
        norms_a = _squared_norms(a).clip(min=_EPS) ** 0.5
        norms_b = (_squared_norms(b) if b_squared_norms is None else b_squared_norms).clip(min=_EPS) ** 0.5
        return 1.0 - (a @ b.T) / (norms_a[:, None] * norms_b[None, :])


DISTANCES: dict[str, Distance] = {d.name: d for d in (Euclidean(), Cosine())}


def check_threshold(value: float) -> float:
    """A threshold that decides something: a distance from 0 up to (not including) the largest there is."""
    if not 0 <= value < LARGEST:
        raise ValueError(
            f"threshold {value:g} is outside the distances' range (0 to {LARGEST:g}): it would decide nothing"
        )
    return value


def get_distance(name: str) -> Distance:
    try:
        return DISTANCES[name]
    except KeyError:
        raise ValueError(f"unknown distance '{name}' (known: {', '.join(DISTANCES)})") from None

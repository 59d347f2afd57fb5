"""Batches of P identities x K samples, so every batch holds many genuine and impostor pairs."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def identity_batches(
    labels: np.ndarray, identities_per_batch: int, samples_per_identity: int, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """One epoch: every sample once, in groups of K from one identity, P groups to a batch.

    Each identity's samples are shuffled and cut into groups of K (a short last group is topped
    up from the same identity), the groups of all identities are shuffled, and consecutive groups
    of distinct identities form a batch.
    """
    labels = np.asarray(labels)
    groups: list[np.ndarray] = []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        for start in range(0, members.size, samples_per_identity):
            group = members[start : start + samples_per_identity]
            if group.size < samples_per_identity:
                extra = rng.choice(
                    members, size=samples_per_identity - group.size, replace=members.size < samples_per_identity
                )
                group = np.concatenate([group, extra])
            groups.append(group)
    order = rng.permutation(len(groups))
    pending: list[np.ndarray] = []
    for g in order:
        group = groups[g]
        if any(labels[group[0]] == labels[p[0]] for p in pending):
            continue  # keep one group per identity in a batch; that identity gets its turn next epoch
        pending.append(group)
        if len(pending) == identities_per_batch:
            yield np.concatenate(pending)
            pending = []
    if len(pending) >= 2:
        yield np.concatenate(pending)

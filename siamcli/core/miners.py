"""Pair miners: which pairs of a batch the loss sees, as index pairs (the loss computes the distances
and decides how to average them)."""

from __future__ import annotations

from typing import NamedTuple

import torch

from siamcli.core.distances import Distance
from siamcli.core.registry import Registry


class Pairs(NamedTuple):
    first: torch.Tensor  # row indices into the batch
    second: torch.Tensor


MINERS: Registry = Registry("miner")
register_miner = MINERS.register


def _upper(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    same = labels[:, None] == labels[None, :]
    return same, torch.ones_like(same).triu(diagonal=1)


@register_miner("all-pairs")
class AllPairs:
    """Every unordered pair of the batch."""

    def __init__(self, distance: Distance) -> None:
        self.distance = distance

    def __call__(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Pairs:
        _, upper = _upper(labels)
        return Pairs(*torch.nonzero(upper, as_tuple=True))


@register_miner("hard-impostors")
class HardImpostors:
    """Every genuine pair of the batch, and the impostor pairs that are still inside the margin.

    Impostors already beyond the margin contribute zero contrastive loss; leaving them out makes the
    impostor term an average over the hard cases only, so it does not fade as most pairs become easy.
    """

    def __init__(self, distance: Distance, margin: float = 1.0) -> None:
        if margin <= 0:
            raise ValueError("the margin must be positive")
        self.distance = distance
        self.margin = margin

    @torch.no_grad()
    def __call__(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Pairs:
        same, upper = _upper(labels)
        distances = self.distance.pairwise(embeddings, embeddings)
        keep = (same & upper) | (~same & upper & (distances < self.margin))
        return Pairs(*torch.nonzero(keep, as_tuple=True))

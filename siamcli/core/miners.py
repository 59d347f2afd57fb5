"""Pair miners: which pairs of a batch the loss sees."""

from __future__ import annotations

import torch

from siamcli.core.distances import Distance


class PairMiner:
    """Every genuine pair of the batch, and the impostor pairs that are still inside the margin.

    Impostors already beyond the margin contribute zero loss; leaving them out makes the impostor
    term an average over the hard cases only, so it does not fade as most pairs become easy.
    """

    def __init__(self, distance: Distance, margin: float) -> None:
        self.distance = distance
        self.margin = margin

    def __call__(self, embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Distances of the mined pairs, and whether each pair is genuine."""
        distances = self.distance.pairwise(embeddings, embeddings)
        same = labels[:, None] == labels[None, :]
        upper = torch.ones_like(same).triu(diagonal=1)
        genuine = same & upper
        hard_impostor = ~same & upper & (distances.detach() < self.margin)
        keep = genuine | hard_impostor
        return distances[keep], same[keep]

"""Losses over mined pairs, registered by name. A loss owns its distance and its reduction."""

from __future__ import annotations

import torch

from siamcli.core.distances import Distance
from siamcli.core.miners import Pairs
from siamcli.core.registry import Registry

LOSSES: Registry = Registry("loss")
register_loss = LOSSES.register


@register_loss("contrastive")
class ContrastiveLoss:
    """Hadsell, Chopra & LeCun (2006): genuine pairs are pulled together (d^2); impostor pairs are
    pushed beyond the margin (max(0, m - d)^2).

    The two terms are averaged separately and added: a batch of P identities holds far more impostor
    than genuine pairs, and a plain mean over all pairs would let the impostors drown the genuine term.
    """

    def __init__(self, distance: Distance, margin: float = 1.0) -> None:
        if margin <= 0:
            raise ValueError("the margin must be positive")
        self.distance = distance
        self.margin = margin

    def __call__(self, embeddings: torch.Tensor, labels: torch.Tensor, pairs: Pairs) -> torch.Tensor:
        # The whole matrix, then the pairs: one matmul, and the gradient of a pair is that of the matrix.
        distances = self.distance.pairwise(embeddings, embeddings)[pairs.first, pairs.second]
        same = labels[pairs.first] == labels[pairs.second]
        genuine = distances[same] ** 2
        impostor = (self.margin - distances[~same]).clamp(min=0) ** 2
        zero = distances.sum() * 0  # keeps the graph when a term has no pairs
        return (genuine.mean() if genuine.numel() else zero) + (impostor.mean() if impostor.numel() else zero)

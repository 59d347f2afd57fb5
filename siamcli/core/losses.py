"""The contrastive loss (Hadsell, Chopra & LeCun, 2006) over mined pairs."""

from __future__ import annotations

import torch


class ContrastiveLoss:
    """Genuine pairs are pulled together (d^2); impostor pairs are pushed beyond the margin (max(0, m - d)^2).

    The two terms are averaged separately and added: a batch of P identities holds far more impostor
    than genuine pairs, and a plain mean over all pairs would let the impostors drown the genuine term.
    """

    def __init__(self, margin: float = 1.0) -> None:
        if margin <= 0:
            raise ValueError("the margin must be positive")
        self.margin = margin

    def __call__(self, distances: torch.Tensor, same: torch.Tensor) -> torch.Tensor:
        same = same.bool()
        genuine = distances[same] ** 2
        impostor = (self.margin - distances[~same]).clamp(min=0) ** 2
        zero = distances.sum() * 0.0  # keeps the graph when a term has no pairs
        genuine_term = genuine.mean() if genuine.numel() else zero
        impostor_term = impostor.mean() if impostor.numel() else zero
        return genuine_term + impostor_term

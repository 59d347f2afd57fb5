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


@register_loss("supervised-contrastive")
class SupervisedContrastiveLoss:
    """Khosla et al. (2020): the contrastive loss over a batch at once. For each sample, a softmax over
    its similarity to every other sample it is mined with; the loss is minus the mean log-probability
    of its genuine partners. Every impostor of the batch competes with the genuine pairs in one
    softmax, so the hardest ones weigh the most, with no margin to tune.

    The similarity is -d^2 / (2 temperature): for unit embeddings and the euclidean distance, cosine
    similarity over the temperature, as in the paper, less a constant the softmax ignores.
    """

    def __init__(self, distance: Distance, temperature: float = 0.1) -> None:
        if temperature <= 0:
            raise ValueError("the temperature must be positive")
        self.distance = distance
        self.temperature = temperature

    def __call__(self, embeddings: torch.Tensor, labels: torch.Tensor, pairs: Pairs) -> torch.Tensor:
        n = labels.shape[0]
        mined = torch.zeros(n, n, dtype=torch.bool, device=labels.device)
        mined[pairs.first, pairs.second] = True
        mined |= mined.T.clone()
        genuine = mined & (labels[:, None] == labels[None, :])
        anchors = genuine.any(dim=1)  # only samples with a genuine partner say anything
        if not anchors.any():
            return embeddings.sum() * 0
        similarity = -(self.distance.pairwise(embeddings[anchors], embeddings) ** 2) / (2 * self.temperature)
        similarity = similarity.masked_fill(~mined[anchors], float("-inf"))  # each row keeps a genuine pair
        log_probability = similarity - similarity.logsumexp(dim=1, keepdim=True)
        genuine = genuine[anchors]
        return -(log_probability.masked_fill(~genuine, 0).sum(dim=1) / genuine.sum(dim=1)).mean()

"""Encoders: the shared-weight network of the Siamese pair, registered by name, and the ensemble.

Each modality registers its own networks (siamcli/modalities/*/encoders.py); an encoder maps a batch
of prepared inputs to L2-normalised embeddings, one row per input.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from siamcli.core.registry import Registry, Spec

ENCODERS: Registry[nn.Module] = Registry("encoder")
register_encoder = ENCODERS.register


def build_encoder(spec: Spec) -> nn.Module:
    return ENCODERS.build(spec)


class AdaptedProjection(nn.Module):
    """A pretrained encoder's last step, a projection (`linear`), and the one fine-tuning adds beside it
    (`adapted`, or None): the pretrained layers keep what thousands of identities taught them, and the
    contrastive loss shapes the adapted projection alone. Inference embeds with both side by side,
    scaled to unit length, so a squared distance is the mean of the two projections' (the pretrained
    and the adapted model ensembled, as WiSE-FT does); training mode returns the adapted one's alone.
    """

    linear: nn.Linear
    adapted: nn.Linear | None

    def load_pretrained(self, weights: dict[str, torch.Tensor]) -> None:
        """The pretrained network's weights (no adapted projection); the adapted one starts as its copy,
        so that before fine-tuning the model embeds as the pretrained one does."""
        self.load_state_dict(weights, strict=self.adapted is None)
        if self.adapted is not None:
            self.adapted.load_state_dict(self.linear.state_dict())

    def project(self, features: torch.Tensor, activation: Any = None) -> torch.Tensor:
        """The L2-normalised embedding of `features` (after `activation`, when the network has one)."""

        def embed(linear: nn.Linear) -> torch.Tensor:
            out = linear(features)
            return nn.functional.normalize(out if activation is None else activation(out), dim=1)

        embedding = embed(self.linear)
        if self.adapted is None:
            return embedding
        tuned = embed(self.adapted)
        if self.training:  # the loss shapes the adapted projection on its own
            return tuned
        return torch.cat([embedding, tuned], dim=1) / 2**0.5


@register_encoder("ensemble")
class Ensemble(nn.Module):
    """Independently trained encoders of one architecture, their embeddings concatenated.

    With a few dozen training identities, networks trained from different seeds disagree widely on
    unseen people; averaging them removes much of that variance. Each member's embedding is unit
    length and the concatenation is scaled by 1/sqrt(members), so the result is unit length too and
    its squared euclidean distance is the members' mean squared distance.
    """

    def __init__(self, member: dict[str, Any], members: int) -> None:
        super().__init__()
        spec = Spec(member["name"], member["params"])
        self.members = nn.ModuleList(build_encoder(spec) for _ in range(members))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        embeddings = [member(inputs) for member in self.members]
        return torch.cat(embeddings, dim=1) / len(embeddings) ** 0.5

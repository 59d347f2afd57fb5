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

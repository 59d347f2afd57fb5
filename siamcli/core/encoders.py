"""Encoders: the shared-weight network of the Siamese pair, registered by name.

A model file stores the name and the constructor's parameters, so loading rebuilds the exact
network without running any code from the file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

ENCODERS: dict[str, type[nn.Module]] = {}


def register_encoder(name: str) -> Callable[[type[nn.Module]], type[nn.Module]]:
    def register(cls: type[nn.Module]) -> type[nn.Module]:
        ENCODERS[name] = cls
        return cls

    return register


def build_encoder(name: str, params: dict[str, Any]) -> nn.Module:
    try:
        cls = ENCODERS[name]
    except KeyError:
        raise ValueError(f"unknown encoder '{name}' (known: {', '.join(ENCODERS)})") from None
    return cls(**params)


def _conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


@register_encoder("face-cnn")
class FaceCNN(nn.Module):
    """A small VGG-style CNN for grey face crops, ending in an L2-normalised embedding.

    Small on purpose: with a few dozen training identities, capacity turns into memorised faces.
    Global average pooling keeps the head tiny and tolerates small shifts of the face in the frame.
    With `mirror_average`, inference embeds the face and its mirror image and sums the two: faces
    are nearly symmetric, and the sum cancels the pose and lighting asymmetries that are not identity.
    """

    def __init__(
        self,
        embedding_dim: int = 64,
        width: int = 16,
        blocks: int = 3,
        dropout: float = 0.3,
        mirror_average: bool = True,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 1
        for block in range(blocks):
            out = width * 2**block
            layers += [_conv_block(channels, out), _conv_block(out, out), nn.MaxPool2d(2)]
            channels = out
        # BatchNorm1d on the pooled features centres them: pooled ReLU outputs share a large positive
        # mean, and without centring every face's embedding points the same way, differing only slightly.
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.BatchNorm1d(channels))
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(channels, embedding_dim))
        self.mirror_average = mirror_average

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        embedding = self.head(self.features(images))
        if self.mirror_average and not self.training:
            embedding = embedding + self.head(self.features(images.flip(-1)))
        return nn.functional.normalize(embedding, dim=1)


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
        self.members = nn.ModuleList(build_encoder(member["name"], member["params"]) for _ in range(members))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        embeddings = [member(inputs) for member in self.members]
        return torch.cat(embeddings, dim=1) / len(embeddings) ** 0.5

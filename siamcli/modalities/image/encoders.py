"""Image encoders (torch)."""

from __future__ import annotations

import torch
from torch import nn

from siamcli.core.encoders import register_encoder


def _conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


@register_encoder("small-vgg", "face-cnn")  # "face-cnn" until 0.1.0: files written then still load
class SmallVGG(nn.Module):
    """A small VGG-style CNN for grey images, ending in an L2-normalised embedding.

    Small on purpose: with a few dozen training identities, capacity turns into memorised faces.
    Global average pooling keeps the head tiny and tolerates small shifts of the face in the frame.
    With `mirror_average`, inference embeds the image and its mirror image and sums the two: faces
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

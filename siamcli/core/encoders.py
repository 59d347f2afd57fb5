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


def _dct_rows(size: int, first: int, count: int) -> torch.Tensor:
    """Rows first..first+count-1 of the orthonormal DCT-II matrix: log-mel bands to cepstral coefficients."""
    k = torch.arange(first, first + count, dtype=torch.float64)[:, None]
    n = torch.arange(size, dtype=torch.float64)[None, :]
    return (torch.cos(torch.pi * k * (2 * n + 1) / (2 * size)) * (2.0 / size) ** 0.5).float()


@register_encoder("audio-cnn")
class AudioCNN(nn.Module):
    """A time-delay network over cepstral frames, pooled to the mean and standard deviation of its
    features over time (x-vector style), so a clip of any length gives one embedding.

    - Each band's mean over the clip is subtracted first (cepstral mean normalisation): a microphone
      or a channel colours every frame alike, and what is alike in every frame is not the speaker.
    - A fixed DCT turns log-mel bands into cepstral coefficients (MFCCs, without c0, the loudness).
    - The head also sees the log standard deviation of each coefficient over the clip: on speakers
      never seen in training that statistic alone separates voices well (measured on LibriSpeech
      speakers kept out of training), and with few training speakers the network builds on it
      instead of having to rediscover it.
    """

    def __init__(
        self, n_mels: int = 40, n_ceps: int = 29, embedding_dim: int = 64, width: int = 64, dropout: float = 0.2
    ) -> None:
        super().__init__()
        self.register_buffer("dct", _dct_rows(n_mels, 1, n_ceps))

        def layer(c_in: int, c_out: int, kernel: int, dilation: int) -> list[nn.Module]:
            padding = dilation * (kernel - 1) // 2
            conv = nn.Conv1d(c_in, c_out, kernel, dilation=dilation, padding=padding, bias=False)
            return [conv, nn.BatchNorm1d(c_out), nn.ReLU(inplace=True)]

        self.frames = nn.Sequential(
            *layer(n_ceps, width, 5, 1),
            *layer(width, width, 3, 2),
            *layer(width, width, 3, 3),
            *layer(width, 2 * width, 1, 1),
        )
        pooled = 4 * width + n_ceps
        self.head = nn.Sequential(nn.BatchNorm1d(pooled), nn.Dropout(dropout), nn.Linear(pooled, embedding_dim))

    def forward(self, spectrograms: torch.Tensor) -> torch.Tensor:
        centred = spectrograms - spectrograms.mean(dim=-1, keepdim=True)
        cepstra = torch.einsum("cm,bmt->bct", self.dct, centred)
        features = self.frames(cepstra)
        feature_mean, feature_std = _mean_and_std(features)
        _, cepstral_std = _mean_and_std(cepstra)
        pooled = torch.cat([feature_mean, feature_std, cepstral_std.log()], dim=1)
        return nn.functional.normalize(self.head(pooled), dim=1)


def _mean_and_std(frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Over time (the last axis), written out so that the ONNX graph has no opset-specific std."""
    mean = frames.mean(dim=-1)
    return mean, ((frames - mean.unsqueeze(-1)) ** 2).mean(dim=-1).clamp(min=1e-6).sqrt()


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

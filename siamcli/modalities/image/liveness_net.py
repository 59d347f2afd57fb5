"""MiniFASNet (torch): the Silent-Face anti-spoofing networks, a MobileFaceNet-style classifier of an
80x80 crop around a face into three classes, of which index 1 is a real face.

Written from the shapes of the published state dicts and the MobileFaceNet design (Chen et al.
2018): a strided stem, inverted residual blocks of a 1x1 expansion, a 3x3 depthwise convolution and a
linear 1x1 projection, a global depthwise convolution instead of pooling, and a linear head. The
pruned widths of each block are parameters, so one class builds both networks shipped (V2, and V1SE,
whose last block of each stage re-weights its channels by squeeze-and-excitation). Module names follow
the checkpoints' keys so that they load strictly.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from siamcli.core.encoders import register_encoder


class ConvBlock(nn.Module):
    """Convolution (no bias), batch norm and, unless `linear`, a PReLU."""

    def __init__(
        self, inputs: int, outputs: int, kernel: int = 1, stride: int = 1, groups: int = 1, linear: bool = False
    ) -> None:
        super().__init__()
        padding = kernel // 2 if kernel == 3 else 0
        self.conv = nn.Conv2d(inputs, outputs, kernel, stride, padding, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(outputs)
        self.prelu = None if linear else nn.PReLU(outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return x if self.prelu is None else self.prelu(x)


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int, reduced: int) -> None:
        super().__init__()
        self.fc1, self.bn1 = nn.Conv2d(channels, reduced, 1, bias=False), nn.BatchNorm2d(reduced)
        self.fc2, self.bn2 = nn.Conv2d(reduced, channels, 1, bias=False), nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = self.bn1(self.fc1(x.mean(dim=(2, 3), keepdim=True)))
        return x * torch.sigmoid(self.bn2(self.fc2(torch.relu(weights))))


class InvertedBlock(nn.Module):
    """Expand (1x1), filter each channel (3x3, `stride`), project back (1x1, linear); with `residual`,
    plus its input (and, with `squeeze`, its channels re-weighted first)."""

    def __init__(self, inputs: int, expanded: int, outputs: int, stride: int, residual: bool, squeeze: int = 0) -> None:
        super().__init__()
        self.conv = ConvBlock(inputs, expanded)
        self.conv_dw = ConvBlock(expanded, expanded, 3, stride, groups=expanded)
        self.project = ConvBlock(expanded, outputs, linear=True)
        self.residual = residual
        if squeeze:
            self.se_module = SqueezeExcite(outputs, squeeze)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.project(self.conv_dw(self.conv(x)))
        if hasattr(self, "se_module"):
            out = self.se_module(out)
        return x + out if self.residual else out


class Stage(nn.Module):
    def __init__(self, channels: int, blocks: list[list[int]]) -> None:
        super().__init__()
        self.model = nn.Sequential(*(InvertedBlock(channels, e, channels, 1, True, s) for e, s in blocks))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


@register_encoder("minifasnet")
class MiniFASNet(nn.Module):
    """Logits of (spoof, real, spoof) for a batch of 80x80 BGR crops, pixel values 0 to 255.

    `transitions`: three [expanded, outputs] strided blocks; `stages`: three lists of [expanded,
    squeeze] residual blocks (squeeze 0: none), one after each transition."""

    def __init__(
        self,
        stem: int,
        transitions: list[list[int]],
        stages: list[list[list[int]]],
        head: int = 512,
        kernel: int = 5,
        embedding: int = 128,
        classes: int = 3,
    ) -> None:
        super().__init__()
        self.conv1 = ConvBlock(3, stem, 3, 2)
        self.conv2_dw = ConvBlock(stem, stem, 3, 1, groups=stem)
        channels = [stem] + [outputs for _, outputs in transitions]
        for index, name in enumerate(("23", "34", "45")):
            expanded, outputs = transitions[index]
            setattr(self, f"conv_{name}", InvertedBlock(channels[index], expanded, outputs, 2, False))
            setattr(self, f"conv_{name[1]}", Stage(outputs, stages[index]))
        self.conv_6_sep = ConvBlock(channels[-1], head)
        self.conv_6_dw = ConvBlock(head, head, kernel, groups=head, linear=True)
        self.linear = nn.Linear(head, embedding, bias=False)
        self.bn = nn.BatchNorm1d(embedding)
        self.prob = nn.Linear(embedding, classes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv2_dw(self.conv1(x))
        for name in ("23", "3", "34", "4", "45", "5", "6_sep", "6_dw"):
            x = getattr(self, f"conv_{name}")(x)
        return self.prob(self.bn(self.linear(x.flatten(1))))


def architecture(state: dict[str, Any]) -> dict[str, Any]:
    """MiniFASNet's parameters read from the shapes of a state dict (keys without `module.`)."""

    def width(key: str) -> int:
        return int(state[key].shape[0])

    transitions = [
        [width(f"conv_{n}.conv.conv.weight"), width(f"conv_{n}.project.conv.weight")] for n in ("23", "34", "45")
    ]
    stages = []
    for stage in ("3", "4", "5"):
        blocks, index = [], 0
        while f"conv_{stage}.model.{index}.conv.conv.weight" in state:
            prefix = f"conv_{stage}.model.{index}"
            squeeze = f"{prefix}.se_module.fc1.weight"
            blocks.append([width(f"{prefix}.conv.conv.weight"), width(squeeze) if squeeze in state else 0])
            index += 1
        stages.append(blocks)
    return {
        "stem": width("conv1.conv.weight"),
        "transitions": transitions,
        "stages": stages,
        "head": width("conv_6_sep.conv.weight"),
        "kernel": int(state["conv_6_dw.conv.weight"].shape[-1]),
        "embedding": width("linear.weight"),
        "classes": width("prob.weight"),
    }

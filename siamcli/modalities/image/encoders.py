"""Image encoders (torch)."""

from __future__ import annotations

import torch
from torch import nn

from siamcli.core.encoders import AdaptedProjection, register_encoder


def _conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


@register_encoder("small-vgg", "face-cnn")  # "face-cnn" until 0.1.0: files written then still load
class SmallVGG(nn.Module):
    """A small VGG-style CNN (grey images, or `channels` 3 for colour), ending in an L2-normalised embedding.

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
        channels: int = 1,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
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


class _FrozenConv(nn.Module):
    """A convolution whose weights never train, kept at half precision (the shipped face model stays
    under 30 MB; the converted embeddings move by less than 1e-5 in cosine) and computed in float32."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.stride, self.padding = stride, (kernel // 2 if stride == 1 else 0)  # dlib's default padding
        self.register_buffer("weight", torch.zeros(out_channels, in_channels, kernel, kernel, dtype=torch.float16))
        self.register_buffer("bias", torch.zeros(out_channels, dtype=torch.float16))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        weight, bias = self.weight.float(), self.bias.float()
        return nn.functional.conv2d(inputs, weight, bias, self.stride, self.padding)


class _Residual(nn.Module):
    """dlib's residual block: two 3x3 convolutions (the affine normalisations folded into them). A
    downsampling block's first convolution has stride 2 and no padding; its shortcut is a 2x2 average,
    with channels and rows past the block's output added to zeros, as dlib's add_prev does."""

    def __init__(self, in_channels: int, out_channels: int, down: bool) -> None:
        super().__init__()
        self.conv1 = _FrozenConv(in_channels, out_channels, 3, 2 if down else 1)
        self.conv2 = _FrozenConv(out_channels, out_channels, 3, 1)
        self.down = down

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        out = self.conv2(torch.relu(self.conv1(inputs)))
        if not self.down:
            return torch.relu(out + inputs)
        shortcut = nn.functional.avg_pool2d(inputs, 2)
        extra_channels = out.shape[1] - shortcut.shape[1]
        shortcut = nn.functional.pad(shortcut, (0, 0, 0, 0, 0, extra_channels))
        out = nn.functional.pad(out, (0, shortcut.shape[3] - out.shape[3], 0, shortcut.shape[2] - out.shape[2]))
        return torch.relu(out + shortcut)


# (output channels, downsampling) of each residual block of dlib's face recognition network
_DLIB_BLOCKS = (
    *((32, False),) * 3,
    (64, True), *((64, False),) * 3,
    (128, True), *((128, False),) * 2,
    (256, True), *((256, False),) * 2,
    (256, True),
)  # fmt: skip


@register_encoder("dlib-resnet")
class DlibResNet(AdaptedProjection):
    """dlib's face recognition ResNet (Davis King, 2017; trained on about 3 million faces of 7,485
    people), rebuilt layer by layer from its model file: 150x150 RGB face chips to 128 values, here
    L2-normalised.

    The convolutions never train: a few dozen people would make it forget what thousands taught.
    `adapted` adds the projection fine-tuning trains (siamcli.core.encoders.AdaptedProjection).
    """

    fold_onnx_constants = False  # the graph keeps the convolutions' half-precision weights

    def __init__(self, embedding_dim: int = 128, adapted: bool = False) -> None:
        super().__init__()
        self.stem = _FrozenConv(3, 32, 7, 2)
        blocks, channels = [], 32
        for out_channels, down in _DLIB_BLOCKS:
            blocks.append(_Residual(channels, out_channels, down))
            channels = out_channels
        self.blocks = nn.Sequential(*blocks)
        self.linear = nn.Linear(channels, embedding_dim, bias=False).requires_grad_(False)
        self.adapted = nn.Linear(channels, embedding_dim, bias=False) if adapted else None

    def features(self, chips: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            stem = nn.functional.max_pool2d(torch.relu(self.stem(chips)), 3, 2)
            return self.blocks(stem).mean(dim=(2, 3))

    def forward(self, chips: torch.Tensor) -> torch.Tensor:
        return self.project(self.features(chips))

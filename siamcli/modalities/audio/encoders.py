"""Audio encoders (torch)."""

from __future__ import annotations

import torch
from torch import nn

from siamcli.core.encoders import AdaptedProjection, register_encoder


def _dct_rows(size: int, first: int, count: int) -> torch.Tensor:
    """Rows first..first+count-1 of the orthonormal DCT-II matrix: log-mel bands to cepstral coefficients."""
    k = torch.arange(first, first + count, dtype=torch.float64)[:, None]
    n = torch.arange(size, dtype=torch.float64)[None, :]
    return (torch.cos(torch.pi * k * (2 * n + 1) / (2 * size)) * (2.0 / size) ** 0.5).float()


@register_encoder("tdnn-xvector", "audio-cnn")  # "audio-cnn" until 0.1.0: files written then still load
class TdnnXvector(nn.Module):
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


@register_encoder("ge2e-lstm")
class Ge2eLstm(AdaptedProjection):
    """GE2E's speaker encoder (Wan et al. 2018), as Resemblyzer ships it trained on thousands of
    speakers: stacked LSTMs over mel power frames, the last layer's final state projected, rectified
    and L2-normalised. It reads windows of 1.6 s; longer clips are embedded window by window and
    averaged (the preprocessing says so), shorter ones whole.

    The LSTMs never train: with a few dozen speakers, changing them forgets what thousands taught.
    `adapted` adds the projection fine-tuning trains (siamcli.core.encoders.AdaptedProjection).
    Cross-validated on speechocean_train's training speakers, the pair never did worse than the
    pretrained projection alone on speakers kept out, where the adapted one alone sometimes did.
    """

    def __init__(
        self, n_mels: int = 40, hidden: int = 256, layers: int = 3, embedding_dim: int = 256, adapted: bool = False
    ) -> None:
        super().__init__()
        self.lstm = nn.LSTM(n_mels, hidden, layers, batch_first=True).requires_grad_(False)
        self.linear = nn.Linear(hidden, embedding_dim)
        self.adapted = nn.Linear(hidden, embedding_dim) if adapted else None
        if adapted:
            self.linear.requires_grad_(False)

    def forward(self, spectrograms: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            _, (hidden, _) = self.lstm(spectrograms.transpose(1, 2))
        return self.project(hidden[-1], torch.relu)

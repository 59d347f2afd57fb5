"""Audio encoders (torch)."""

from __future__ import annotations

import torch
from torch import nn

from siamcli.core.encoders import register_encoder


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
class Ge2eLstm(nn.Module):
    """GE2E's speaker encoder (Wan et al. 2018), as Resemblyzer ships it trained on thousands of
    speakers: stacked LSTMs over mel power frames, the last layer's final state projected, rectified
    and L2-normalised. It reads windows of 1.6 s; longer clips are embedded window by window and
    averaged (the preprocessing says so), shorter ones whole.

    The LSTMs never train: with a few dozen speakers, changing them forgets what thousands taught.
    `adapted` adds a second projection, the one fine-tuning trains, beside the pretrained one, which
    stays as it was; the embedding is the two side by side, scaled to unit length, so a squared
    distance is the mean of the two projections' (the pretrained and the adapted model ensembled,
    as WiSE-FT does). In training mode it returns the adapted projection's embedding alone: the loss
    shapes that one; validation, calibration and inference see the pair. Cross-validated on
    speechocean_train's training speakers, the pair never did worse than the pretrained projection
    alone on speakers kept out, where the adapted one alone sometimes did.
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

    def load_pretrained(self, weights: dict[str, torch.Tensor]) -> None:
        """The pretrained network's weights (no adapted projection); the adapted one starts as its copy,
        so that before fine-tuning the model embeds as the pretrained one does."""
        self.load_state_dict(weights, strict=self.adapted is None)
        if self.adapted is not None:
            self.adapted.load_state_dict(self.linear.state_dict())

    def forward(self, spectrograms: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            _, (hidden, _) = self.lstm(spectrograms.transpose(1, 2))
        last = hidden[-1]
        embedding = nn.functional.normalize(torch.relu(self.linear(last)), dim=1)
        if self.adapted is None:
            return embedding
        tuned = nn.functional.normalize(torch.relu(self.adapted(last)), dim=1)
        if self.training:  # the loss shapes the adapted projection on its own
            return tuned
        return torch.cat([embedding, tuned], dim=1) / 2**0.5

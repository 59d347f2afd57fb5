"""A trained model: its metadata, its encoder, and embedding of files with it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from siamcli.core.distances import Distance, get_distance
from siamcli.errors import SiamcliError
from siamcli.modalities import get_modality
from siamcli.modalities.base import Modality
from siamcli.modelfile import parse_header, read_bytes

EMBED_CHUNK = 256  # files decoded at a time


@dataclass
class Model:
    path: Path | None
    meta: dict[str, Any]
    encoder: Any  # torch.nn.Module, in eval mode
    fingerprint: str  # sha256 of the file: galleries bind to it

    @property
    def modality(self) -> Modality:
        return get_modality(self.meta["modality"])

    @property
    def distance(self) -> Distance:
        return get_distance(self.meta["distance"])

    @property
    def threshold(self) -> float:
        return float(self.meta["threshold"]["value"])

    def load_samples(self, paths: Sequence[Path], labels: Sequence[int] | None = None) -> Any:
        labels = [0] * len(paths) if labels is None else labels
        return self.modality.load(paths, labels, self.meta["preprocessing"])

    def embed_samples(self, samples: Any) -> np.ndarray:
        from siamcli.training import embed_samples

        return embed_samples(self.encoder, samples)

    def embed_chunks(self, paths: Sequence[Path]) -> Iterator[tuple[Sequence[Path], np.ndarray]]:
        """Embeddings a chunk of files at a time, so long lists stream and memory stays flat."""
        for start in range(0, len(paths), EMBED_CHUNK):
            chunk = paths[start : start + EMBED_CHUNK]
            yield chunk, self.embed_samples(self.load_samples(chunk))

    def embed(self, paths: Sequence[Path]) -> np.ndarray:
        chunks = [embeddings for _, embeddings in self.embed_chunks(paths)]
        if not chunks:
            return np.zeros((0, int(self.meta["embedding_dim"])), np.float32)
        return np.concatenate(chunks)


def load_model(path: Path) -> Model:
    from safetensors.torch import load

    from siamcli.core.encoders import build_encoder

    path = Path(path)
    data = read_bytes(path)
    meta = parse_header(path, data)
    try:
        encoder = build_encoder(meta["encoder"]["name"], meta["encoder"]["params"])
        encoder.load_state_dict(load(data))
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SiamcliError(f"{path}: damaged siamcli model ({first_line})") from None
    return Model(path, meta, encoder.eval(), hashlib.sha256(data).hexdigest())

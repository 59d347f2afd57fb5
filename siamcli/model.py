"""A trained model: its metadata, and embedding of files with its inference graph (no torch)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from siamcli.core.distances import Distance, get_distance
from siamcli.errors import SiamcliError
from siamcli.inference import OnnxEncoder
from siamcli.modalities import get_modality
from siamcli.modalities.base import Modality
from siamcli.modelfile import read_for_inference
from siamcli.models import model_location

EMBED_CHUNK = 256  # files decoded at a time


@dataclass
class Model:
    path: Path | None
    meta: dict[str, Any]
    encoder: OnnxEncoder
    fingerprint: str  # of what decides its embeddings: galleries bind to it

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

    def embed_samples(self, samples: Any, batch_size: int = 256) -> np.ndarray:
        return self.stack([self.encoder(batch) for batch in samples.inference_batches(batch_size)])

    def embed_chunks(self, paths: Sequence[Path]) -> Iterator[tuple[Sequence[Path], np.ndarray]]:
        """Embeddings a chunk of files at a time, so long lists stream and memory stays flat."""
        for start in range(0, len(paths), EMBED_CHUNK):
            chunk = paths[start : start + EMBED_CHUNK]
            yield chunk, self.embed_samples(self.load_samples(chunk))

    def embed(self, paths: Sequence[Path]) -> np.ndarray:
        return self.stack([embeddings for _, embeddings in self.embed_chunks(paths)])

    def stack(self, parts: list[np.ndarray]) -> np.ndarray:
        """Rows of embeddings in one array; no rows: an empty array of the model's width."""
        return np.concatenate(parts) if parts else np.zeros((0, int(self.meta["embedding_dim"])), np.float32)


def load_model(path: Path | str) -> Model:
    """A model file, or a shipped model by its name in galleries (default:image, default:audio)."""
    path = model_location(str(path))
    meta, graph, fingerprint = read_for_inference(path)
    try:
        encoder = OnnxEncoder(graph)
    except Exception as error:  # onnxruntime raises its own unexported exception types
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SiamcliError(f"{path}: damaged siamcli model ({first_line})") from None
    return Model(path, meta, encoder, fingerprint)

"""What every modality provides to training, evaluation and inference."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class Decoded(Protocol):
    """Decoded samples of one dataset, kept in memory for a training run or an evaluation."""

    labels: np.ndarray  # identity index of each sample

    def __len__(self) -> int: ...

    def training_batch(self, indices: np.ndarray, generator: Any, augmentation: Any) -> Any:
        """The samples at `indices`, augmented, as a torch tensor ready for the encoder."""
        ...

    def inference_batches(self, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every sample, unaugmented, as numpy batches ready for the encoder, each with the index of
        the sample that each of its rows belongs to (a sample seen window by window has several)."""
        ...


def embed_all(decoded: Decoded, encode: Callable[[np.ndarray], np.ndarray], batch_size: int = 256) -> np.ndarray:
    """One embedding per sample, in order. A sample embedded window by window gets its windows' mean,
    brought to their mean length: the mean of unit-length embeddings is a unit-length one."""
    sums, counts, lengths = None, np.zeros(len(decoded)), np.zeros(len(decoded))
    for batch, owners in decoded.inference_batches(batch_size):
        rows = encode(batch)
        if sums is None:
            sums = np.zeros((len(decoded), rows.shape[1]))
        np.add.at(sums, owners, rows)
        np.add.at(counts, owners, 1)
        np.add.at(lengths, owners, np.linalg.norm(rows, axis=1))
    if sums is None:
        return np.zeros((0, 0), np.float32)
    means = sums / np.maximum(counts, 1)[:, None]
    mean_lengths = np.linalg.norm(means, axis=1)
    pooled = (counts > 1) & (mean_lengths > 0)  # a sample of one row keeps it exactly
    means[pooled] *= (lengths[pooled] / counts[pooled] / mean_lengths[pooled])[:, None]
    return means.astype(np.float32)


class Modality(Protocol):
    """A kind of input file (images, audio) and everything that turns one into an encoder's input."""

    name: str
    suffixes: frozenset[str]
    preprocessing_type: type  # a frozen dataclass: how a file becomes the encoder's input
    augmentation_type: type  # a frozen dataclass: how training varies the inputs
    input_axes: dict[int, str]  # the inference graph's axes of free length
    encoders_module: str  # where this modality's networks register themselves (imports torch)
    shipped_model: str | None  # file name in siamcli/models used when no model is given

    def example_input(self, preprocessing: Any) -> np.ndarray:
        """A batch of one, shaped as the encoder expects: what the inference graph is traced with."""
        ...

    def decode(self, paths: Sequence[Path], labels: Sequence[int], preprocessing: Any) -> Decoded:
        """Decode files; raises SiamcliError naming the first file that cannot be used."""
        ...

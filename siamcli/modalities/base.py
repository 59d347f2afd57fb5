"""What every modality provides to training, evaluation and inference."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class Samples(Protocol):
    """Decoded samples of one dataset, kept in memory for a training run or an evaluation."""

    labels: np.ndarray

    def __len__(self) -> int: ...

    def training_batch(self, indices: np.ndarray, generator: Any) -> Any:
        """An augmented batch as a torch tensor, ready for the encoder."""
        ...

    def inference_batches(self, batch_size: int) -> Any:
        """Every sample, unaugmented, in order, as numpy batches ready for the encoder."""
        ...


class Modality(Protocol):
    name: str
    suffixes: frozenset[str]
    default_encoder: str
    input_axes: dict[int, str]

    def default_preprocessing(self) -> dict[str, Any]: ...

    def example_input(self, preprocessing: dict[str, Any]) -> np.ndarray:
        """A batch of one, shaped as the encoder expects: what the inference graph is traced with."""
        ...

    def load(self, paths: Sequence[Path], labels: Sequence[int], preprocessing: dict[str, Any]) -> Samples:
        """Decode files; raises SiamcliError naming the first file that cannot be used."""
        ...

"""What every modality provides to training, evaluation and inference."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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

    def inference_batches(self, batch_size: int) -> Iterator[np.ndarray]:
        """Every sample, unaugmented, in order, as numpy batches ready for the encoder."""
        ...


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

"""What every modality provides to training, evaluation and inference."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from siamcli.errors import NothingToEmbed, SiamcliWarning

Loaded = TypeVar("Loaded")


class Decoded(Protocol):
    """Decoded samples of one dataset, kept in memory for a training run or an evaluation."""

    labels: np.ndarray  # identity index of each sample
    found: list[dict[str, Any] | None]  # what decoding found in each sample (a face's box), for `embed`
    left_out: list[str]  # why samples were left out (decoded with skip_empty), one line each
    kept: np.ndarray  # the position, among the files given, of each sample decoded

    def __len__(self) -> int: ...

    def training_identities(self, augmentation: Any) -> Decoded:
        """The samples as training draws them: these, or with more identities that `augmentation` makes."""
        ...

    def training_batch(self, indices: np.ndarray, generator: Any, augmentation: Any) -> Any:
        """The samples at `indices`, augmented, as a torch tensor ready for the encoder."""
        ...

    def inference_batches(self, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every sample, unaugmented, as numpy batches ready for the encoder, each with the index of
        the sample that each of its rows belongs to (a sample seen window by window has several)."""
        ...


def load_each(
    paths: Sequence[Path],
    load: Callable[[Path], Loaded],
    skip_empty: bool,
    workers: int = 1,
) -> tuple[list[Loaded], np.ndarray, list[str]]:
    """`load` of each path, in order, with the positions of those loaded; with `skip_empty`, samples
    in which nothing was found to embed are left out, and why is returned (else the first one raises).
    `workers` threads load side by side (for loaders that spend their time outside Python's lock)."""

    def attempt(path: Path) -> tuple[Loaded | None, str | None]:
        try:
            return load(path), None
        except NothingToEmbed as error:
            if not skip_empty:
                raise
            return None, str(error)

    if workers > 1 and len(paths) > 1:
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(attempt, paths))
    else:
        results = [attempt(path) for path in paths]
    loaded = [item for item, problem in results if problem is None]
    kept = [index for index, (_, problem) in enumerate(results) if problem is None]
    left_out = [problem for _, problem in results if problem is not None]
    return loaded, np.asarray(kept, dtype=np.int64), left_out  # type: ignore[return-value]


def warn_left_out(left_out: list[str], total: int) -> None:
    """One line on stderr for the samples of a dataset in which nothing was found to embed."""
    if left_out:
        more = f" (and {len(left_out) - 1} more)" if len(left_out) > 1 else ""
        warnings.warn(
            SiamcliWarning(f"{len(left_out)} of {total} samples left out, nothing to embed: {left_out[0]}{more}"),
            stacklevel=2,
        )


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

    def decode(
        self, paths: Sequence[Path], labels: Sequence[int], preprocessing: Any, skip_empty: bool = False
    ) -> Decoded:
        """Decode files; raises SiamcliError naming the first file that cannot be used. With `skip_empty`,
        files in which nothing is found to embed (NothingToEmbed) are left out instead, and listed."""
        ...

"""Embed files with a model: `siamcli embed FILE... [--model MODEL]`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from siamcli.model import choose_model


def embed(files: Sequence[Path], *, model: Path | str | None = None) -> Iterator[tuple[Path, np.ndarray]]:
    """(path, embedding) for each file, in order, streamed a chunk of files at a time. Without `model`,
    the shipped model for the files' type. The model is loaded before the first result."""
    paths = [Path(f) for f in files]
    loaded, _ = choose_model(None, paths, model)
    return ((path, row) for chunk, rows in loaded.embed_chunks(paths) for path, row in zip(chunk, rows))

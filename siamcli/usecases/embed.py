"""Embed files with a model: `siamcli embed FILE... [--model MODEL]`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from siamcli.model import EmbeddedChunk, Unusable
from siamcli.usecases.choice import choose_model
from siamcli.usecases.liveness import LivenessCheck, LivenessSettings, liveness_check

# A file, its embedding, and what decoding found in it ({"face": {"box", "landmarks", "score"}}) or None
Embedded = tuple[Path, np.ndarray, dict[str, Any] | None]


def embed(
    files: Sequence[Path], *, model: Path | str | None = None, liveness: LivenessSettings | None = None
) -> Iterator[Embedded | Unusable]:
    """(path, embedding, found) for each file, in order, or an Unusable file (the others are still
    embedded), streamed a chunk of files at a time. Without `model`, the shipped model for the files'
    type. With `liveness`, found holds the face's "liveness" too. The models are loaded before the
    first result."""
    paths = [Path(f) for f in files]
    loaded, _ = choose_model(None, paths, model)
    return _each(loaded.embed_each(paths), liveness_check(liveness, loaded))


def _each(chunks: Iterator[EmbeddedChunk], check: LivenessCheck | None) -> Iterator[Embedded | Unusable]:
    for chunk in chunks:
        yield from chunk.unusable
        for path, embedding, found in zip(chunk.paths, chunk.embeddings, chunk.found):
            if check is not None:
                found = {**(found or {}), "liveness": check(path, found).to_json()}
            yield path, embedding, found

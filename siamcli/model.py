"""A trained model: its card, and its two verbs, embedding files with its inference graph (no torch):
`embed`, strict, and `embed_each`, which carries on past bad files."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from siamcli.core.distances import Distance, get_distance
from siamcli.errors import NothingToEmbed, SiamcliError, first_line
from siamcli.inference import OnnxEncoder, check_graph
from siamcli.modalities import Decoded, Modality, get_modality
from siamcli.modalities.base import embed_all
from siamcli.modelcard import ModelCard
from siamcli.modelfile import read_model_file
from siamcli.models import model_location

EMBED_CHUNK = 256  # files decoded at a time


@dataclass
class Model:
    path: Path
    card: ModelCard
    encoder: OnnxEncoder
    fingerprint: str  # of what decides its embeddings: galleries bind to it

    @property
    def modality(self) -> Modality:
        return get_modality(self.card.modality)

    @property
    def distance(self) -> Distance:
        return get_distance(self.card.distance)

    @property
    def threshold(self) -> float:
        return self.card.threshold.value

    def embed(self, paths: Sequence[Path]) -> np.ndarray:
        """One embedding per file, in order, a chunk of files at a time; a file that cannot be embedded
        (corrupt, no face, not finite) raises SiamcliError naming it."""
        return self._stack([self._embed_found(paths[start : start + EMBED_CHUNK])[0] for start in _starts(paths)])

    def embed_each(self, paths: Sequence[Path]) -> Iterator[EmbeddedChunk]:
        """Embeddings a chunk of files at a time, so long lists stream and memory stays flat, with the
        files that could not be used: a bad file does not stop the others (grep's convention). Files in
        which nothing is found to embed (no face) are named without a retry; a chunk with any other bad
        file is retried file by file, which costs nothing when every file is fine."""
        for start in _starts(paths):
            chunk = list(paths[start : start + EMBED_CHUNK])
            with warnings.catch_warnings(record=True) as noted:  # said once: here, or by the retry below
                try:
                    embeddings, decoded = self._embed_found(chunk, skip_empty=True)
                except SiamcliError:
                    decoded = None
            if decoded is not None:
                for note in noted:
                    warnings.warn(note.message, stacklevel=2)
                kept = set(decoded.kept.tolist())
                empty = [
                    Unusable(path, problem, nothing_found=True)
                    for path, problem in zip(
                        [path for index, path in enumerate(chunk) if index not in kept], decoded.left_out
                    )
                ]
                yield EmbeddedChunk([chunk[i] for i in decoded.kept], embeddings, decoded.found, empty)
                continue
            good = EmbeddedChunk([], self._stack([]), [], [])
            rows = []
            for path in chunk:  # each file decoded once: the good ones are embedded as they come
                try:
                    embeddings, decoded = self._embed_found([path])
                except NothingToEmbed as error:
                    good.unusable.append(Unusable(path, str(error), nothing_found=True))
                    continue
                except SiamcliError as error:
                    good.unusable.append(Unusable(path, str(error)))
                    continue
                good.paths.append(path)
                rows.append(embeddings)
                good.found += decoded.found
            good.embeddings = self._stack(rows)
            yield good

    def _decode(self, paths: Sequence[Path], skip_empty: bool) -> Decoded:
        modality = self.modality
        for path in paths:
            if Path(path).suffix.lower() not in modality.suffixes:
                known = " ".join(sorted(modality.suffixes))
                raise SiamcliError(f"{path}: unsupported file type for an {modality.name} model ({known})")
        return modality.decode(paths, [0] * len(paths), self.card.preprocessing, skip_empty)

    def _embed_batch(self, batch: np.ndarray) -> np.ndarray:
        try:
            embeddings = self.encoder(batch)
        except Exception as error:  # onnxruntime raises its own unexported exception types
            raise SiamcliError(f"{self.path}: the model could not embed its input ({first_line(error)})") from None
        if embeddings.ndim != 2 or embeddings.shape[1] != self.card.embedding_dim:
            raise SiamcliError(
                f"{self.path}: the model gives embeddings of shape {embeddings.shape[1:]}, "
                f"its card declares {self.card.embedding_dim}"
            )
        return embeddings

    def _embed_found(self, paths: Sequence[Path], skip_empty: bool = False) -> tuple[np.ndarray, Decoded]:
        """Embeddings, and the decoded samples they came from (what decoding found in each, and with
        `skip_empty` the files left out because nothing was found). A file whose embedding is not
        finite is refused by name, so nothing that can never match again is stored or scored."""
        decoded = self._decode(paths, skip_empty)
        embeddings = embed_all(decoded, self._embed_batch) if len(decoded) else self._stack([])
        broken = np.flatnonzero(~np.isfinite(embeddings).all(axis=1))
        if broken.size:
            where = paths[decoded.kept[broken[0]]]
            raise SiamcliError(f"{where}: no usable embedding (the model gave values that are not finite)")
        return embeddings, decoded

    def _stack(self, parts: list[np.ndarray]) -> np.ndarray:
        """Rows of embeddings in one array; no rows: an empty array of the model's width."""
        return np.concatenate(parts) if parts else np.zeros((0, self.card.embedding_dim), np.float32)


def _starts(paths: Sequence[Path]) -> range:
    return range(0, len(paths), EMBED_CHUNK)


@dataclass
class Unusable:
    """A file that could not be embedded: the others still are."""

    path: Path
    problem: str  # one line naming the file and the problem
    nothing_found: bool = False  # a sample in which nothing was found to embed (no face), not a bad file


@dataclass
class EmbeddedChunk:
    """What `embed_each` made of a chunk of files: the files embedded, in order, their embeddings (one
    row each) and what decoding found in each (a face's box, else None); and the files it could not use."""

    paths: list[Path]
    embeddings: np.ndarray
    found: list[Any]
    unusable: list[Unusable]


def load_model(path: Path | str) -> Model:
    """A model file, or a shipped model by its name in galleries (default:image, default:audio)."""
    path = model_location(str(path))
    file = read_model_file(path)
    try:
        check_graph(file.graph)
    except ValueError as error:
        raise SiamcliError(f"{path}: refused, its inference graph is not one siamcli makes ({error})") from None
    try:
        encoder = OnnxEncoder(file.graph)
    except Exception as error:  # onnxruntime raises its own unexported exception types
        raise SiamcliError(f"{path}: damaged siamcli model ({first_line(error)})") from None
    return Model(path, file.card, encoder, file.fingerprint)

"""A trained model: its card, embedding of files with its inference graph (no torch), and which
model a command uses when none is named."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from siamcli.core.distances import Distance, get_distance
from siamcli.errors import SiamcliError, first_line
from siamcli.gallery import ModelRef
from siamcli.inference import OnnxEncoder, check_graph
from siamcli.modalities import Decoded, Modality, all_suffixes, get_modality, modality_of
from siamcli.modalities.base import embed_all
from siamcli.modelcard import ModelCard
from siamcli.modelfile import read_model_file
from siamcli.models import REF_PREFIX, model_location, retired_models

if TYPE_CHECKING:
    from siamcli.gallery import Gallery

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

    def decode(self, paths: Sequence[Path], labels: Sequence[int] | None = None, skip_empty: bool = False) -> Decoded:
        modality = self.modality
        for path in paths:
            if Path(path).suffix.lower() not in modality.suffixes:
                known = " ".join(sorted(modality.suffixes))
                raise SiamcliError(f"{path}: unsupported file type for an {modality.name} model ({known})")
        labels = [0] * len(paths) if labels is None else labels
        return modality.decode(paths, labels, self.card.preprocessing, skip_empty)

    def embed_decoded(self, decoded: Decoded, batch_size: int = 256) -> np.ndarray:
        """Embeddings of decoded inputs, each batch checked to be of the width the card declares."""
        if len(decoded) == 0:
            return self.stack([])
        return embed_all(decoded, self._embed_batch, batch_size)

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

    def embed_files(self, paths: Sequence[Path], labels: Sequence[int] | None = None) -> np.ndarray:
        """Files decoded and embedded; a file whose embedding is not finite is refused by name, so
        nothing that can never match again is stored or scored."""
        return self.embed_found(paths, labels)[0]

    def embed_found(
        self, paths: Sequence[Path], labels: Sequence[int] | None = None, skip_empty: bool = False
    ) -> tuple[np.ndarray, Decoded]:
        """Embeddings, and the decoded samples they came from: their labels, what decoding found in
        each (a face's box) and, with `skip_empty`, the files left out because nothing was found."""
        decoded = self.decode(paths, labels, skip_empty)
        embeddings = self.embed_decoded(decoded)
        broken = np.flatnonzero(~np.isfinite(embeddings).all(axis=1))
        if broken.size:
            where = paths[decoded.kept[broken[0]]]
            raise SiamcliError(f"{where}: no usable embedding (the model gave values that are not finite)")
        return embeddings, decoded

    def embed_chunks(self, paths: Sequence[Path]) -> Iterator[tuple[Sequence[Path], np.ndarray]]:
        """Embeddings a chunk of files at a time, so long lists stream and memory stays flat."""
        for start in range(0, len(paths), EMBED_CHUNK):
            chunk = paths[start : start + EMBED_CHUNK]
            yield chunk, self.embed_files(chunk)

    def embed(self, paths: Sequence[Path]) -> np.ndarray:
        return self.stack([embeddings for _, embeddings in self.embed_chunks(paths)])

    def embed_each(self, paths: Sequence[Path]) -> Iterator[tuple[list[Path], np.ndarray, list[Unusable], list[Any]]]:
        """Embeddings a chunk at a time, with the files that could not be used and what decoding found
        in each good one: a bad file does not stop the others (grep's convention). A chunk with a bad
        file is retried file by file, which costs nothing when every file is fine."""
        for start in range(0, len(paths), EMBED_CHUNK):
            chunk = list(paths[start : start + EMBED_CHUNK])
            with warnings.catch_warnings(record=True) as noted:  # said once: here, or by the retry below
                try:
                    embeddings, decoded = self.embed_found(chunk)
                except SiamcliError:
                    decoded = None
            if decoded is not None:
                for note in noted:
                    warnings.warn(note.message, stacklevel=2)
                yield chunk, embeddings, [], decoded.found
                continue
            good, rows, unusable, found = [], [], [], []
            for path in chunk:  # each file decoded once: the good ones are embedded as they come
                try:
                    embeddings, decoded = self.embed_found([path])
                except SiamcliError as error:
                    unusable.append(Unusable(path, str(error)))
                    continue
                good.append(path)
                rows.append(embeddings)
                found += decoded.found
            yield good, self.stack(rows), unusable, found

    def stack(self, parts: list[np.ndarray]) -> np.ndarray:
        """Rows of embeddings in one array; no rows: an empty array of the model's width."""
        return np.concatenate(parts) if parts else np.zeros((0, self.card.embedding_dim), np.float32)


@dataclass
class Unusable:
    """A file that could not be embedded: the others still are."""

    path: Path
    problem: str  # one line naming the file and the problem


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


def modality_of_files(paths: Sequence[Path]) -> str:
    """The modality of the files; files of no known type are left for the model to refuse one by one,
    unless no file has a known type."""
    if not paths:
        raise SiamcliError("no input files (give paths, or '-' to read them from stdin)")
    known = [path for path in paths if path.suffix.lower() in all_suffixes()]
    names = {modality_of(path).name for path in known or paths[:1]}
    if len(names) > 1:
        raise SiamcliError(f"the files mix {' and '.join(sorted(names))}: give one kind at a time, or pass --model")
    return names.pop()


def choose_model(gallery: Gallery | None, paths: Sequence[Path], model: Path | str | None) -> tuple[Model, ModelRef]:
    """The model given; else the one the gallery's collection for these files was made with; else the
    shipped one. With the reference a gallery's collection records of it."""
    if model is not None:
        given = str(model)
        loaded = load_model(given)
        return loaded, model_ref(loaded, given if given.startswith(REF_PREFIX) else str(Path(given).resolve()))
    modality = modality_of_files(paths)
    collections = gallery.collections(modality) if gallery is not None else []
    if gallery is not None and len(collections) > 1:
        models = ", ".join(c.model for c in collections)
        raise SiamcliError(f"{gallery.path}: several {modality} collections (models {models}); choose one with --model")
    if not collections:
        shipped = load_model(REF_PREFIX + modality)
        return shipped, model_ref(shipped, REF_PREFIX + modality)
    collection = collections[0]
    loaded = load_model(collection.model)
    if loaded.fingerprint != collection.fingerprint and collection.model.startswith(REF_PREFIX):
        loaded = next(
            (model for model in map(load_model, retired_models()) if model.fingerprint == collection.fingerprint),
            loaded,
        )
    if loaded.fingerprint != collection.fingerprint:
        raise SiamcliError(
            f"{gallery.path}: its {modality} collection was enrolled with another version of {collection.model}; "
            "pass --model with the model it was made with, or remove and re-enroll its identities"
        )
    return loaded, collection


def model_ref(model: Model, location: str) -> ModelRef:
    card = model.card
    return ModelRef(model.fingerprint, location, card.modality, card.embedding_dim, card.distance, model.threshold)

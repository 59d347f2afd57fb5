"""Enroll and verify: which model a gallery's samples go through, and the decision for each probe."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from siamcli.core.search import Enrolled, identity_distances, ranked
from siamcli.errors import SiamcliError
from siamcli.gallery import Collection, EnrolReport, Gallery, ModelRef, NewSample
from siamcli.modalities import modality_of
from siamcli.model import EMBED_CHUNK, Model, load_model
from siamcli.models import REF_PREFIX


def modality_of_files(paths: Sequence[Path]) -> str:
    names = {modality_of(path).name for path in paths}
    if len(names) > 1:
        raise SiamcliError(f"the files mix {' and '.join(sorted(names))}: give one kind at a time, or pass --model")
    return names.pop()


def choose_model(gallery: Gallery | None, paths: Sequence[Path], model_path: Path | None) -> tuple[Model, ModelRef]:
    """The model given; else the one the gallery's collection for these files was made with; else the shipped one."""
    if model_path is not None:
        given = str(model_path)
        model = load_model(given)
        return model, _ref(model, given if given.startswith(REF_PREFIX) else str(Path(given).resolve()))
    modality = modality_of_files(paths)
    collections = gallery.collections(modality) if gallery is not None else []
    if len(collections) > 1:
        models = ", ".join(c.model for c in collections)
        raise SiamcliError(f"{gallery.path}: several {modality} collections (models {models}); choose one with --model")
    if not collections:
        return _ref_shipped(modality)
    collection = collections[0]
    model = load_model(collection.model)
    if model.fingerprint != collection.fingerprint:
        raise SiamcliError(
            f"{gallery.path}: its {modality} collection was enrolled with another version of {collection.model}; "
            "pass --model with the model it was made with, or remove and re-enroll its identities"
        )
    return model, collection


def _ref_shipped(modality: str) -> tuple[Model, ModelRef]:
    model = load_model(REF_PREFIX + modality)
    return model, _ref(model, REF_PREFIX + modality)


def _ref(model: Model, location: str) -> ModelRef:
    meta = model.meta
    return ModelRef(model.fingerprint, location, meta["modality"], int(meta["embedding_dim"]), meta["distance"])


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def enroll_files(gallery_path: Path, model_path: Path | None, identity: str, paths: Sequence[Path]) -> EnrolReport:
    """Every file is decoded and embedded before the gallery is written (or created): one bad file,
    nothing enrolled and nothing left on disk."""
    check_identity_name(identity)
    existing = Gallery.open(gallery_path, create=True) if gallery_path.exists() else None
    try:
        model, ref = choose_model(existing, paths, model_path)
    finally:
        if existing is not None:
            existing.close()
    embeddings = model.embed(paths)
    samples = [NewSample(str(path.resolve()), sha256_of(path), embedding) for path, embedding in zip(paths, embeddings)]
    with Gallery.open(gallery_path, create=True) as gallery:
        return gallery.enroll(ref, identity, samples)


def check_identity_name(identity: str) -> None:
    if not identity.strip() or len(identity) > 200 or any(ord(ch) < 32 for ch in identity):
        raise SiamcliError(f"'{identity}': not a usable name (1 to 200 printable characters)")


def collection_of(gallery: Gallery, ref: ModelRef) -> Collection:
    collection = gallery.collection(ref.fingerprint)
    if collection is None or not gallery.identities(collection):
        known = ", ".join(c.model for c in gallery.collections()) or "none"
        raise SiamcliError(f"{gallery.path}: nobody is enrolled with model {ref.model} (collections: {known})")
    return collection


@dataclass
class Verdict:
    path: str
    identity: str  # the claimed identity, or the nearest one
    distance: float
    threshold: float
    threshold_source: str  # option | gallery | model
    decision: str  # accept | reject (1:1), identified | unknown (1:N)
    candidates: list[tuple[str, float]] = field(default_factory=list)

    @property
    def match(self) -> bool:
        return self.decision in ("accept", "identified")

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "path": self.path,
            "identity": self.identity if self.decision != "unknown" else "unknown",
            "nearest": self.identity,
            "distance": self.distance,
            "threshold": self.threshold,
            "threshold_source": self.threshold_source,
            "decision": self.decision,
            "match": self.match,
        }
        if self.candidates:
            result["candidates"] = [{"identity": name, "distance": d} for name, d in self.candidates]
        return result


@dataclass
class Verifier:
    """Scores probes against one collection: 1:1 against `claim`, else 1:N against everyone."""

    model: Model
    enrolled: Enrolled
    threshold: float
    threshold_source: str
    claim: str | None
    score: str = "nearest"
    top_k: int = 0

    @classmethod
    def for_collection(
        cls,
        gallery: Gallery,
        model: Model,
        collection: Collection,
        claim: str | None,
        threshold: float | None,
        **options: Any,
    ) -> Verifier:
        enrolled = gallery.enrolled(collection, claim)
        if claim is not None and not len(enrolled):
            names = sorted({name for _, name, _ in gallery.identities(collection)})
            shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
            raise SiamcliError(f"{gallery.path}: nobody named '{claim}' is enrolled (enrolled: {shown})")
        if threshold is not None:
            value, source = threshold, "option"
        elif collection.threshold is not None:
            value, source = float(collection.threshold["value"]), "gallery"
        else:
            value, source = model.threshold, "model"
        return cls(model, enrolled, value, source, claim, **options)

    def verdicts(self, paths: Sequence[Path], embeddings: np.ndarray) -> Iterator[Verdict]:
        distances = identity_distances(embeddings, self.enrolled, self.model.distance, self.score)
        for path, row in zip(paths, distances):
            order = ranked(row, max(1, self.top_k))
            best = int(order[0])
            accepted = bool(row[best] <= self.threshold)
            if self.claim is not None:
                decision = "accept" if accepted else "reject"
            else:
                decision = "identified" if accepted else "unknown"
            candidates = [(self.enrolled.names[i], float(row[i])) for i in order] if self.top_k else []
            yield Verdict(
                str(path),
                self.enrolled.names[best],
                float(row[best]),
                self.threshold,
                self.threshold_source,
                decision,
                candidates,
            )


def embed_each_chunk(model: Model, paths: Sequence[Path]) -> Iterator[tuple[list[Path], np.ndarray, list[str]]]:
    """Embeddings a chunk at a time, with the problems of the files that could not be used.

    A bad file does not stop the others (grep's convention): the chunk is retried file by file to
    find it, which costs nothing when every file is fine."""
    for start in range(0, len(paths), EMBED_CHUNK):
        chunk = list(paths[start : start + EMBED_CHUNK])
        try:
            yield chunk, model.embed_samples(model.load_samples(chunk)), []
            continue
        except SiamcliError:
            pass
        good, rows, problems = [], [], []
        for path in chunk:  # each file decoded once: the good ones are embedded as they come
            try:
                rows.append(model.embed_samples(model.load_samples([path])))
            except SiamcliError as error:
                problems.append(str(error))
                continue
            good.append(path)
        yield good, model.stack(rows), problems

"""Verify probes against a claimed identity (1:1) or identify them among everyone enrolled (1:N):
`siamcli verify FILE... [--claim NAME]`."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from siamcli.core.distances import check_threshold
from siamcli.core.search import SCORES, ExactSearch, Search
from siamcli.core.thresholds import accepts
from siamcli.errors import SiamcliError, SiamcliWarning, path_text
from siamcli.gallery import Collection, Gallery, ModelRef, gallery_path
from siamcli.gallery.index import open_search
from siamcli.model import Model, Unusable
from siamcli.usecases.choice import choose_model


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


def verify(
    files: Sequence[Path],
    *,
    claim: str | None = None,
    threshold: float | None = None,
    top_k: int = 0,
    score: str = "nearest",
    model: Path | str | None = None,
    gallery: Path | None = None,
) -> Iterator[Verdict | Unusable]:
    """A verdict for each probe, in order, streamed a chunk of files at a time.

    The gallery is opened and the model chosen before the first result: an error there raises
    SiamcliError. `threshold` overrides the collection's calibrated threshold, else the model's;
    `score` is "nearest" (the closest enrolled sample) or "centroid" (each identity's mean)."""
    if claim is not None and top_k:
        raise SiamcliError("--top-k lists candidates for identification; drop it, or drop --claim")
    if score not in SCORES:
        raise SiamcliError(f"unknown score '{score}' (known: {', '.join(SCORES)})")
    if threshold is not None:
        try:
            check_threshold(threshold)
        except ValueError as error:
            raise SiamcliError(f"--threshold: {error}") from None
    paths = [Path(f) for f in files]
    opened = Gallery.open(gallery_path(gallery))
    try:
        loaded, ref = choose_model(opened, paths, model)
        verifier = Verifier.for_collection(opened, loaded, ref, claim, threshold, score, top_k)
    except BaseException:
        opened.close(failed=True)
        raise
    return _closing(verifier.verdicts(paths), opened)


def _closing(verdicts: Iterator[Verdict | Unusable], gallery: Gallery) -> Iterator[Verdict | Unusable]:
    """The verdicts, the gallery closed once they are done: a search index re-reads candidates from it."""
    try:
        yield from verdicts
    except BaseException:
        gallery.close(failed=True)
        raise
    gallery.close()


def collection_of(gallery: Gallery, ref: ModelRef) -> Collection:
    collection = gallery.collection(ref.fingerprint)
    if collection is None or not gallery.has_samples(collection):
        known = ", ".join(c.model for c in gallery.collections()) or "none"
        raise SiamcliError(f"{gallery.path}: nobody is enrolled with model {ref.model} (collections: {known})")
    return collection


@dataclass
class Verifier:
    """Scores probes against one collection: 1:1 against `claim`, else 1:N against everyone."""

    model: Model
    search: Search  # 1:1: the claimed identity's samples; 1:N: everyone's, through the index when large
    threshold: float
    threshold_source: str
    claim: str | None
    top_k: int = 0

    @classmethod
    def for_collection(
        cls,
        gallery: Gallery,
        model: Model,
        ref: ModelRef,
        claim: str | None,
        threshold: float | None,
        score: str = "nearest",
        top_k: int = 0,
    ) -> Verifier:
        collection = collection_of(gallery, ref)
        search: Search
        if claim is None:
            search = open_search(gallery, collection, score)
        else:
            enrolled = gallery.enrolled(collection, claim)
            if not len(enrolled):
                names = sorted({row.identity for row in gallery.identities(collection)})
                shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
                raise SiamcliError(f"{gallery.path}: nobody named '{claim}' is enrolled (enrolled: {shown})")
            search = ExactSearch(enrolled, model.distance, score)
        if threshold is not None:
            value, source = threshold, "option"
        elif collection.threshold is not None:
            value, source = collection.threshold.value, "gallery"
        else:
            value, source = model.threshold, "model"
            enrolled_with = collection.model_threshold
            if enrolled_with is not None and abs(enrolled_with - value) > 1e-9:
                warnings.warn(
                    SiamcliWarning(
                        f"{gallery.path}: {collection.model}'s threshold is {value:.4f} now, {enrolled_with:.4f} "
                        "when this gallery was enrolled with it (recalibrated since); using the new one"
                    ),
                    stacklevel=2,
                )
        return cls(model, search, value, source, claim, top_k)

    def verdicts(self, paths: Sequence[Path]) -> Iterator[Verdict | Unusable]:
        for chunk in self.model.embed_each(paths):
            yield from chunk.unusable
            yield from self.decide(chunk.paths, chunk.embeddings)

    def decide(self, paths: Sequence[Path], embeddings: np.ndarray) -> Iterator[Verdict]:
        for path, nearest in zip(paths, self.search.nearest(embeddings, max(1, self.top_k))):
            identity, distance = nearest[0]
            accepted = bool(accepts(distance, self.threshold))
            if self.claim is not None:
                decision = "accept" if accepted else "reject"
            else:
                decision = "identified" if accepted else "unknown"
            yield Verdict(
                path_text(path),
                identity,
                distance,
                self.threshold,
                self.threshold_source,
                decision,
                nearest if self.top_k else [],
            )

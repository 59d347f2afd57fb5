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
from siamcli.core.openset import check_score_threshold, open_set_score
from siamcli.core.search import SCORES, ExactSearch, Search
from siamcli.core.thresholds import accepts
from siamcli.errors import SiamcliError, SiamcliWarning, path_text
from siamcli.gallery import Collection, Gallery, ModelRef, gallery_path
from siamcli.gallery.index import open_search
from siamcli.model import Model, Unusable
from siamcli.usecases.choice import choose_model
from siamcli.usecases.liveness import Liveness, LivenessCheck, LivenessSettings, liveness_check


@dataclass
class Verdict:
    path: str
    identity: str  # the claimed identity, or the nearest one
    distance: float
    score: float  # what the threshold decides on: the distance (1:1), the open-set score (1:N)
    threshold: float
    threshold_source: str  # option | gallery | model
    operating_point: str  # far=0.001 (1:1), fpir=0.01 at 100 identities (1:N), or "option"
    decision: str  # accept | reject (1:1), identified | unknown (1:N); spoof: not live, whatever the distance
    candidates: list[tuple[str, float]] = field(default_factory=list)
    liveness: Liveness | None = None  # with --liveness

    @property
    def match(self) -> bool:
        return self.decision in ("accept", "identified")

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "path": self.path,
            "identity": self.identity if self.decision not in ("unknown", "spoof") else "unknown",
            "nearest": self.identity,
            "distance": self.distance,
            "score": self.score,
            "threshold": self.threshold,
            "threshold_source": self.threshold_source,
            "operating_point": self.operating_point,
            "decision": self.decision,
            "match": self.match,
        }
        if self.candidates:
            result["candidates"] = [{"identity": name, "distance": d} for name, d in self.candidates]
        if self.liveness is not None:
            result["liveness"] = self.liveness.to_json()
        return result


def verify(
    files: Sequence[Path],
    *,
    claim: str | None = None,
    threshold: float | None = None,
    top_k: int = 0,
    score: str = "centroid",
    model: Path | str | None = None,
    gallery: Path | None = None,
    liveness: LivenessSettings | None = None,
) -> Iterator[Verdict | Unusable]:
    """A verdict for each probe, in order, streamed a chunk of files at a time.

    The gallery is opened and the model chosen before the first result: an error there raises
    SiamcliError. 1:1 (`claim`) accepts at a distance up to the 1:1 threshold; 1:N names the nearest
    identity when its open-set score (siamcli/core/openset.py) is up to the 1:N threshold for the
    number of identities enrolled. Both thresholds are the collection's calibrated ones, else the
    model's; `threshold` overrides either. `score` is "centroid" (each identity's mean) or "nearest"
    (the closest enrolled sample). With `liveness`, a face judged not live is a "spoof", whatever
    its distance."""
    if claim is not None and top_k:
        raise SiamcliError("--top-k lists candidates for identification; drop it, or drop --claim")
    if score not in SCORES:
        raise SiamcliError(f"unknown score '{score}' (known: {', '.join(SCORES)})")
    if threshold is not None:
        try:
            check_threshold(threshold) if claim is not None else check_score_threshold(threshold)
        except ValueError as error:
            raise SiamcliError(f"--threshold: {error}") from None
    paths = [Path(f) for f in files]
    opened = Gallery.open(gallery_path(gallery))
    try:
        loaded, ref = choose_model(opened, paths, model)
        verifier = Verifier.for_collection(opened, loaded, ref, claim, threshold, score, top_k)
        verifier.liveness = liveness_check(liveness, loaded)
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
    operating_point: str
    claim: str | None
    top_k: int = 0
    liveness: LivenessCheck | None = None

    @classmethod
    def for_collection(
        cls,
        gallery: Gallery,
        model: Model,
        ref: ModelRef,
        claim: str | None,
        threshold: float | None,
        score: str = "centroid",
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
            value, source, point = threshold, "option", "option"
        elif claim is None:
            value, source, point = _open_set_threshold(gallery, collection, model)
        else:
            value, source, point = _claim_threshold(collection, model, len(enrolled.embeddings), score)
            if source == "model":
                _warn_if_recalibrated(gallery, collection, model)
        return cls(model, search, value, source, point, claim, top_k)

    def verdicts(self, paths: Sequence[Path]) -> Iterator[Verdict | Unusable]:
        for chunk in self.model.embed_each(paths):
            yield from chunk.unusable
            verdicts = self.decide(chunk.paths, chunk.embeddings)
            if self.liveness is None:
                yield from verdicts
                continue
            for verdict, path, found in zip(verdicts, chunk.paths, chunk.found):
                verdict.liveness = self.liveness(path, found)
                if not verdict.liveness.live:
                    verdict.decision = "spoof"
                yield verdict

    def decide(self, paths: Sequence[Path], embeddings: np.ndarray) -> Iterator[Verdict]:
        wanted = max(1 if self.claim is not None else 2, self.top_k)
        for path, nearest in zip(paths, self.search.nearest(embeddings, wanted)):
            identity, distance = nearest[0]
            if self.claim is not None:
                score = distance
                decision = "accept" if accepts(score, self.threshold) else "reject"
            else:
                score = open_set_score(distance, nearest[1][1] if len(nearest) > 1 else None)
                decision = "identified" if accepts(score, self.threshold) else "unknown"
            yield Verdict(
                path_text(path),
                identity,
                distance,
                score,
                self.threshold,
                self.threshold_source,
                self.operating_point,
                decision,
                nearest[: self.top_k] if self.top_k else [],
            )


def _open_set_threshold(gallery: Gallery, collection: Collection, model: Model) -> tuple[float, str, str]:
    """The 1:N threshold for the number of identities enrolled: the collection's calibration, else
    the model's; a model never calibrated for 1:N falls back on its 1:1 threshold, with a warning."""
    counts = [row.samples for row in gallery.identities(collection)]
    identities, samples_each = len(counts), sum(counts) / max(len(counts), 1)
    for record, source in ((collection.open_set, "gallery"), (model.card.open_set, "model")):
        if record is not None:
            point = f"{record.operating_point} at {identities} identit{'y' if identities == 1 else 'ies'}"
            if record.extrapolated(identities):
                largest = record.points[-1].identities
                warnings.warn(
                    SiamcliWarning(
                        f"{gallery.path}: {identities} identities enrolled, more than the {largest} its 1:N threshold "
                        f"was calibrated for: strangers may be named more often than {record.fpir:.1%} "
                        "(calibrate on more of your own people: siamcli calibrate MODEL DATA --gallery)"
                    ),
                    stacklevel=3,
                )
                point += " (extrapolated)"
            return record.threshold(identities, samples_each), source, point
    warnings.warn(
        SiamcliWarning(
            f"{collection.model}: not calibrated for 1:N, so its 1:1 threshold is used and strangers are named more "
            f"often the more people are enrolled (calibrate it: siamcli calibrate {collection.model} YOUR_PEOPLE)"
        ),
        stacklevel=3,
    )
    return model.threshold, "model", model.card.threshold.operating_point


def _claim_threshold(collection: Collection, model: Model, samples: int, score: str) -> tuple[float, str, str]:
    """The 1:1 threshold for a claimed identity of `samples` enrolled samples: the collection's
    calibration, else the model's. Thresholds for several samples were calibrated on centroids; the
    nearest of several samples gets the single-sample one (and more chances to let an impostor in)."""
    record, source = (
        (collection.threshold, "gallery") if collection.threshold is not None else (model.card.threshold, "model")
    )
    if score != "centroid" or samples < 2 or not record.by_samples:
        return record.value, source, record.operating_point
    return record.for_samples(samples), source, f"{record.operating_point} at {samples} samples"


def _warn_if_recalibrated(gallery: Gallery, collection: Collection, model: Model) -> None:
    enrolled_with = collection.model_threshold
    if enrolled_with is not None and abs(enrolled_with - model.threshold) > 1e-9:
        warnings.warn(
            SiamcliWarning(
                f"{gallery.path}: {collection.model}'s threshold is {model.threshold:.4f} now, {enrolled_with:.4f} "
                "when this gallery was enrolled with it (recalibrated since); using the new one"
            ),
            stacklevel=3,
        )

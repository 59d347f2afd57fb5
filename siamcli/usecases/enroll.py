"""Enroll reference samples of one identity into a gallery: `siamcli enroll NAME FILE...`."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from siamcli.core.search import identity_distances
from siamcli.errors import SiamcliWarning, path_text
from siamcli.files import sha256_of
from siamcli.gallery import EnrolReport, Gallery, ModelRef, NewSample, check_identity_name, gallery_path
from siamcli.model import Model, choose_model


def enroll(
    name: str,
    files: Sequence[Path],
    *,
    model: Path | str | None = None,
    gallery: Path | None = None,
) -> EnrolReport:
    """Embed `files` as NAME's samples and store them in the gallery (created on first enrolment).

    Every file is decoded and embedded before the gallery is written or created: one bad file,
    nothing enrolled and nothing left on disk. Without `model`, the model of the gallery's collection
    for these files, else the shipped one."""
    name = check_identity_name(name)
    path = gallery_path(gallery)
    paths = [Path(f) for f in files]
    existing = Gallery.open(path, create=True) if path.exists() else None
    try:
        chosen, ref = choose_model(existing, paths, model)
    finally:
        if existing is not None:
            existing.close()
    embeddings = chosen.embed(paths)
    samples = [NewSample(path_text(p.resolve()), sha256_of(p), e) for p, e in zip(paths, embeddings)]
    with Gallery.open(path, create=True) as opened:
        report = opened.enroll(ref, name, samples)
        flag_near_copies(opened, ref, name, paths, embeddings, chosen)
    return report


NEAR_COPY = 0.05  # of the model's threshold: closer than this, two samples are one picture or recording


def flag_near_copies(
    gallery: Gallery, ref: ModelRef, name: str, paths: Sequence[Path], embeddings: np.ndarray, model: Model
) -> None:
    """Warn when a new sample is nearly identical to one already enrolled under another name: the same
    photo or clip enrolled twice, as two people, would make them indistinguishable."""
    collection = gallery.collection(ref.fingerprint)
    if collection is None or not len(embeddings):
        return
    enrolled = gallery.enrolled(collection)
    others = [i for i, other in enumerate(enrolled.names) if other != name]
    if not others:
        return
    distances = identity_distances(embeddings, enrolled, model.distance, "nearest")[:, others]
    for path, row in zip(paths, distances):
        nearest = int(np.argmin(row))
        if row[nearest] < NEAR_COPY * model.threshold:
            warnings.warn(
                SiamcliWarning(
                    f"{path}: nearly identical to a sample of '{enrolled.names[others[nearest]]}' "
                    f"(distance {row[nearest]:.4f}), now enrolled as '{name}' too: the same picture or recording?"
                ),
                stacklevel=2,
            )

"""Enroll reference samples of one identity into a gallery: `siamcli enroll NAME FILE...`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from siamcli.files import sha256_of
from siamcli.gallery import EnrolReport, Gallery, NewSample, check_identity_name, default_gallery_path
from siamcli.model import choose_model


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
    check_identity_name(name)
    path = Path(gallery) if gallery is not None else default_gallery_path()
    paths = [Path(f) for f in files]
    existing = Gallery.open(path, create=True) if path.exists() else None
    try:
        chosen, ref = choose_model(existing, paths, model)
    finally:
        if existing is not None:
            existing.close()
    embeddings = chosen.embed(paths)
    samples = [NewSample(str(p.resolve()), sha256_of(p), embedding) for p, embedding in zip(paths, embeddings)]
    with Gallery.open(path, create=True) as opened:
        return opened.enroll(ref, name, samples)

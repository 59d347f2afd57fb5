"""Enroll reference samples into a gallery: one identity's (`siamcli enroll NAME FILE...`), or a folder
of identities' (`siamcli enroll --folders DIR`)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from siamcli.core.search import Search
from siamcli.data.dataset import scan_dataset
from siamcli.errors import SiamcliError, SiamcliWarning, path_text
from siamcli.files import sha256_of
from siamcli.gallery import EnrolReport, Gallery, NewSample, check_identity_name, gallery_path, open_if_present
from siamcli.gallery.index import open_search, refresh
from siamcli.modalities import all_suffixes
from siamcli.model import Model, Unusable
from siamcli.usecases.choice import choose_model
from siamcli.usecases.liveness import Liveness, LivenessSettings, liveness_check


def enroll(
    name: str,
    files: Sequence[Path],
    *,
    model: Path | str | None = None,
    gallery: Path | None = None,
    liveness: LivenessSettings | None = None,
) -> EnrolReport:
    """Embed `files` as NAME's samples and store them in the gallery (created on first enrolment).

    Every file is decoded and embedded before the gallery is written or created: one bad file,
    nothing enrolled and nothing left on disk. Without `model`, the model of the gallery's collection
    for these files, else the shipped one. With `liveness`, a face judged not live refuses the whole
    enrolment, naming its file."""
    name = check_identity_name(name)
    path = gallery_path(gallery)
    paths = [Path(f) for f in files]
    with open_if_present(path) as existing:
        chosen, ref = choose_model(existing, paths, model)
    embeddings = chosen.embed(paths)
    check = liveness_check(liveness, chosen)
    if check is not None:
        for file in paths:
            refuse_if_spoof(file, check(file, None))
    samples = [NewSample(path_text(p.resolve()), sha256_of(p), e) for p, e in zip(paths, embeddings)]
    with Gallery.open(path, create=True) as opened:
        report = opened.enroll(ref, name, samples)
        # Opening the search brings its index current, as refresh does after every other write.
        flag_near_copies(open_search(opened, report.collection), name, paths, embeddings, chosen)
    return report


def refuse_if_spoof(path: Path, liveness: Liveness) -> None:
    if not liveness.live:
        raise SiamcliError(
            f"{path}: not enrolled, its face was judged not live (liveness {liveness.score:.3f}, below "
            f"{liveness.threshold:.3f}): a photo of a photo or a screen?"
        )


NEAR_COPY = 0.05  # of the model's threshold: closer than this, two samples are one picture or recording


def flag_near_copies(search: Search, name: str, paths: Sequence[Path], embeddings: np.ndarray, model: Model) -> None:
    """Warn when a new sample is nearly identical to one already enrolled under another name: the same
    photo or clip enrolled twice, as two people, would make them indistinguishable."""
    if not len(embeddings):
        return
    # The two nearest identities: one of them at most is `name` itself.
    for path, nearest in zip(paths, search.nearest(embeddings, 2)):
        other = next(((identity, d) for identity, d in nearest if identity != name), None)
        if other is not None and other[1] < NEAR_COPY * model.threshold:
            warnings.warn(
                SiamcliWarning(
                    f"{path}: nearly identical to a sample of '{other[0]}' "
                    f"(distance {other[1]:.4f}), now enrolled as '{name}' too: the same picture or recording?"
                ),
                stacklevel=2,
            )


FOLDER_BATCH = 256  # files embedded and committed together: an interrupted run loses at most these


@dataclass
class FoldersReport:
    """What `enroll --folders` did."""

    gallery: Path
    model: str  # the collection's model
    identities: int  # of the folder's identities, those with samples in the gallery once it is done
    enrolled: int  # samples added by this run
    skipped: int  # already enrolled for their identity (by an earlier run, or the same file twice)
    refused: list[Unusable] = field(default_factory=list)  # one line each: the file and the problem


def enroll_folders(
    folder: Path | str,
    *,
    model: Path | str | None = None,
    gallery: Path | None = None,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
    liveness: LivenessSettings | None = None,
) -> FoldersReport:
    """Enroll every subfolder of `folder` as one identity (the folder's name), its files as samples.

    Resumable: content already enrolled for its identity (by SHA-256) is skipped without decoding.
    Files are embedded and committed FOLDER_BATCH at a time, so an interrupted run keeps every batch
    before the one it was in. A file that cannot be used (corrupt, no face, enrolled as someone else)
    is refused and reported; the others are still enrolled, and so is, with `liveness`, a face judged
    not live. `on_progress(done, total)` counts files."""
    dataset = scan_dataset(Path(folder), all_suffixes())
    names = [check_identity_name(identity.name) for identity in dataset.identities]
    files = [(name, path) for name, identity in zip(names, dataset.identities) for path in identity.files]
    path = gallery_path(gallery)
    with open_if_present(path) as existing:
        chosen, ref = choose_model(existing, [file for _, file in files], model)
        collection = existing.collection(ref.fingerprint) if existing is not None else None
        owners = existing.owners(collection) if existing is not None and collection is not None else {}
    check = liveness_check(liveness, chosen)

    report = FoldersReport(path, ref.model, 0, 0, 0)
    present: set[str] = set()  # identities with samples in the gallery once this run is done
    todo: list[tuple[str, Path, str]] = []
    for name, file in files:
        try:
            digest = sha256_of(file)
        except SiamcliError as error:
            report.refused.append(Unusable(file, str(error)))
            continue
        owner = owners.get(digest)
        if owner is None:
            owners[digest] = name  # also catches the same content twice in the folder
            todo.append((name, file, digest))
        elif owner == name:
            report.skipped += 1
            present.add(name)
        else:
            report.refused.append(Unusable(file, f"{file}: the same content as a sample of '{owner}'"))
    on_progress(len(files) - len(todo), len(files))
    for start in range(0, len(todo), FOLDER_BATCH):
        batch = todo[start : start + FOLDER_BATCH]
        queued = {file: (name, digest) for name, file, digest in batch}
        for chunk in chosen.embed_each(list(queued)):
            samples: dict[str, list[NewSample]] = {}
            for file, embedding, found in zip(chunk.paths, chunk.embeddings, chunk.found):
                name, digest = queued[file]
                if check is not None:
                    try:
                        refuse_if_spoof(file, check(file, found))
                    except SiamcliError as error:
                        report.refused.append(Unusable(file, str(error)))
                        continue
                samples.setdefault(name, []).append(NewSample(path_text(file.resolve()), digest, embedding))
            with Gallery.open(path, create=True) as opened:
                report.enrolled += opened.enroll_many(ref, list(samples.items())).added
            report.refused += chunk.unusable
            present.update(samples)
        on_progress(len(files) - len(todo) + start + len(batch), len(files))
    if report.enrolled:
        with Gallery.open(path) as opened:
            refresh(opened, opened.collection(ref.fingerprint))  # once, not once a batch
    report.identities = len(present)
    return report

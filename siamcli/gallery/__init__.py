"""The gallery: enrolled samples, one collection per model, behind one interface.

A collection is bound to the fingerprint of the model that made its embeddings, so embeddings of two
models never mix. `Gallery` is what every caller uses (the use cases, the search index, the Python
API); `SqliteGallery` (one SQLite file) is its back end today, and a second one (a database server)
implements the same methods. Records are named (records.py); the SQLite schema and its migrations
are in schema.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from siamcli.core.search import Enrolled
from siamcli.gallery.records import (
    RESERVED_NAMES,
    Change,
    Collection,
    EnrolledSample,
    EnrolReport,
    IdentityCount,
    ModelRef,
    NewSample,
    Rows,
    Snapshot,
    check_identity_name,
)
from siamcli.gallery.sqlite import LOCK_WAIT_SECONDS, SqliteGallery
from siamcli.modelcard import OpenSetRecord, ThresholdRecord

__all__ = [
    "LOCK_WAIT_SECONDS",
    "RESERVED_NAMES",
    "Change",
    "Collection",
    "EnrolReport",
    "EnrolledSample",
    "Gallery",
    "GalleryStore",
    "IdentityCount",
    "ModelRef",
    "NewSample",
    "Rows",
    "Snapshot",
    "SqliteGallery",
    "check_identity_name",
    "gallery_path",
    "open_gallery",
    "open_if_present",
]


class GalleryStore(Protocol):
    """What a gallery back end does. Every write is one transaction, all or nothing; reads see
    committed writes only. Errors are SiamcliError, one line naming the gallery."""

    path: Path

    def close(self, failed: bool = False) -> None: ...
    def __enter__(self) -> GalleryStore: ...
    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None: ...

    # collections: one per model, bound to its fingerprint
    def collections(self, modality: str | None = None) -> list[Collection]: ...
    def collection(self, fingerprint: str) -> Collection | None: ...

    # writing
    def enroll(self, ref: ModelRef, identity: str, samples: Sequence[NewSample]) -> EnrolReport: ...
    def enroll_many(self, ref: ModelRef, batch: Sequence[tuple[str, Sequence[NewSample]]]) -> EnrolReport: ...
    def remove(self, identity: str, collection: Collection | None = None) -> int: ...
    def set_operating_points(
        self, collection: Collection, threshold: ThresholdRecord, open_set: OpenSetRecord | None
    ) -> None: ...

    # reading
    def identities(self, collection: Collection | None = None) -> list[IdentityCount]: ...
    def owners(self, collection: Collection) -> dict[str, str]: ...
    def enrolled(self, collection: Collection, identity: str | None = None) -> Enrolled: ...
    def has_samples(self, collection: Collection) -> bool: ...
    def samples(self, identity: str | None = None) -> Iterator[EnrolledSample]: ...

    # reading for a search index: the journal of changes, and samples by id
    def gallery_id(self) -> str | None: ...
    def count(self, collection: Collection) -> int: ...
    def change_at(self, position: int) -> Change | None: ...
    def changes(self, collection: Collection, after: int) -> list[Change]: ...
    def rows(self, collection: Collection, ids: Sequence[int]) -> Rows: ...
    def snapshot(self, collection: Collection) -> Snapshot: ...


# The one back end today: what callers name, open and type against.
Gallery = SqliteGallery


def gallery_path(path: Path | str | None = None) -> Path:
    """The gallery at `path`, or when none is given gallery.db in the user's data folder."""
    if path is not None:
        return Path(path)
    from platformdirs import user_data_path

    return user_data_path("siamcli", appauthor=False) / "gallery.db"


@contextmanager
def open_if_present(path: Path) -> Iterator[Gallery | None]:
    """The gallery at `path` when there is one yet (about to be written), else None."""
    if not path.exists() and not path.is_symlink():
        yield None
        return
    with Gallery.open(path, create=True) as gallery:
        yield gallery


def open_gallery(path: Path | str | None = None, create: bool = False) -> Gallery:
    """A gallery file (default: gallery.db in the user's data folder), as a context manager."""
    return Gallery.open(gallery_path(path), create=create)

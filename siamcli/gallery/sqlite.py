"""A gallery in one SQLite file: one collection per model, each enrolment one transaction (a sample is
wholly in or not at all, whatever happens to the process), concurrent enrolments queued on SQLite's
lock instead of losing writes. The file is private to its owner from its creation."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from siamcli.core.search import Enrolled
from siamcli.errors import SiamcliError, SiamcliWarning
from siamcli.gallery.records import (
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
from siamcli.gallery.schema import PAGE_SIZE, Schema, check_format
from siamcli.modelcard import OpenSetRecord, ThresholdRecord, now

T = TypeVar("T")
Stored = TypeVar("Stored", ThresholdRecord, OpenSetRecord)
LOCK_WAIT_SECONDS = 60.0  # how long an enrolment waits for another to commit


def _sqlite_problem(path: Path, error: sqlite3.Error, doing: str = "use") -> SiamcliError:
    """One line naming the gallery and what stopped SQLite: what a user can act on first, SQLite's words after."""
    name = getattr(error, "sqlite_errorname", "")
    if name.startswith("SQLITE_READONLY"):
        return SiamcliError(f"{path}: cannot write the gallery: it is read-only ({error})")
    if name == "SQLITE_FULL" or name.startswith("SQLITE_IOERR"):
        return SiamcliError(f"{path}: cannot write the gallery: the disk refused the write (is it full? {error})")
    return SiamcliError(f"{path}: cannot {doing} the gallery ({error})")


@contextmanager
def _sqlite_errors(path: Path) -> Iterator[None]:
    """SQLite's errors (read-only, locked, disk full, I/O) as one line naming the gallery."""
    try:
        yield
    except sqlite3.Error as error:
        raise _sqlite_problem(path, error) from None


def _gallery_errors(method: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(method)
    def named(self: SqliteGallery, *args: Any, **kwargs: Any) -> T:
        with _sqlite_errors(self.path):
            return method(self, *args, **kwargs)

    return named


_warned_readable: set[Path] = set()


def _create_private(path: Path) -> list[Path]:
    """The gallery's missing folders (0700) and the empty file (0600): biometric templates are for
    their owner's eyes. Returns what it made, file first, so a gallery never written can be taken back."""
    missing = [folder for folder in [path.parent, *path.parent.parents] if not folder.exists()]
    made: list[Path] = []
    try:
        for folder in reversed(missing):
            folder.mkdir(mode=0o700)
            made.insert(0, folder)
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        made.insert(0, path)
    except FileExistsError:
        pass  # another enrolment created it (or its folder) first
    except OSError as error:
        _remove_made(made)
        raise SiamcliError(f"{path}: cannot create the gallery ({error.strerror})") from None
    return made


def _remove_made(made: Sequence[Path]) -> None:
    """Take back a gallery file and folders this process made and never wrote a sample into."""
    for made_path in made:
        try:
            if made_path.is_dir():
                made_path.rmdir()
            else:
                made_path.unlink(missing_ok=True)
                Path(f"{made_path}-journal").unlink(missing_ok=True)
        except OSError:
            return  # someone else's by now: leave it


def _readable_by_others(path: Path) -> str | None:
    """The warning a gallery readable by other users deserves, once a process."""
    if path.resolve() in _warned_readable or not path.stat().st_mode & 0o077:
        return None
    return f"{path}: other users of this machine can read this gallery (chmod 600 {path})"


def _check_reachable(path: Path) -> None:
    """A symbolic link that loops, or leads to nothing, is named as such, not taken for a missing gallery."""
    if not path.is_symlink():
        return
    try:
        os.stat(path)
    except FileNotFoundError:
        raise SiamcliError(f"{path}: a symbolic link to {os.readlink(path)}, which does not exist") from None
    except OSError as error:
        raise SiamcliError(f"{path}: cannot follow the symbolic link ({error.strerror})") from None


class SqliteGallery:
    """A gallery in one SQLite file: enrolments are transactions, writers queue on SQLite's lock."""

    def __init__(self, path: Path, connection: sqlite3.Connection, made: Sequence[Path] = ()) -> None:
        self.path = path
        self._db = connection
        self._schema = Schema(tables=False, model_threshold=False, journal=False)  # probed on opening
        self._made = list(made)  # the file and folders this open created, until a write commits
        # Said when the gallery closes after success (opened to write: after a write), never before an error.
        self._warning: str | None = None
        self._warn_after_write = False

    # -- opening -----------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, create: bool = False) -> SqliteGallery:
        """Open a gallery; with `create`, a missing one is made (folders included) on first enrolment."""
        path = Path(path)
        _check_reachable(path)
        if path.is_dir():
            raise SiamcliError(f"{path}: is a folder, not a gallery file")
        if path.exists() and not path.is_file():
            raise SiamcliError(f"{path}: not a regular file (a device or a pipe), not a gallery")
        made: list[Path] = []
        if not path.exists():
            if not create:
                raise SiamcliError(f"{path}: no gallery here yet (enroll someone first: siamcli enroll NAME FILE)")
            made = _create_private(path)
        mode = "rwc" if create else "rw"
        try:
            connection = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=LOCK_WAIT_SECONDS, isolation_level=None
            )
        except sqlite3.Error as error:
            _remove_made(made)
            raise SiamcliError(f"{path}: cannot open gallery ({error})") from None
        if create:
            # Only takes effect when the file is new. A 512-d embedding is 2 KiB: with SQLite's default
            # 4 KiB pages each sample would fill a page alone, and the file would be twice its data.
            connection.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        gallery = cls(path, connection, made)
        try:
            gallery._schema = check_format(connection, path, allow_empty=create)
        except SiamcliError:
            gallery.close(failed=True)
            raise
        gallery._warning = _readable_by_others(path)
        gallery._warn_after_write = create
        return gallery

    def close(self, failed: bool = False) -> None:
        """Close the connection. A gallery file this open created and nothing was written to is taken
        back; warnings are said only after success (a failure is one line alone)."""
        if self._made:
            with contextlib.suppress(sqlite3.Error):
                if Schema.probe(self._db).tables:  # another enrolment initialised it meanwhile: theirs now
                    self._made = []
        self._db.close()
        _remove_made(self._made)
        self._made = []
        if self._warning is not None and not failed and not self._warn_after_write:
            _warned_readable.add(self.path.resolve())
            warnings.warn(SiamcliWarning(self._warning), stacklevel=2)
        self._warning = None

    def __enter__(self) -> SqliteGallery:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self.close(failed=kind is not None)

    # -- collections -------------------------------------------------------------------------------

    @_gallery_errors
    def collections(self, modality: str | None = None) -> list[Collection]:
        if not self._fresh_schema().tables:
            return []
        # model_threshold and open_set came after the first galleries: theirs read as NULL (not known)
        model_threshold = "model_threshold" if self._schema.model_threshold else "NULL"
        open_set = "open_set" if self._schema.open_set else "NULL"
        rows = self._db.execute(
            "SELECT id, fingerprint, model, modality, embedding_dim, distance, threshold, created, "
            f"{model_threshold}, {open_set} FROM collections ORDER BY id"
        )
        found = [
            Collection(
                id=row[0],
                fingerprint=row[1],
                model=row[2],
                modality=row[3],
                embedding_dim=row[4],
                distance=row[5],
                threshold=None if row[6] is None else self._stored(ThresholdRecord, row[6], "threshold"),
                created=row[7],
                model_threshold=row[8],
                open_set=None if row[9] is None else self._stored(OpenSetRecord, row[9], "1:N operating point"),
            )
            for row in rows
        ]
        return [c for c in found if modality is None or c.modality == modality]

    def _stored(self, record: type[Stored], stored: str, what: str) -> Stored:
        try:
            return record.from_json(json.loads(stored))
        except (ValueError, TypeError) as error:
            raise SiamcliError(f"{self.path}: damaged gallery (a collection's {what}: {error})") from None

    def collection(self, fingerprint: str) -> Collection | None:
        return next((c for c in self.collections() if c.fingerprint == fingerprint), None)

    def _collection_for(self, ref: ModelRef) -> Collection:
        existing = self.collection(ref.fingerprint)
        if existing is not None:
            return existing
        self._db.execute(
            "INSERT INTO collections (fingerprint, model, modality, embedding_dim, distance, created, model_threshold) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (ref.fingerprint, ref.model, ref.modality, ref.embedding_dim, ref.distance, now(), ref.model_threshold),
        )
        created = self.collection(ref.fingerprint)
        assert created is not None
        return created

    # -- writing -----------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write, all or nothing; concurrent writers wait on SQLite's lock. The file is brought up to
        today's schema first (a new one created, an older one migrated)."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise _sqlite_problem(self.path, error, "write") from None
        try:
            self._schema.bring_up_to_date(self._db)
            yield
            self._db.execute("COMMIT")
        except BaseException:
            # SQLite may have rolled back already (a full disk, an I/O error): the first error is the news
            if self._db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
            raise
        self._made = []  # written: the file is the user's gallery now
        self._warn_after_write = False

    def enroll(self, ref: ModelRef, identity: str, samples: Sequence[NewSample]) -> EnrolReport:
        """Add samples of `identity` in one transaction. Content already enrolled for this identity is
        skipped; content enrolled for someone else is refused, and then nothing is added."""
        return self.enroll_many(ref, [(identity, samples)])

    @_gallery_errors
    def enroll_many(self, ref: ModelRef, batch: Sequence[tuple[str, Sequence[NewSample]]]) -> EnrolReport:
        """Several identities' samples in one transaction, all or nothing."""
        with self._transaction():
            collection = self._collection_for(ref)
            added = already = 0
            for identity, samples in batch:
                identity = check_identity_name(identity)
                for sample in samples:
                    if self._add(collection, ref, identity, sample):
                        added += 1
                    else:
                        already += 1
        return EnrolReport(collection, added, already)

    def _add(self, collection: Collection, ref: ModelRef, identity: str, sample: NewSample) -> bool:
        """Insert one sample; False when this identity already has the same content."""
        owner = self._db.execute(
            "SELECT identity FROM samples WHERE collection_id = ? AND sha256 = ?", (collection.id, sample.sha256)
        ).fetchone()
        if owner is not None and owner[0] == identity:
            return False
        if owner is not None:
            raise SiamcliError(f"{sample.path}: already enrolled as '{owner[0]}' (remove it there first)")
        embedding = np.asarray(sample.embedding, dtype="<f4")
        if embedding.shape != (ref.embedding_dim,):
            raise SiamcliError(f"{sample.path}: embedding of shape {embedding.shape} for a {ref.model} gallery")
        self._db.execute(
            "INSERT INTO samples (collection_id, identity, path, sha256, embedding, enrolled) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (collection.id, identity, sample.path, sample.sha256, embedding.tobytes(), now()),
        )
        return True

    @_gallery_errors
    def remove(self, identity: str, collection: Collection | None = None) -> int:
        """Remove an identity's samples (from one collection, or all); returns how many were removed."""
        with self._transaction():
            if collection is None:
                cursor = self._db.execute("DELETE FROM samples WHERE identity = ?", (identity,))
            else:
                cursor = self._db.execute(
                    "DELETE FROM samples WHERE identity = ? AND collection_id = ?", (identity, collection.id)
                )
        return cursor.rowcount

    @_gallery_errors
    def set_operating_points(
        self, collection: Collection, threshold: ThresholdRecord, open_set: OpenSetRecord | None
    ) -> None:
        """The 1:1 threshold and 1:N operating point (None: none) calibrated for this collection:
        verify prefers them to the model's."""
        with self._transaction():
            self._db.execute(
                "UPDATE collections SET threshold = ?, open_set = ? WHERE id = ?",
                (
                    json.dumps(threshold.to_json()),
                    None if open_set is None else json.dumps(open_set.to_json()),
                    collection.id,
                ),
            )

    # -- reading -----------------------------------------------------------------------------------

    @_gallery_errors
    def identities(self, collection: Collection | None = None) -> list[IdentityCount]:
        """Each identity with its number of samples, by collection then name."""
        result = []
        for c in [collection] if collection else self.collections():
            rows = self._db.execute(
                "SELECT identity, count(*) FROM samples WHERE collection_id = ? GROUP BY identity ORDER BY identity",
                (c.id,),
            )
            result.extend(IdentityCount(c, name, count) for name, count in rows)
        return result

    @_gallery_errors
    def owners(self, collection: Collection) -> dict[str, str]:
        """Whose each content (SHA-256) of the collection is: what a resumed enrolment skips."""
        return dict(self._db.execute("SELECT sha256, identity FROM samples WHERE collection_id = ?", (collection.id,)))

    @_gallery_errors
    def enrolled(self, collection: Collection, identity: str | None = None) -> Enrolled:
        """The embeddings of a collection (or of one identity in it), ready to search."""
        query = "SELECT identity, embedding FROM samples WHERE collection_id = ?"
        parameters: tuple[Any, ...] = (collection.id,)
        if identity is not None:
            query += " AND identity = ?"
            parameters += (identity,)
        # Ordered by the index, rows arrive grouped by identity: no sorting of 100,000 names here.
        rows = self._db.execute(query + " ORDER BY identity", parameters).fetchall()
        embeddings = self._embeddings(collection, [row[1] for row in rows])
        return Enrolled.from_grouped_rows([row[0] for row in rows], embeddings)

    @_gallery_errors
    def has_samples(self, collection: Collection) -> bool:
        return (
            self._db.execute("SELECT 1 FROM samples WHERE collection_id = ? LIMIT 1", (collection.id,)).fetchone()
            is not None
        )

    # -- reading for a search index ------------------------------------------------------------------

    @_gallery_errors
    def gallery_id(self) -> str | None:
        """A random id given on the first write with a journal: tells this gallery from another at the same path."""
        row = self._db.execute("SELECT value FROM info WHERE key = 'id'").fetchone()
        return None if row is None else row[0]

    @_gallery_errors
    def count(self, collection: Collection) -> int:
        return self._db.execute("SELECT count(*) FROM samples WHERE collection_id = ?", (collection.id,)).fetchone()[0]

    @_gallery_errors
    def change_at(self, position: int) -> Change | None:
        """The journal's change at `position`: None if there is none."""
        if not self._fresh_schema().journal:
            return None
        row = self._db.execute("SELECT sample_id, added FROM changes WHERE position = ?", (position,)).fetchone()
        return None if row is None else Change(position, row[0], bool(row[1]))

    @_gallery_errors
    def changes(self, collection: Collection, after: int) -> list[Change]:
        """The collection's changes after position `after`, oldest first."""
        if not self._fresh_schema().journal:
            return []
        rows = self._db.execute(
            "SELECT position, sample_id, added FROM changes WHERE position > ? AND collection_id = ? ORDER BY position",
            (after, collection.id),
        )
        return [Change(position, sample_id, bool(added)) for position, sample_id, added in rows]

    @_gallery_errors
    def rows(self, collection: Collection, ids: Sequence[int]) -> Rows:
        """Those of `ids` still enrolled, in no particular order."""
        found: list[tuple[int, str, bytes]] = []
        unique = sorted(set(map(int, ids)))
        for start in range(0, len(unique), 900):  # SQLite's older limit of 999 variables a statement
            chunk = unique[start : start + 900]
            found += self._db.execute(
                f"SELECT id, identity, embedding FROM samples WHERE id IN ({','.join('?' * len(chunk))}) "
                "AND +collection_id = ?",  # +: look the ids up, never scan the collection's index
                (*chunk, collection.id),
            ).fetchall()
        return Rows(
            np.fromiter((row[0] for row in found), dtype=np.int64, count=len(found)),
            [row[1] for row in found],
            self._embeddings(collection, [row[2] for row in found]),
        )

    @_gallery_errors
    def snapshot(self, collection: Collection) -> Snapshot:
        """All of a collection's samples, read in one transaction so that the journal position is the
        one they are at. Creates the journal when the gallery has none."""
        with self._transaction():
            position = self._db.execute("SELECT coalesce(max(position), 0) FROM changes").fetchone()[0]
            count = self.count(collection)
            ids = np.empty(count, dtype=np.int64)
            embeddings = np.empty((count, collection.embedding_dim), dtype=np.float32)
            rows = self._db.execute("SELECT id, embedding FROM samples WHERE collection_id = ?", (collection.id,))
            done = 0
            while chunk := rows.fetchmany(10_000):
                ids[done : done + len(chunk)] = [row[0] for row in chunk]
                embeddings[done : done + len(chunk)] = self._embeddings(collection, [row[1] for row in chunk])
                done += len(chunk)
        return Snapshot(position, ids, embeddings)

    def _fresh_schema(self) -> Schema:
        """The schema as probed on opening; probed again only while the file is empty, as another
        enrolment may be creating it meanwhile. (An older gallery gains its journal on its first write
        here; one migrated by another process meanwhile makes the search index rebuild, no worse.)"""
        if not self._schema.tables:
            self._schema = Schema.probe(self._db)
        return self._schema

    def _embeddings(self, collection: Collection, blobs: Sequence[bytes]) -> np.ndarray:
        blob = b"".join(blobs)
        if len(blob) != 4 * collection.embedding_dim * len(blobs):
            raise SiamcliError(f"{self.path}: damaged gallery (embeddings of the wrong size)")
        return (
            np.frombuffer(blob, dtype="<f4")
            .reshape(len(blobs), collection.embedding_dim)
            .astype(np.float32, copy=False)
        )

    def samples(self, identity: str | None = None) -> Iterator[EnrolledSample]:
        with _sqlite_errors(self.path):
            yield from self._samples(identity)

    def _samples(self, identity: str | None) -> Iterator[EnrolledSample]:
        by_id = {c.id: c for c in self.collections()}
        if not by_id:
            return
        query = "SELECT collection_id, identity, path, sha256, enrolled, embedding FROM samples"
        parameters: tuple[Any, ...] = ()
        if identity is not None:
            query += " WHERE identity = ?"
            parameters = (identity,)
        for row in self._db.execute(query + " ORDER BY collection_id, identity, id", parameters):
            yield EnrolledSample(by_id[row[0]], row[1], row[2], row[3], row[4], np.frombuffer(row[5], dtype="<f4"))

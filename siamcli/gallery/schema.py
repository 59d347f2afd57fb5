"""The SQLite gallery's schema, its format check, and the migrations of galleries made by earlier
versions: probed once when a gallery is opened, applied on its first write."""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

from siamcli import __version__
from siamcli.errors import SiamcliError

FORMAT = "siamcli-gallery"
FORMAT_VERSION = 1
PAGE_SIZE = 16384

SCHEMA = """
CREATE TABLE info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE collections (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    model TEXT NOT NULL,
    modality TEXT NOT NULL,
    embedding_dim INTEGER NOT NULL,
    distance TEXT NOT NULL,
    threshold TEXT,
    created TEXT NOT NULL,
    model_threshold REAL,
    open_set TEXT
);
CREATE TABLE samples (
    id INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES collections (id),
    identity TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    embedding BLOB NOT NULL,
    enrolled TEXT NOT NULL,
    UNIQUE (collection_id, sha256)
);
CREATE INDEX samples_by_identity ON samples (collection_id, identity);
"""

# Every sample added or removed, in order, whoever writes (this siamcli, an older one, the sqlite3
# shell): what tells a search index beside the gallery which samples it lacks or must not return.
# AUTOINCREMENT: a position is never reused, even after the newest change is deleted.
JOURNAL = [
    """CREATE TABLE IF NOT EXISTS changes (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        collection_id INTEGER NOT NULL,
        sample_id INTEGER NOT NULL,
        added INTEGER NOT NULL
    )""",
    """CREATE TRIGGER IF NOT EXISTS sample_added AFTER INSERT ON samples BEGIN
        INSERT INTO changes (collection_id, sample_id, added) VALUES (NEW.collection_id, NEW.id, 1);
    END""",
    """CREATE TRIGGER IF NOT EXISTS sample_removed AFTER DELETE ON samples BEGIN
        INSERT INTO changes (collection_id, sample_id, added) VALUES (OLD.collection_id, OLD.id, 0);
    END""",
    """CREATE TRIGGER IF NOT EXISTS sample_changed AFTER UPDATE ON samples BEGIN
        INSERT INTO changes (collection_id, sample_id, added) VALUES (OLD.collection_id, OLD.id, 0);
        INSERT INTO changes (collection_id, sample_id, added) VALUES (NEW.collection_id, NEW.id, 1);
    END""",
]


@dataclass
class Schema:
    """What this gallery file has of today's schema. Galleries made before the journal, before
    collections recorded their model's threshold or before they kept a 1:N operating point still
    read and write; they gain what they lack on a write."""

    tables: bool  # False: a new, empty file
    model_threshold: bool  # collections.model_threshold
    journal: bool  # the changes table and its triggers
    open_set: bool = False  # collections.open_set

    @classmethod
    def probe(cls, db: sqlite3.Connection) -> Schema:
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        columns = {row[1] for row in db.execute("PRAGMA table_info(collections)")} if "collections" in names else set()
        return cls(bool(names), "model_threshold" in columns, "changes" in names, "open_set" in columns)

    def bring_up_to_date(self, db: sqlite3.Connection) -> None:
        """Inside a write transaction: a new file gets the schema, an older one what it lacks. Two
        enrolments creating one gallery do it once (the transaction's lock orders them)."""
        if self.tables and self.model_threshold and self.journal and self.open_set:
            return  # nothing to add, and no writer takes anything away
        now = Schema.probe(db)  # another writer may have done it since this gallery was opened
        self.tables, self.model_threshold, self.journal, self.open_set = (
            now.tables,
            now.model_threshold,
            now.journal,
            now.open_set,
        )
        if not self.tables:
            for statement in SCHEMA.strip().split(";\n"):
                db.execute(statement)
            db.executemany(
                "INSERT INTO info (key, value) VALUES (?, ?)",
                [("format", FORMAT), ("format_version", str(FORMAT_VERSION)), ("created_by", f"siamcli {__version__}")],
            )
            self.tables = self.model_threshold = self.open_set = True
        if not self.model_threshold:
            db.execute("ALTER TABLE collections ADD COLUMN model_threshold REAL")
            self.model_threshold = True
        if not self.open_set:
            db.execute("ALTER TABLE collections ADD COLUMN open_set TEXT")
            self.open_set = True
        if not self.journal:
            for statement in JOURNAL:
                db.execute(statement)
            db.execute("INSERT OR IGNORE INTO info (key, value) VALUES ('id', ?)", (uuid.uuid4().hex,))
            self.journal = True


def check_format(db: sqlite3.Connection, path: Path, allow_empty: bool) -> Schema:
    """The file's schema, once it is known to be a siamcli gallery this version reads."""
    try:
        schema = Schema.probe(db)
        has_info = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'info'").fetchone()
        info = dict(db.execute("SELECT key, value FROM info")) if has_info else {}
    except sqlite3.OperationalError as error:  # locked, unreadable: a gallery perhaps, but not now
        raise SiamcliError(f"{path}: cannot use the gallery ({error})") from None
    except sqlite3.DatabaseError as error:
        raise SiamcliError(f"{path}: not a siamcli gallery ({error})") from None
    if not schema.tables:
        if allow_empty:
            return schema
        raise SiamcliError(f"{path}: the gallery is empty (enroll someone first: siamcli enroll NAME FILE)")
    if info.get("format") != FORMAT:
        raise SiamcliError(f"{path}: not a siamcli gallery (an SQLite database of something else)")
    try:
        version = int(info.get("format_version", "0"))
    except ValueError:
        raise SiamcliError(f"{path}: damaged gallery (format_version {info['format_version']!r})") from None
    if version > FORMAT_VERSION:
        raise SiamcliError(
            f"{path}: gallery format {version} is newer than this siamcli {__version__} reads "
            f"(format {FORMAT_VERSION}); upgrade siamcli"
        )
    return schema

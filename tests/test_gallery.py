"""The gallery file: collections bound to models, idempotent enrolment, refusal of foreign files,
atomicity under kill -9, and the search over enrolled identities."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from siamcli.core.distances import get_distance
from siamcli.core.search import Enrolled, identity_distances, ranked
from siamcli.errors import SiamcliError
from siamcli.gallery import Gallery, ModelRef, NewSample

REF = ModelRef("f" * 64, "/models/faces.model", "image", 4, "euclidean", 0.5)
OTHER = ModelRef("a" * 64, "/models/voices.model", "audio", 3, "cosine", None)


def unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def sample(name: str, *values: float) -> NewSample:
    return NewSample(f"/data/{name}", f"{name:0>64}"[-64:], unit(*values))


def test_enrolment_round_trip_and_same_content_twice_is_stored_once(tmp_path: Path) -> None:
    with Gallery.open(tmp_path / "g.db", create=True) as gallery:
        first = gallery.enroll(REF, "alice", [sample("a1", 1, 0, 0, 0), sample("a2", 1, 1, 0, 0)])
        again = gallery.enroll(REF, "alice", [sample("a1", 1, 0, 0, 0)])
        gallery.enroll(REF, "bob", [sample("b1", 0, 0, 1, 0)])
        assert (first.added, first.already, again.added, again.already) == (2, 0, 0, 1)
        assert [(row.identity, row.samples) for row in gallery.identities()] == [("alice", 2), ("bob", 1)]
        enrolled = gallery.enrolled(first.collection)
        assert enrolled.names == ["alice", "bob"] and enrolled.embeddings.shape == (3, 4)
        assert np.allclose(gallery.enrolled(first.collection, "bob").embeddings, [[0, 0, 1, 0]])
        shown = list(gallery.samples("alice"))
        assert [s.path for s in shown] == ["/data/a1", "/data/a2"] and shown[0].enrolled


def test_content_enrolled_for_someone_else_is_refused_and_nothing_is_added(tmp_path: Path) -> None:
    with Gallery.open(tmp_path / "g.db", create=True) as gallery:
        gallery.enroll(REF, "alice", [sample("a1", 1, 0, 0, 0)])
        with pytest.raises(SiamcliError, match="already enrolled as 'alice'"):
            gallery.enroll(REF, "bob", [sample("b1", 0, 1, 0, 0), sample("a1", 1, 0, 0, 0)])
        assert [row.identity for row in gallery.identities()] == ["alice"]


def test_each_model_has_its_own_collection(tmp_path: Path) -> None:
    with Gallery.open(tmp_path / "g.db", create=True) as gallery:
        faces = gallery.enroll(REF, "alice", [sample("a1", 1, 0, 0, 0)]).collection
        voices = gallery.enroll(OTHER, "alice", [sample("a1", 0, 1, 0)]).collection
        assert faces.id != voices.id and gallery.collection(OTHER.fingerprint) == voices
        assert [c.modality for c in gallery.collections()] == ["image", "audio"]
        assert gallery.enrolled(voices).embeddings.shape == (1, 3)
        assert gallery.remove("alice", voices) == 1
        assert [(row.collection.modality, row.identity) for row in gallery.identities()] == [("image", "alice")]
        with pytest.raises(SiamcliError, match="embedding of shape"):
            gallery.enroll(OTHER, "carol", [sample("c1", 1, 0, 0, 0)])


def test_a_missing_gallery_is_not_created_by_reading(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "g.db"
    with pytest.raises(SiamcliError, match="no gallery here yet"):
        Gallery.open(path)
    assert not path.parent.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,embedding\nalice,1 2 3\n" * 20, "not a siamcli gallery"),
        (b"", "the gallery is empty"),
        (None, "an SQLite database of something else"),
        ("future", "newer than this siamcli"),
    ],
)
def test_foreign_files_are_refused_and_left_unchanged(
    tmp_path: Path, content: bytes | str | None, message: str
) -> None:
    path = tmp_path / "g.db"
    if content is None:
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
    elif content == "future":
        with Gallery.open(path, create=True) as gallery:
            gallery.enroll(REF, "alice", [sample("a1", 1, 0, 0, 0)])
        with sqlite3.connect(path) as db:
            db.execute("UPDATE info SET value = '99' WHERE key = 'format_version'")
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    with pytest.raises(SiamcliError, match=message):
        Gallery.open(path).close()
    if content != b"":  # an empty file is where a first enrolment may start a gallery
        with pytest.raises(SiamcliError, match=message):
            Gallery.open(path, create=True).close()
    assert path.read_bytes() == before


SLOW_ENROLMENT = """
import sys, time
from pathlib import Path
import numpy as np
from siamcli.gallery import Gallery, ModelRef, NewSample

class Slow:
    '''Samples that arrive one by one; after the tenth, a marker file says the transaction is open.'''
    def __iter__(self):
        for i in range(50):
            if i == 10:
                Path(sys.argv[2]).touch()
                time.sleep(60)
            yield NewSample(f"/data/{i}", f"{i:064d}", np.ones(4, np.float32) / 2)

ref = ModelRef("f" * 64, "/models/faces.model", "image", 4, "euclidean", 0.5)
with Gallery.open(Path(sys.argv[1]), create=True) as gallery:
    gallery.enroll(ref, "bulk", Slow())
"""


def test_kill_9_in_the_middle_of_an_enrolment_leaves_none_of_it(tmp_path: Path) -> None:
    path, marker = tmp_path / "g.db", tmp_path / "inside"
    with Gallery.open(path, create=True) as gallery:
        gallery.enroll(REF, "alice", [sample("a1", 1, 0, 0, 0)])
    child = subprocess.Popen([sys.executable, "-c", SLOW_ENROLMENT, str(path), str(marker)])
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the child never reached the middle of its transaction"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with Gallery.open(path) as gallery:  # reading recovers the interrupted transaction
        assert [(row.identity, row.samples) for row in gallery.identities()] == [("alice", 1)]
        gallery.enroll(REF, "bob", [sample("b1", 0, 1, 0, 0)])
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_nearest_and_centroid_scores_match_brute_force() -> None:
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(30, 8)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    names = sorted(f"id{i % 7}" for i in range(30))
    enrolled = Enrolled.from_grouped_rows(names, embeddings)
    with pytest.raises(ValueError, match="not grouped"):
        Enrolled.from_grouped_rows(names[::-1][:3] + names[3:], embeddings)
    probes = rng.normal(size=(5, 8)).astype(np.float32)
    distance = get_distance("euclidean")
    nearest = identity_distances(probes, enrolled, distance, "nearest")
    centroid = identity_distances(probes, enrolled, distance, "centroid")
    for j, name in enumerate(enrolled.names):
        rows = embeddings[[i for i, n in enumerate(names) if n == name]]
        brute = np.linalg.norm(probes[:, None] - rows[None], axis=2).min(axis=1)
        assert np.allclose(nearest[:, j], brute, atol=1e-5)
        mean = rows.mean(axis=0)
        assert np.allclose(centroid[:, j], np.linalg.norm(probes - mean / np.linalg.norm(mean), axis=1), atol=1e-5)
    assert list(ranked(np.array([0.5, 0.1, 0.9, 0.3]), 3)) == [1, 3, 0]


def test_the_sqlite_gallery_implements_the_whole_interface() -> None:
    """GalleryStore is what every caller uses and what a second back end implements: the SQLite one
    has every method, with the same parameters."""
    import inspect

    from siamcli.gallery import GalleryStore, SqliteGallery

    methods = [name for name, value in vars(GalleryStore).items() if callable(value) and name not in ("__init__",)]
    assert {"enroll_many", "remove", "identities", "changes", "rows", "snapshot", "close"} <= set(methods)
    for name in methods:
        if name.startswith("__") and name not in ("__enter__", "__exit__"):
            continue
        wanted = inspect.signature(getattr(GalleryStore, name)).parameters.keys()
        assert inspect.signature(getattr(SqliteGallery, name)).parameters.keys() == wanted, name


def test_an_older_gallery_is_probed_once_and_migrated_on_its_first_write(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with Gallery.open(path, create=True) as gallery:
        gallery.enroll(REF, "alice", [sample("a1", 1, 0, 0, 0)])
    with sqlite3.connect(path) as db:  # as galleries were before the journal and the model's threshold
        db.executescript(
            "DROP TRIGGER sample_added; DROP TRIGGER sample_removed; DROP TRIGGER sample_changed; DROP TABLE changes;"
            "ALTER TABLE collections DROP COLUMN model_threshold;"
        )
    with Gallery.open(path) as gallery:
        statements: list[str] = []
        gallery._db.set_trace_callback(statements.append)
        for _ in range(3):
            (collection,) = gallery.collections()
            assert collection.model_threshold is None and gallery.changes(collection, 0) == []
        assert not [s for s in statements if "PRAGMA" in s or "sqlite_master" in s]  # probed on opening only
        gallery.enroll(REF, "bob", [sample("b1", 0, 1, 0, 0)])  # the first write brings it up to date
        (collection,) = gallery.collections()
        changes = gallery.changes(collection, 0)
        assert [(change.added, change.sample_id) for change in changes] == [(True, 2)]
        assert [row.identity for row in gallery.identities()] == ["alice", "bob"]

"""The search index beside a gallery: the same answers as brute force, changes behind its back seen,
a stale index detected and rebuilt, and nothing lost when it is deleted."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import siamcli
from siamcli.core.distances import get_distance
from siamcli.core.search import ExactSearch, Nearest
from siamcli.errors import SiamcliWarning
from siamcli.gallery import Gallery, ModelRef, NewSample
from siamcli.gallery import index as gallery_index
from siamcli.gallery.index import IndexedSearch, index_folder, open_search, refresh
from tests.conftest import drawn_face

DIM = 24
REF = ModelRef("e" * 64, "/models/m.model", "image", DIM, "euclidean", 0.5)
COSINE = ModelRef("c" * 64, "/models/c.model", "image", DIM, "cosine", 0.3)


def unit(rng: np.random.Generator, count: int) -> np.ndarray:
    vectors = rng.normal(size=(count, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def enroll_people(gallery: Gallery, ref: ModelRef, first: int, people: int, rng: np.random.Generator) -> np.ndarray:
    """`people` identities of 6 samples each, named person<N>; returns their embeddings."""
    vectors = unit(rng, people * 6)
    batch = [
        (
            f"person{first + i}",
            [
                NewSample(f"/data/{first + i}/{j}", f"{ref.fingerprint[0]}{first + i}-{j}", vectors[6 * i + j])
                for j in range(6)
            ],
        )
        for i in range(people)
    ]
    gallery.enroll_many(ref, batch)
    return vectors


def probes_near(vectors: np.ndarray, rng: np.random.Generator, count: int) -> np.ndarray:
    """Half near enrolled samples (as a genuine probe is), half anywhere (as a stranger is)."""
    near = vectors[rng.integers(0, len(vectors), count // 2)] + 0.15 * unit(rng, count // 2)
    probes = np.concatenate([near, unit(rng, count - count // 2)])
    return probes / np.linalg.norm(probes, axis=1, keepdims=True)


def exact(gallery: Gallery, ref: ModelRef, probes: np.ndarray, k: int) -> list[Nearest]:
    collection = gallery.collection(ref.fingerprint)
    assert collection is not None
    return ExactSearch(gallery.enrolled(collection), get_distance(ref.distance)).nearest(probes, k)


def assert_same(got: list[Nearest], expected: list[Nearest]) -> None:
    assert [[name for name, _ in row] for row in got] == [[name for name, _ in row] for row in expected]
    assert np.allclose([[d for _, d in row] for row in got], [[d for _, d in row] for row in expected], atol=1e-5)


def indexed(gallery: Gallery, ref: ModelRef) -> IndexedSearch:
    collection = gallery.collection(ref.fingerprint)
    assert collection is not None
    search = open_search(gallery, collection)
    assert isinstance(search, IndexedSearch)
    return search


@pytest.fixture
def small_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """Index from the first sample, merged after 50 changes: small galleries take the index's path."""
    monkeypatch.setattr(gallery_index, "INDEX_FROM", 1)
    monkeypatch.setattr(gallery_index, "MERGE_FROM", 50)


@pytest.mark.parametrize("ref", [REF, COSINE], ids=["euclidean", "cosine"])
def test_the_index_answers_as_brute_force_does(tmp_path: Path, small_index: None, ref: ModelRef) -> None:
    rng = np.random.default_rng(0)
    with Gallery.open(tmp_path / "g.db", create=True) as gallery:
        vectors = enroll_people(gallery, ref, 0, 400, rng)
        probes = probes_near(vectors, rng, 200)
        with pytest.warns(SiamcliWarning, match="building the search index of 2,400 samples"):
            search = indexed(gallery, ref)
        for k in (1, 5):
            assert_same(search.nearest(probes, k), exact(gallery, ref, probes, k))


def test_below_its_size_the_search_is_exact_and_no_index_is_made(tmp_path: Path) -> None:
    with Gallery.open(tmp_path / "g.db", create=True) as gallery:
        enroll_people(gallery, REF, 0, 20, np.random.default_rng(1))
        collection = gallery.collection(REF.fingerprint)
        assert collection is not None
        assert isinstance(open_search(gallery, collection), ExactSearch)
        refresh(gallery, collection)
    assert not index_folder(gallery).exists()


def test_samples_enrolled_and_removed_behind_its_back_are_seen(tmp_path: Path, small_index: None) -> None:
    rng = np.random.default_rng(2)
    path = tmp_path / "g.db"
    with Gallery.open(path, create=True) as gallery:
        vectors = enroll_people(gallery, REF, 0, 100, rng)
        with pytest.warns(SiamcliWarning):
            graph_file = indexed(gallery, REF).file
        # Behind its back: the Python API (no refresh), and the sqlite3 shell's kind of write.
        newcomers = enroll_people(gallery, REF, 100, 3, rng)
        gallery.remove("person7")
    with sqlite3.connect(path) as raw:
        raw.execute("DELETE FROM samples WHERE identity = 'person8'")
    with Gallery.open(path) as gallery:
        search = indexed(gallery, REF)  # no warning: 3 people and 2 removed are within what it searches beside
        assert search.file == graph_file and len(search.recent_names) == 18 and search.removed == 12
        probes = probes_near(np.concatenate([newcomers, vectors[42:54]]), rng, 40)
        got = search.nearest(probes, 3)
        assert_same(got, exact(gallery, REF, probes, 3))
        assert not {"person7", "person8"} & {name for row in got for name, _ in row}
        assert {"person100", "person101", "person102"} & {row[0][0] for row in got}


def test_a_stale_index_is_detected_and_rebuilt(tmp_path: Path, small_index: None) -> None:
    rng = np.random.default_rng(3)
    path = tmp_path / "g.db"
    with Gallery.open(path, create=True) as gallery:
        enroll_people(gallery, REF, 0, 50, rng)
        collection = gallery.collection(REF.fingerprint)
        assert collection is not None
        with pytest.warns(SiamcliWarning, match="it has none yet"):
            refresh(gallery, collection)
        first = indexed(gallery, REF).file
        more = enroll_people(gallery, REF, 50, 10, rng)  # 60 changes: beyond REBUILD_FROM
        with pytest.warns(SiamcliWarning, match="60 samples enrolled or removed since it was built"):
            search = indexed(gallery, REF)
        assert search.file != first and not Path(first).exists() and not search.recent_names
        probes = probes_near(more, rng, 20)
        assert_same(search.nearest(probes, 2), exact(gallery, REF, probes, 2))


def test_another_gallery_or_a_restored_backup_at_the_same_path_makes_it_stale(
    tmp_path: Path, small_index: None
) -> None:
    rng = np.random.default_rng(4)
    path, backup = tmp_path / "g.db", tmp_path / "backup.db"
    with Gallery.open(path, create=True) as gallery:
        enroll_people(gallery, REF, 0, 30, rng)
    shutil.copy(path, backup)
    with Gallery.open(path) as gallery:
        enroll_people(gallery, REF, 30, 2, rng)
        with pytest.warns(SiamcliWarning):
            indexed(gallery, REF)
    shutil.copy(backup, path)  # the backup lacks the 2 people the index holds
    with Gallery.open(path) as gallery, pytest.warns(SiamcliWarning, match="restored from a backup"):
        assert "person31" not in {name for row in indexed(gallery, REF).nearest(unit(rng, 30), 30) for name, _ in row}
    (path.unlink(), backup.unlink())
    with Gallery.open(path, create=True) as gallery:
        enroll_people(gallery, REF, 0, 30, rng)
        with pytest.warns(SiamcliWarning, match="made for another gallery"):
            indexed(gallery, REF)


def test_deleting_the_index_loses_nothing(tmp_path: Path, small_index: None) -> None:
    rng = np.random.default_rng(5)
    path = tmp_path / "g.db"
    with Gallery.open(path, create=True) as gallery:
        vectors = enroll_people(gallery, REF, 0, 80, rng)
        probes = probes_near(vectors, rng, 60)
        with pytest.warns(SiamcliWarning):
            before = indexed(gallery, REF).nearest(probes, 3)
    shutil.rmtree(index_folder(gallery))
    with Gallery.open(path) as gallery, pytest.warns(SiamcliWarning, match="it has none yet"):
        assert_same(indexed(gallery, REF).nearest(probes, 3), before)


def test_verify_and_enroll_go_through_the_index(tmp_path: Path, small_index: None) -> None:
    """The use cases: verify's 1:N and enroll's near-copy check search through the index."""
    gallery = tmp_path / "g.db"
    faces = []
    for identity, sample in [(1, 0), (1, 1), (2, 0)]:
        faces.append(tmp_path / f"{identity}-{sample}.png")
        drawn_face(identity, sample).save(faces[-1])
    with pytest.warns(SiamcliWarning, match="building the search index of 2 samples"):
        siamcli.enroll("alice", faces[:2], gallery=gallery)
    siamcli.enroll("bob", faces[2:], gallery=gallery)
    verdicts = list(siamcli.verify(faces, gallery=gallery, top_k=2, score="nearest"))  # centroids read every sample
    assert [v.identity for v in verdicts] == ["alice", "alice", "bob"]
    assert all(v.distance < 0.01 for v in verdicts)  # each is enrolled itself
    assert [name for name, _ in verdicts[2].candidates] == ["bob", "alice"]
    copy = tmp_path / "copy.png"
    Image.open(faces[2]).save(copy, optimize=True)  # the same picture, other bytes
    with pytest.warns(SiamcliWarning, match="copy.png: nearly identical to a sample of 'bob'"):
        siamcli.enroll("carol", [copy], gallery=gallery)


def test_a_gallery_whose_index_cannot_be_written_is_still_searched(tmp_path: Path, small_index: None) -> None:
    """As for a gallery this user may read but not write: one line on stderr, then exact search."""
    rng = np.random.default_rng(6)
    path = tmp_path / "g.db"
    with Gallery.open(path, create=True) as gallery:
        vectors = enroll_people(gallery, REF, 0, 40, rng)
        index_folder(gallery).write_text("not a folder")  # where the index would go
        collection = gallery.collection(REF.fingerprint)
        assert collection is not None
        with pytest.warns(SiamcliWarning, match="cannot write its search index"):
            search = open_search(gallery, collection)
        probes = probes_near(vectors, rng, 20)
        assert isinstance(search, ExactSearch)
        assert_same(search.nearest(probes, 2), exact(gallery, REF, probes, 2))


def test_a_damaged_index_or_record_is_built_again(tmp_path: Path, small_index: None) -> None:
    rng = np.random.default_rng(7)
    path = tmp_path / "g.db"
    with Gallery.open(path, create=True) as gallery:
        vectors = enroll_people(gallery, REF, 0, 40, rng)
        probes = probes_near(vectors, rng, 20)
        with pytest.warns(SiamcliWarning):
            first = indexed(gallery, REF).file
        first.write_bytes(first.read_bytes()[:1000])  # truncated
        with pytest.warns(SiamcliWarning, match="its search index cannot be read"):
            assert_same(indexed(gallery, REF).nearest(probes, 2), exact(gallery, REF, probes, 2))
        record = index_folder(gallery) / "collection-1.json"
        record.write_text(record.read_text().replace('"file": "collection-1-', '"file": "../../collection-1-'))
        with pytest.warns(SiamcliWarning, match="it has none yet"):  # a record not as written: not trusted
            assert_same(indexed(gallery, REF).nearest(probes, 2), exact(gallery, REF, probes, 2))

"""A search index beside the gallery: approximate nearest neighbours for 1:N among many samples.

SQLite stays the source of truth; the index only says where to look. It is an inverted-file index
(faiss's IVF with 8-bit scalar quantisation: the embeddings split into lists around k-means
centroids, a byte a value; a probe scans the lists of its nearest centroids) over a collection's
embeddings as they were at one position of the gallery's journal of changes. Samples enrolled since
that position are searched exactly beside it, and every candidate the index proposes is read back
from SQLite and re-ranked with the model's own distance: a sample removed since is never returned,
and the distances reported are exact.

Once the changes since outgrow a share of the index, they are merged into it (added and removed in
place); once the collection has grown fourfold since its centroids were drawn, it is built anew.
Deleting the index folder loses nothing: the next search builds it again.

    gallery.db
    gallery.db.index/
        collection-1.json           what the index holds: gallery id, collection, journal position, file
        collection-1-<random>.faiss
"""

from __future__ import annotations

import json
import math
import re
import secrets
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from siamcli.core.distances import Distance, get_distance
from siamcli.core.search import ExactSearch, Nearest, Search, nearest_identities
from siamcli.errors import SiamcliError, SiamcliWarning, first_line
from siamcli.files import write_atomic
from siamcli.gallery import Change, Collection, Gallery

INDEX_FROM = 20_000  # samples in a collection from which 1:N goes through an index (below: exact)
MERGE_SHARE = 0.05  # changes since the index, as a share of it, beyond which they are merged into it
MERGE_FROM = 5_000  # ... and never for fewer changes than these
REDRAW_GROWTH = 4.0  # grown this much since its centroids were drawn: build it anew
LISTS_PER_ROOT = 4  # lists: 4 x sqrt(samples), 4,000 at a million: about 250 embeddings a list
TRAINING_PER_LIST = 32  # k-means sees this many samples a list (faiss asks for 39; 32 costs no recall here)
PROBED_LISTS = 128  # lists scanned per probe: 99.9% recall@1 on a million random embeddings
CANDIDATES = 64  # samples proposed for each identity asked for, re-ranked exactly
RECORD_VERSION = 1
NONE_YET = "it has none yet"


@dataclass(frozen=True)
class IndexRecord:
    """What an index file holds, kept beside it as JSON."""

    version: int
    gallery: str  # the gallery's id: another gallery at the same path makes the index stale
    collection: int
    fingerprint: str
    position: int  # the journal position the index's samples are at
    last_change: list[int] | None  # (sample id, added) of the change at `position`, None at 0
    samples: int
    drawn_for: int  # samples when its centroids were drawn
    file: str  # the index's file name, in the same folder

    @classmethod
    def read(cls, path: Path) -> IndexRecord | None:
        """The record, or None when there is none or it is not one this version wrote (then the index
        is built anew: nothing in it is trusted, and its file name is never followed out of the folder)."""
        try:
            record = cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        numbers = (record.version, record.collection, record.position, record.samples, record.drawn_for)
        well_formed = (
            all(type(n) is int for n in numbers)
            and isinstance(record.gallery, str)
            and isinstance(record.fingerprint, str)
            and (record.last_change is None or (isinstance(record.last_change, list) and len(record.last_change) == 2))
            and re.fullmatch(rf"collection-{record.collection}-[0-9a-f]+\.faiss", str(record.file)) is not None
        )
        return record if well_formed and record.version == RECORD_VERSION else None


@dataclass
class Delta:
    """The changes since an index's position: samples it lacks, and samples it holds that are gone."""

    position: int  # of the last change
    added: set[int] = field(default_factory=set)
    removed: set[int] = field(default_factory=set)

    @classmethod
    def replay(cls, position: int, changes: list[Change]) -> Delta:
        delta = cls(max((change.position for change in changes), default=position))
        for change in changes:
            if change.added:
                delta.added.add(change.sample_id)
            elif change.sample_id in delta.added:
                delta.added.discard(change.sample_id)
            else:
                delta.removed.add(change.sample_id)
        return delta

    def __len__(self) -> int:
        return len(self.added) + len(self.removed)


def index_folder(gallery: Gallery) -> Path:
    return gallery.path.with_name(gallery.path.name + ".index")


def _record_path(gallery: Gallery, collection: Collection) -> Path:
    return index_folder(gallery) / f"collection-{collection.id}.json"


def _prepared(vectors: np.ndarray, collection: Collection) -> np.ndarray:
    """What the index stores and is asked with: L2 ranks as the model's distance does (cosine: on the
    unit sphere, where the two agree)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if collection.distance == "cosine":
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
    return vectors


def _last_change(gallery: Gallery, position: int) -> list[int] | None:
    """[sample id, added] of the journal's change at `position`, as an index record keeps it."""
    last = gallery.change_at(position)
    return None if last is None else [last.sample_id, int(last.added)]


def _check(gallery: Gallery, collection: Collection) -> tuple[IndexRecord, Delta] | str:
    """The collection's index and the changes since, or why there is no usable one."""
    record = IndexRecord.read(_record_path(gallery, collection))
    if record is None or not (index_folder(gallery) / record.file).is_file():
        return NONE_YET
    if (record.gallery, record.collection, record.fingerprint) != (
        gallery.gallery_id(),
        collection.id,
        collection.fingerprint,
    ):
        return "it was made for another gallery or model"
    # A gallery restored from a backup may reuse journal positions: the change at the index's position
    # must be the one it was built after, and the samples must add up.
    delta = Delta.replay(record.position, gallery.changes(collection, record.position))
    expected = record.samples + len(delta.added) - len(delta.removed)
    if _last_change(gallery, record.position) != record.last_change or expected != gallery.count(collection):
        return "the gallery was changed in a way its journal does not show (restored from a backup?)"
    if expected > REDRAW_GROWTH * record.drawn_for:
        return f"the collection has grown from {record.drawn_for:,} to {expected:,} samples since it was built"
    return record, delta


def _current(gallery: Gallery, collection: Collection) -> tuple[IndexRecord, Delta] | None:
    """The collection's index brought up to date (built, rebuilt or merged, saying so), or None when
    the collection is too small for one."""
    checked = _check(gallery, collection)
    if isinstance(checked, str):
        count = gallery.count(collection)
        if count < max(INDEX_FROM, 1):  # searched exactly: no index to build, however stale the old one
            return None
        _say(gallery, f"building the search index of {count:,} samples ({checked})")
        written = _write_or_say(gallery, collection, None, None)
        return None if written is None else (written, Delta(written.position))
    record, delta = checked
    if len(delta) > max(MERGE_FROM, MERGE_SHARE * record.samples):
        _say(gallery, f"updating the search index: {len(delta):,} samples enrolled or removed since it was built")
        written = _write_or_say(gallery, collection, record, delta)
        return checked if written is None else (written, Delta(written.position))
    return checked


def _write_or_say(
    gallery: Gallery, collection: Collection, record: IndexRecord | None, delta: Delta | None
) -> IndexRecord | None:
    """A gallery or folder this user may read but not write is still searched: exactly, or through the
    index it has with the changes since beside it."""
    try:
        return _write(gallery, collection, record, delta)
    except (SiamcliError, OSError, RuntimeError) as error:  # RuntimeError: faiss on a damaged file
        _say(gallery, f"cannot write its search index ({first_line(error)}); searching without the update")
        return None


def _say(gallery: Gallery, message: str) -> None:
    warnings.warn(SiamcliWarning(f"{gallery.path}: {message}"), stacklevel=4)


def refresh(gallery: Gallery, collection: Collection) -> None:
    """After a write: build the index once the collection has grown into one; merge the changes into
    it once they outgrow it. Cheap when there is nothing to do, so enrolment stays fast."""
    _current(gallery, collection)


def open_search(gallery: Gallery, collection: Collection, score: str = "nearest") -> Search:
    """The collection's search: through its index from INDEX_FROM samples (built, rebuilt or merged
    first when it is missing or stale), exact below that and for centroid scores (the centroids of a
    million samples are a full read: use `nearest` there)."""
    current = _current(gallery, collection) if score == "nearest" else None
    if current is not None:
        try:
            return IndexedSearch.open(gallery, collection, *current)
        except RuntimeError as error:  # faiss cannot read the file: damaged
            _say(gallery, f"its search index cannot be read ({first_line(error)}); building it again")
            written = _write_or_say(gallery, collection, None, None)
            if written is not None:
                return IndexedSearch.open(gallery, collection, written, Delta(written.position))
    return ExactSearch(gallery.enrolled(collection), get_distance(collection.distance), score)


def _write(gallery: Gallery, collection: Collection, record: IndexRecord | None, delta: Delta | None) -> IndexRecord:
    """A new index file (built from the gallery as it is now, or `record`'s with `delta` merged into
    it), then, atomically, the record naming it; the file it replaces is deleted last."""
    import faiss

    if record is None or delta is None:
        snapshot = gallery.snapshot(collection)
        position, index = snapshot.position, _built(_prepared(snapshot.embeddings, collection), snapshot.ids)
        drawn_for = len(snapshot.ids)
    else:
        position = delta.position
        index = faiss.read_index(str(index_folder(gallery) / record.file))
        index.remove_ids(np.fromiter(delta.removed, dtype=np.int64, count=len(delta.removed)))
        added = gallery.rows(collection, sorted(delta.added))
        index.add_with_ids(_prepared(added.embeddings, collection), added.ids)
        drawn_for = record.drawn_for
    folder = index_folder(gallery)
    folder.mkdir(mode=0o700, exist_ok=True)
    name = f"collection-{collection.id}-{secrets.token_hex(6)}.faiss"
    faiss.write_index(index, str(folder / name))
    written = IndexRecord(
        RECORD_VERSION,
        gallery.gallery_id() or "",
        collection.id,
        collection.fingerprint,
        position,
        _last_change(gallery, position),
        int(index.ntotal),
        drawn_for,
        name,
    )
    write_atomic(_record_path(gallery, collection), json.dumps(asdict(written), indent=1).encode())
    for replaced in folder.glob(f"collection-{collection.id}-*.faiss"):
        if replaced.name != name:
            replaced.unlink(missing_ok=True)  # a search that has it open keeps reading it until it closes
    return written


def _built(vectors: np.ndarray, ids: np.ndarray) -> Any:
    import faiss

    # Never fewer than a list per 39 samples: k-means on fewer says so on stderr.
    lists = max(1, min(round(LISTS_PER_ROOT * math.sqrt(len(vectors))), len(vectors) // 39))
    dim = vectors.shape[1]
    # A byte a value: a quarter of the memory and the reading of float32, and candidates are re-ranked
    # from SQLite's float32 anyway (a million samples: 138 MB read in 0.14 s, 1.2 ms a probe).
    index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatL2(dim), dim, lists, faiss.ScalarQuantizer.QT_8bit)
    index.cp.min_points_per_centroid = 1  # 32 a list is enough; faiss's 39 would only warn
    training = np.random.default_rng(0).permutation(len(vectors))[: TRAINING_PER_LIST * lists]
    index.train(vectors[np.sort(training)])
    index.add_with_ids(vectors, ids)
    return index


@dataclass
class IndexedSearch:
    """1:N through the index, the samples enrolled since searched exactly beside it, every candidate
    re-read from SQLite and re-ranked with the model's distance."""

    gallery: Gallery
    collection: Collection
    distance: Distance
    file: Path
    index: Any  # a faiss IndexIVFScalarQuantizer
    removed: int  # samples in the index removed since: asked for beyond k, as they will be dropped
    recent_names: list[str]
    recent: np.ndarray  # embeddings enrolled since the index was written

    @classmethod
    def open(cls, gallery: Gallery, collection: Collection, record: IndexRecord, delta: Delta) -> IndexedSearch:
        import faiss

        file = index_folder(gallery) / record.file
        index = faiss.read_index(str(file))  # into memory: memory-mapped, faiss copies every list it scans
        index.nprobe = min(PROBED_LISTS, index.nlist)
        recent = gallery.rows(collection, sorted(delta.added))
        distance = get_distance(collection.distance)
        return cls(gallery, collection, distance, file, index, len(delta.removed), recent.identities, recent.embeddings)

    def nearest(self, probes: np.ndarray, k: int) -> list[Nearest]:
        wanted = min(CANDIDATES * k + self.removed, self.index.ntotal)
        if wanted:
            _, keys = self.index.search(_prepared(probes, self.collection), wanted)
        else:  # everyone in the index was removed since
            keys = np.empty((len(probes), 0), dtype=np.int64)
        found = self.gallery.rows(self.collection, keys[keys >= 0])
        names, embeddings = found.identities, found.embeddings
        row_of = {int(sample_id): row for row, sample_id in enumerate(found.ids)}
        to_recent = np.asarray(self.distance.pairwise(probes, self.recent)) if len(self.recent) else None
        results = []
        for i, proposed in enumerate(keys.tolist()):
            rows = [row_of[key] for key in proposed if key in row_of]  # removed ones are not
            distances = np.asarray(self.distance.pairwise(probes[i : i + 1], embeddings[rows]))[0]
            candidates = [names[row] for row in rows]
            if to_recent is not None:
                candidates += self.recent_names
                distances = np.concatenate([distances, to_recent[i]])
            results.append(nearest_identities(candidates, distances, k))
        return results

"""A gallery of a million samples searched through its index, against brute force; and the
libraries the index could be built with, side by side.

    python benchmarks/gallery_index.py [--identities 100000] [--compare 100000] [--data DIR] [--quick]
    python benchmarks/gallery_index.py --crossover 5000 20000 50000

The gallery holds random unit embeddings of the shipped face model's size, 10 to an identity, in the
face model's collection. Genuine probes are 1,000 enrolled samples moved by noise to a distance of
0.4 (the face model's threshold is 0.44: a genuine probe near it); strangers are 1,000 random unit
vectors. Recall@1 is the share of probes whose nearest identity through the index is the one brute
force finds. The whole `siamcli verify` and `siamcli enroll` are timed on ORL photos (or drawn faces)
in fresh processes. --compare N first measures faiss IVF-SQ8 (what siamcli uses), faiss HNSW,
hnswlib and usearch on N random embeddings; a library that is not installed is skipped.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from common import arguments, build_large_gallery, siamcli_cli  # sibling scripts

import siamcli
from siamcli.gallery import NewSample
from siamcli.gallery import index as gallery_index
from siamcli.usecases.choice import choose_model

GENUINE_DISTANCE = 0.4

# Run in a fresh process: open the gallery and its index, answer every probe one at a time.
SEARCH_IN_A_FRESH_PROCESS = """
import json, sys, time
started = time.perf_counter()
import numpy as np
from siamcli.gallery import Gallery
from siamcli.gallery.index import open_search
gallery = Gallery.open(sys.argv[1])
search = open_search(gallery, gallery.collections()[0])
opened = time.perf_counter() - started
probes = np.load(sys.argv[2])
answers, times = [], []
for probe in probes:
    started = time.perf_counter()
    answers.append(search.nearest(probe[None], 1)[0][0])
    times.append(time.perf_counter() - started)
started = time.perf_counter()
batched = search.nearest(probes, 1)
batch_seconds = time.perf_counter() - started
# Peak memory of this process since it started: VmHWM (ru_maxrss would keep the parent's at fork).
rss = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"open": opened, "times": times, "answers": answers, "batch": batch_seconds, "rss": rss,
                  "search": type(search).__name__}))
"""


def unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def genuine_probes(embeddings: np.ndarray, rng: np.random.Generator, count: int) -> np.ndarray:
    """Enrolled samples moved GENUINE_DISTANCE away, in a random direction orthogonal to them."""
    sources = embeddings[rng.choice(len(embeddings), count, replace=False)]
    noise = rng.normal(size=sources.shape).astype(np.float32)
    noise -= (noise * sources).sum(1, keepdims=True) * sources
    noise = unit(noise)
    angle = 2 * np.arcsin(GENUINE_DISTANCE / 2)  # the chord of length GENUINE_DISTANCE on the unit sphere
    return unit(np.cos(angle) * sources + np.sin(angle) * noise)


def brute_force(embeddings: np.ndarray, probes: np.ndarray, per_identity: int) -> tuple[np.ndarray, np.ndarray]:
    """Each probe's nearest identity and its (euclidean) distance, every sample scored."""
    nearest = np.concatenate(
        [np.argmax(probes[i : i + 100] @ embeddings.T, axis=1) for i in range(0, len(probes), 100)]
    )
    return nearest // per_identity, np.linalg.norm(embeddings[nearest] - probes, axis=1)


def compare_libraries(count: int) -> None:
    """Build, open (from its file), probe one at a time for 64 candidates, and recall@1 within them."""
    rng = np.random.default_rng(1)
    vectors = unit(rng.normal(size=(count, 128)))
    ids = np.arange(count, dtype=np.int64)
    probes = genuine_probes(vectors, rng, 500)
    truth, _ = brute_force(vectors, probes, 1)
    print(f"libraries on {count:,} random unit embeddings (128 values), 500 genuine probes, 64 candidates each:")
    with tempfile.TemporaryDirectory() as tmp:
        for name, build, load, search in _libraries(Path(tmp)):
            try:
                started = time.perf_counter()
                built = build(vectors, ids)
                build_seconds = time.perf_counter() - started
            except ImportError as error:
                print(f"  {name}: skipped ({error})")
                continue
            started = time.perf_counter()
            index = load(built)
            open_seconds = time.perf_counter() - started
            times, found = [], 0
            for probe, true in zip(probes, truth):
                started = time.perf_counter()
                keys = search(index, probe[None])
                times.append(time.perf_counter() - started)
                found += int(true in keys)
            print(
                f"  {name:<34} build {build_seconds:6.1f} s  open {open_seconds:5.3f} s  "
                f"probe {statistics.median(times) * 1000:5.2f} ms  recall@1 {found / len(probes):.4f}"
            )


def _libraries(folder: Path) -> list:
    def faiss_ivf(vectors: np.ndarray, ids: np.ndarray) -> str:
        import faiss

        index = gallery_index._built(vectors, ids)
        faiss.write_index(index, str(folder / "ivf.faiss"))
        return str(folder / "ivf.faiss")

    def faiss_ivf_open(path: str):
        import faiss

        index = faiss.read_index(path)
        index.nprobe = gallery_index.PROBED_LISTS
        return index

    def faiss_hnsw(vectors: np.ndarray, ids: np.ndarray) -> str:
        import faiss

        index = faiss.IndexHNSWFlat(vectors.shape[1], 32)
        index.hnsw.efConstruction = 128
        index.add(vectors)
        faiss.write_index(index, str(folder / "hnsw.faiss"))
        return str(folder / "hnsw.faiss")

    def faiss_hnsw_open(path: str):
        import faiss

        index = faiss.read_index(path)
        index.hnsw.efSearch = 128
        return index

    def faiss_search(index, probe: np.ndarray) -> np.ndarray:
        return index.search(probe, 64)[1][0]

    def hnswlib_build(vectors: np.ndarray, ids: np.ndarray) -> str:
        import hnswlib

        index = hnswlib.Index(space="l2", dim=vectors.shape[1])
        index.init_index(max_elements=len(vectors), ef_construction=128, M=32)
        index.add_items(vectors, ids)
        index.save_index(str(folder / "hnswlib.bin"))
        return str(folder / "hnswlib.bin")

    def hnswlib_open(path: str):
        import hnswlib

        index = hnswlib.Index(space="l2", dim=128)
        index.load_index(path)
        index.set_ef(128)
        return index

    def usearch_build(vectors: np.ndarray, ids: np.ndarray) -> str:
        from usearch.index import Index

        index = Index(ndim=vectors.shape[1], metric="l2sq", dtype="f32", connectivity=32, expansion_add=128)
        index.add(ids, vectors, threads=1)  # more threads strand nodes unreachable (usearch issue 735)
        index.save(str(folder / "usearch.bin"))
        return str(folder / "usearch.bin")

    def usearch_open(path: str):
        from usearch.index import Index

        index = Index.restore(path, view=True)
        index.expansion_search = 128
        return index

    return [
        ("faiss IVF-SQ8 (siamcli)", faiss_ivf, faiss_ivf_open, faiss_search),
        ("faiss HNSW32", faiss_hnsw, faiss_hnsw_open, faiss_search),
        ("hnswlib HNSW32", hnswlib_build, hnswlib_open, lambda index, probe: index.knn_query(probe, 64)[0][0]),
        (
            "usearch HNSW32 (1 thread), view",
            usearch_build,
            usearch_open,
            lambda index, probe: index.search(probe[0], 64).keys,
        ),
    ]


def crossover(sizes: list[int]) -> None:
    """Where the index starts to pay: a fresh process opening the gallery and answering one probe,
    every sample scored, then through the index (built in between, not timed)."""
    print("one probe in a fresh process, opening included (median of 3): exact | through the index")
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            gallery, probe = Path(tmp) / "gallery.db", Path(tmp) / "probe.npy"
            build_large_gallery(gallery, size // 10, 10)
            np.save(probe, unit(np.random.default_rng(4).normal(size=(1, 128))))
            exact = _one_probe_seconds(gallery, probe, index_from=size + 1)
            with siamcli.open_gallery(gallery) as opened:
                gallery_index._write(opened, opened.collections()[0], None, None)
            indexed = _one_probe_seconds(gallery, probe, index_from=0)
            print(f"  {size:>7,} samples: {exact * 1000:5.0f} ms | {indexed * 1000:5.0f} ms")


def _one_probe_seconds(gallery: Path, probe: Path, index_from: int) -> float:
    code = f"import siamcli.gallery.index as i; i.INDEX_FROM = {index_from}\n" + SEARCH_IN_A_FRESH_PROCESS
    command = [sys.executable, "-c", code, str(gallery), str(probe)]
    runs = [json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout) for _ in range(3)]
    return statistics.median(run["open"] + run["times"][0] for run in runs)


def photos(data: Path, folder: Path) -> list[Path]:
    """Face photos for the whole commands: ORL's when the data is there, else drawn ones."""
    if data.is_dir():
        return sorted(data.rglob("*.pgm"))[::10]
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.conftest import drawn_face

    folder.mkdir()
    for identity in range(40):
        drawn_face(identity, 0).save(folder / f"{identity}.png")
    return sorted(folder.iterdir())


def main() -> None:
    parser = arguments(__doc__, "orl_faces")
    parser.add_argument("--identities", type=int, default=100_000)
    parser.add_argument("--compare", type=int, default=0, help="embeddings to compare the libraries on (0: do not)")
    parser.add_argument(
        "--crossover", type=int, nargs="*", default=[], help="gallery sizes to time exact against indexed"
    )
    args = parser.parse_args()
    repeats, late = (1, 2_000) if args.quick else (3, 60_000)
    if args.quick:  # the index is built from 20,000 samples: the quick gallery still has one
        args.identities = 2_500
    warnings.simplefilter("ignore")
    if args.compare:
        compare_libraries(args.compare)
    if args.crossover:
        crossover(args.crossover)
        return

    per_identity = 10
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        gallery = work / "gallery.db"
        started = time.perf_counter()
        embeddings = build_large_gallery(gallery, args.identities, per_identity)
        print(
            f"gallery of {len(embeddings):,} samples ({args.identities:,} identities x {per_identity}): "
            f"{time.perf_counter() - started:.0f} s to enroll, {gallery.stat().st_size / 2**20:.0f} MiB"
        )
        started = time.perf_counter()
        with siamcli.open_gallery(gallery) as opened:
            gallery_index.refresh(opened, opened.collections()[0])
        index_bytes = sum(f.stat().st_size for f in gallery_index.index_folder(opened).iterdir())
        print(f"index built in {time.perf_counter() - started:.0f} s: {index_bytes / 2**20:.0f} MiB beside it")

        model, ref = choose_model(None, [Path("x.png")], None)
        threshold = model.threshold
        rng = np.random.default_rng(2)
        for kind, probes in (
            ("genuine", genuine_probes(embeddings, rng, 1000)),
            ("stranger", unit(rng.normal(size=(1000, embeddings.shape[1])))),
        ):
            np.save(work / "probes.npy", probes)
            nearest, distances = brute_force(embeddings, probes, per_identity)
            truth = [f"person{i:05d}" for i in nearest]
            runs = []
            for _ in range(repeats):
                result = subprocess.run(
                    [sys.executable, "-c", SEARCH_IN_A_FRESH_PROCESS, str(gallery), str(work / "probes.npy")],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs.append(json.loads(result.stdout))
            recall = np.mean([name == t for (name, _), t in zip(runs[0]["answers"], truth)])
            # The face model's threshold decides identified or unknown: through the index and by brute force.
            decisions = np.mean(
                [(d <= threshold) == (exact <= threshold) for (_, d), exact in zip(runs[0]["answers"], distances)]
            )
            print(
                f"{kind} probes ({runs[0]['search']}): open {statistics.median(r['open'] for r in runs):.3f} s "
                f"(fresh process, imports included), "
                f"{statistics.median(runs[0]['times']) * 1000:.2f} ms a probe one at a time "
                f"(95th percentile {np.percentile(runs[0]['times'], 95) * 1000:.2f}), "
                f"{runs[0]['batch'] / len(probes) * 1000:.2f} ms a probe batched; recall@1 {recall:.4f}, "
                f"decisions as brute force's {decisions:.2%}; "
                f"peak memory {max(r['rss'] for r in runs) / 2**30:.2f} GiB"
            )

        faces = photos(args.data, work / "faces")
        verify = [
            siamcli_seconds("verify", str(faces[0]), "--score", "nearest", "--gallery", str(gallery)) for _ in range(4)
        ][1:]
        print(f"cold `siamcli verify photo` (1:N among {len(embeddings):,}): median {statistics.median(verify):.2f} s")
        enroll = [
            siamcli_seconds("enroll", f"newcomer{i}", str(face), "--gallery", str(gallery))
            for i, face in enumerate(faces[1:6])
        ]
        print(
            f"cold `siamcli enroll NAME photo` into it: median {statistics.median(enroll):.2f} s, {len(enroll)} people"
        )

        rows = unit(np.random.default_rng(3).normal(size=(late, embeddings.shape[1])))
        with siamcli.open_gallery(gallery) as opened:
            batch = [(f"late{i}", [NewSample(f"/late/{i}", f"late{i:060d}", rows[i])]) for i in range(len(rows))]
            opened.enroll_many(ref, batch)  # behind the index's back: the Python API
            started = time.perf_counter()
            gallery_index.refresh(opened, opened.collections()[0])
            print(
                f"{len(rows):,} samples enrolled behind its back, merged into the index in "
                f"{time.perf_counter() - started:.1f} s"
            )


def siamcli_seconds(*args: str) -> float:
    started = time.perf_counter()
    siamcli_cli(*args)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()

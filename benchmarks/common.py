"""What the benchmark scripts share: their command line (`--data`, `--quick`), folders of identities as
links, the command line in a fresh process, the median time of a cold `siamcli verify`, and a large
gallery of random embeddings.

Every benchmark takes `--quick`: each of its steps on a few files of each data set and the shortest
training, in seconds, so that CI runs them all (tests/test_benchmarks.py) and none rots unseen. Its
figures mean nothing; the README's come from full runs.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import siamcli
from siamcli.gallery import NewSample
from siamcli.usecases.choice import choose_model

DEFAULT_DATA = Path(os.environ.get("SIAMCLI_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))
# Quick runs: the fewest epochs and members that still run every step of training and its validation.
QUICK_TRAINING = {"epochs": 1, "patience": 1, "members": 1}


def arguments(doc: str, data: str | None = "") -> argparse.ArgumentParser:
    """The benchmark's command line: `--quick`, and `--data` (DEFAULT_DATA / `data`) unless `data` is None."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    if data is not None:
        parser.add_argument("--data", type=Path, default=DEFAULT_DATA / data if data else DEFAULT_DATA)
    parser.add_argument(
        "--quick", action="store_true", help="every step on a few files, in seconds; the figures mean nothing (CI)"
    )
    return parser


def percent(rate: float | None) -> str:
    """A rate for a person; None (too few trials to measure it) as n/a."""
    return "n/a" if rate is None else f"{rate:.2%}"


def quick_training_options(quick: bool) -> list[str]:
    """`siamcli train` options of a quick run (none for a real one)."""
    return [part for name, value in QUICK_TRAINING.items() for part in (f"--{name}", str(value))] if quick else []


def quick_view(data: Path, folder: Path, identities: int = 40, files: int = 3) -> Path:
    """`data` (a data set, or a folder of data sets) as links to at most `identities` identities of each
    data set, evenly spaced in name order, and the first `files` files of each: what `--quick` runs on."""
    if not data.is_dir():
        return data  # the benchmark says it is missing, as for a full run
    folder.mkdir(parents=True, exist_ok=True)
    children = sorted(p for p in data.iterdir() if p.is_dir())
    if children and any(f.is_file() for f in children[0].iterdir()):  # a data set: one folder per identity
        view = folder / data.name
        view.mkdir()
        for identity in children[:: max(1, math.ceil(len(children) / identities))]:
            (view / identity.name).mkdir()
            for file in sorted(f for f in identity.iterdir() if f.is_file())[:files]:
                (view / identity.name / file.name).symlink_to(file.resolve())
        return view
    view = folder / data.name
    view.mkdir()
    for child in children:
        quick_view(child, view, identities, files)
    return view


def link_all(target: Path, folders: list[Path]) -> Path:
    """A dataset folder holding `folders` (one per identity) as symbolic links: nothing is copied."""
    target.mkdir()
    for folder in folders:
        (target / folder.name).symlink_to(folder.resolve(), target_is_directory=True)
    return target


def orl_split(data: Path, folder: Path) -> tuple[Path, Path]:
    """ORL's s1-s30 (to train on) and s31-s40 (ten people never seen), linked under `folder`."""
    if not data.is_dir():
        sys.exit(f"ORL faces not found at {data}; pass --data or set SIAMCLI_DATA")
    train = link_all(folder / "train", [data / f"s{i}" for i in range(1, 31)])
    return train, link_all(folder / "test", [data / f"s{i}" for i in range(31, 41)])


def siamcli_cli(*args: str) -> str:
    """stdout of `siamcli ARGS` in a fresh process; the benchmark stops on an error (exit 2)."""
    result = subprocess.run([sys.executable, "-m", "siamcli", *args], capture_output=True, text=True)
    if result.returncode not in (0, 1):
        sys.exit(f"siamcli {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def cold_verify_seconds(probe: Path, claim: str, gallery: Path, runs: int = 7) -> float:
    """Median seconds of `siamcli verify PROBE --claim CLAIM`, each in a fresh process (one run first,
    unmeasured, so that the files are in the page cache as they would be on a used machine)."""
    command = ("verify", str(probe), "--claim", claim, "--gallery", str(gallery))
    siamcli_cli(*command)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        siamcli_cli(*command)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def build_large_gallery(path: Path, identities: int, per_identity: int) -> np.ndarray:
    """Random unit embeddings of the shipped face model's size, enrolled in the face model's collection
    1,000 identities to a transaction (person00000's first); returns them, in that order."""
    model, ref = choose_model(None, [Path("x.png")], None)
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(identities * per_identity, model.card.embedding_dim)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    with siamcli.open_gallery(path, create=True) as gallery:
        for first in range(0, identities, 1000):
            batch = []
            for identity in range(first, min(first + 1000, identities)):
                rows = embeddings[identity * per_identity : (identity + 1) * per_identity]
                samples = [
                    NewSample(f"/synthetic/{identity}/{j}", f"{identity:032d}{j:032d}", vector)
                    for j, vector in enumerate(rows)
                ]
                batch.append((f"person{identity:05d}", samples))
            gallery.enroll_many(ref, batch)
    return embeddings


# Label errors found in the shared data sets: two folders of one person. CelebA's identities 7392 and
# 7393 are the same actress (their photos are nearer each other, median 0.27, than most people's own
# photos are, 0.30; look at them). Counted as strangers, her photos would be "named" by her own
# enrolment, so calibration and the open-set figures treat the two folders as one identity.
SAME_PERSON = {"celeba_subset": {"celeb_7393": "celeb_7392"}}


def corrected_view(data: Path, folder: Path) -> Path:
    """`data` (one data set) as links in `folder`/<its name>, with SAME_PERSON's folders merged; the
    data set itself when it has no known label errors."""
    merged = SAME_PERSON.get(data.name)
    if not merged or not data.is_dir():
        return data
    view = folder / data.name
    for identity in sorted(p for p in data.iterdir() if p.is_dir()):
        target = view / merged.get(identity.name, identity.name)
        target.mkdir(parents=True, exist_ok=True)
        for file in sorted(identity.iterdir()):
            (target / f"{identity.name}_{file.name}").symlink_to(file.resolve())
    return view

"""`siamcli enroll --folders`: one call for a whole folder of people against one call per person, and
an interrupted run of 20,000 files resumed.

    python benchmarks/enroll_folders.py [--data ../shared/data] [--files 20000] [--quick]

- ORL's 400 photos (40 people) through the shipped face model: 40 separate `siamcli enroll NAME
  FILES...` calls, against one `siamcli enroll --folders`, each into a new gallery, fresh processes.
- A folder of generated images (grey drawings, 20 a person) enrolled with the retired small face model
  (fast, so the run measures siamcli's own work): killed half-way, then run again; the second run
  must enrol exactly the files the first did not commit, and nothing twice.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import arguments, quick_view  # a sibling script
from PIL import Image

from siamcli.models import retired_models


def siamcli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "siamcli", *args], capture_output=True, text=True)


def timed(*args: str) -> float:
    started = time.perf_counter()
    result = siamcli(*args)
    if result.returncode != 0:
        sys.exit(f"siamcli {' '.join(args[:3])} ... failed: {result.stderr.strip()}")
    return time.perf_counter() - started


def generated_folder(root: Path, files: int, per_person: int = 20) -> Path:
    """Grey 56x46 drawings: a few blobs placed by the person, shifted and noisy per file."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:56, 0:46]
    for index in range(files):
        person, person_rng = index // per_person, np.random.default_rng(index // per_person)
        centres = person_rng.uniform([10, 9], [46, 37], size=(4, 2)) + rng.normal(0, 1, size=2)
        image = sum(np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 30.0) for cy, cx in centres)
        image = image + rng.normal(0, 0.05, size=image.shape)
        pixels = (255 * (image - image.min()) / (image.max() - image.min())).astype(np.uint8)
        folder = root / f"person{person:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(folder / f"{index:06d}.png")
    return root


def count(gallery: Path) -> tuple[int, int]:
    with sqlite3.connect(gallery) as db:
        return db.execute("SELECT count(*), count(DISTINCT sha256) FROM samples").fetchone()


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--files", type=int, default=20000)
    args = parser.parse_args()
    orl = args.data / "orl_faces"
    if not orl.is_dir():
        sys.exit(f"{orl}: not found (pass --data or set SIAMCLI_DATA)")

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        if args.quick:  # a commit is 256 files: 600 are killed after the first and resumed
            orl, args.files = quick_view(orl, work / "quick", identities=4), 600
        people = sorted(p for p in orl.iterdir() if p.is_dir())
        separate = sum(
            timed("enroll", person.name, *map(str, sorted(person.iterdir())), "--gallery", str(work / "one.db"))
            for person in people
        )
        together = timed("enroll", "--folders", str(orl), "--gallery", str(work / "all.db"))
        print(
            f"ORL, {sum(len(list(p.iterdir())) for p in people)} photos of {len(people)} people, shipped face model: "
            f"{len(people)} `enroll` calls {separate:.1f} s in all, "
            f"one `enroll --folders` {together:.1f} s: {separate / together:.1f}x faster (target >= 1.7x)"
        )

        data = generated_folder(work / "generated", args.files)
        small = str(next(path for path in retired_models() if "faces" in path.name))
        gallery = work / "generated.db"
        command = [sys.executable, "-m", "siamcli", "enroll", "--folders", str(data), "--model", small]
        started = time.perf_counter()
        terminal = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": "100"}  # rich draws its bar as on a terminal
        first = subprocess.Popen([*command, "--gallery", str(gallery)], stderr=subprocess.PIPE, text=True, env=terminal)
        committed = 0
        while first.poll() is None and committed < args.files // 2:
            time.sleep(0.2)
            with contextlib.suppress(sqlite3.OperationalError):
                committed = count(gallery)[0] if gallery.exists() else 0
        first.kill()
        drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", first.communicate()[1] or "")
        bar = [line.strip() for line in re.split(r"[\r\n]", drawn) if "enrolling" in line]
        kept, distinct = count(gallery)
        print(
            f"{args.files:,} generated images: killed after {time.perf_counter() - started:.0f} s with {kept:,} "
            f"committed ({distinct:,} distinct); its progress bar's last line: {bar[-1] if bar else '(none)'}"
        )
        started = time.perf_counter()
        second = subprocess.run([*command, "--gallery", str(gallery)], capture_output=True, text=True)
        total, distinct = count(gallery)
        print(
            f"  run again: {time.perf_counter() - started:.0f} s, exit {second.returncode}, "
            f"'{second.stderr.strip().splitlines()[-1]}'; the gallery holds {total:,} samples, {distinct:,} "
            f"distinct (expected {args.files:,} of each)"
        )


if __name__ == "__main__":
    main()

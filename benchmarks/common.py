"""What the benchmark scripts share: folders of identities as links, the command line in a fresh
process, and the median time of a cold `siamcli verify`."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path


def link_all(target: Path, folders: list[Path]) -> Path:
    """A dataset folder holding `folders` (one per identity) as symbolic links: nothing is copied."""
    target.mkdir()
    for folder in folders:
        (target / folder.name).symlink_to(folder.resolve(), target_is_directory=True)
    return target


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

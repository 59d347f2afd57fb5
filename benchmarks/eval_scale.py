"""Evaluation at the size of real test sets: time and peak memory of a whole `siamcli eval --json`
process (and of `eval --report`), and of scoring generated embeddings in-process.

    python benchmarks/eval_scale.py [--data ../shared/data/omniglot_background]

Files: Omniglot background characters (20 drawings each), the first 50 (1,000 samples), the first 330
(6,600) and all 964 (19,279), embedded with the shipped face model: what is measured is eval's cost,
not its accuracy. Generated: random embeddings of the shipped model's size around one centre per
identity, 20 samples each, for exactly 1,000, 6,600 and 20,000 samples, scored with the Python API
(every metric and the bootstrap, not the embedding). Each run is a fresh process; peak memory is its
maximum resident set.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_DATA = Path(os.environ.get("SIAMCLI_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))

# Runs argv[1:] as a child and prints its peak resident memory in MiB (ru_maxrss is in KiB on Linux).
PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
)

GENERATED = """
import sys
import numpy as np
import siamcli
from siamcli.evaluation import metrics, score_all_pairs
model = siamcli.load_model("default:image")
samples = int(sys.argv[1])
rng = np.random.default_rng(0)
labels = np.repeat(np.arange(samples // 20), 20)
centres = rng.normal(size=(labels.max() + 1, model.card.embedding_dim))
points = (centres[labels] + 1.2 * rng.normal(size=(labels.size, centres.shape[1]))).astype(np.float32)
points /= np.linalg.norm(points, axis=1, keepdims=True)
evaluated = score_all_pairs(points, labels, [str(i) for i in range(labels.max() + 1)], model.distance)
print(metrics(model, evaluated)["eer"])
"""


def measure(command: list[str]) -> tuple[float, float]:
    """(seconds, peak MiB) of one fresh process running `command`."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", PEAK, *command], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return time.perf_counter() - started, float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA / "omniglot_background")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"Omniglot background set not found at {args.data} (pass --data, or set SIAMCLI_DATA)")
    characters = sorted(p for p in args.data.iterdir() if p.is_dir())
    siamcli = [sys.executable, "-m", "siamcli", "eval", "default:image"]
    with tempfile.TemporaryDirectory() as tmp:
        for count in (50, 330, len(characters)):
            subset = Path(tmp) / f"first{count}"
            subset.mkdir()
            for character in characters[:count]:
                (subset / character.name).symlink_to(character.resolve(), target_is_directory=True)
            samples = sum(len(list(character.glob("*.png"))) for character in characters[:count])
            seconds, peak = measure([*siamcli, str(subset), "--json"])
            report = Path(tmp) / f"report{count}"
            report_seconds, report_peak = measure([*siamcli, str(subset), "--json", "--report", str(report)])
            print(
                f"{samples:>6,} samples ({count} identities), whole `siamcli eval --json`: {seconds:.1f} s, "
                f"{peak:.0f} MiB; with --report: {report_seconds:.1f} s, {report_peak:.0f} MiB"
            )
    for samples in (1000, 6600, 20000):
        seconds, peak = measure([sys.executable, "-c", GENERATED, str(samples)])
        print(f"{samples:>6,} generated embeddings, scored in-process (all metrics): {seconds:.1f} s, {peak:.0f} MiB")
    print("targets: 6,600 samples at most 30 s and 1 GiB; 20,000 at most 120 s and 2 GiB")


if __name__ == "__main__":
    main()

"""Training beside other work: `siamcli train faces --from-scratch` on ORL s1-s30, alone and beside one
process that keeps a core busy, in a fresh process each, with siamcli's thread settings and with
torch's own (OMP_WAIT_POLICY=ACTIVE: OpenMP threads spin while they wait).

    python benchmarks/training_beside_work.py [--data ../shared/data/orl_faces] [--repeats 3] [--quick]

The busy neighbour is a Python loop (one core). The target: beside it, training takes at most 2.5 times
its time alone. Medians of `--repeats` runs, taken in turn so that drifts in the machine's load fall
on every setting alike.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import arguments, orl_split, quick_view  # a sibling script

BUSY = "while True: pass"


def train_seconds(train: Path, model: Path, env: dict[str, str], epochs: int) -> float:
    command = [sys.executable, "-m", "siamcli", "train", "faces", str(train), "-o", str(model), "--from-scratch"]
    command += ["--members", "1", "--epochs", str(epochs), "--patience", str(epochs)]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def main() -> None:
    parser = arguments(__doc__, "orl_faces")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.epochs = 1, 2
    with tempfile.TemporaryDirectory() as tmp:
        data = quick_view(args.data, Path(tmp) / "quick") if args.quick else args.data
        train, _ = orl_split(data, Path(tmp))
        model = Path(tmp) / "m.model"
        settings = {
            "siamcli's": {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")},
            "spinning": {**os.environ, "OMP_WAIT_POLICY": "ACTIVE"},
        }
        times: dict[tuple[str, bool], list[float]] = {}
        for _ in range(args.repeats):
            for name, env in settings.items():
                times.setdefault((name, False), []).append(train_seconds(train, model, env, args.epochs))
                neighbour = subprocess.Popen([sys.executable, "-c", BUSY])
                try:
                    times.setdefault((name, True), []).append(train_seconds(train, model, env, args.epochs))
                finally:
                    neighbour.kill()
                    neighbour.wait()
        print(f"{os.cpu_count()} cores; train faces --from-scratch, 1 member, {args.epochs} epochs, ORL s1-s30")
        for name in settings:
            alone, beside = statistics.median(times[(name, False)]), statistics.median(times[(name, True)])
            print(
                f"  {name} threads: alone {alone:.1f} s, beside a busy process {beside:.1f} s: "
                f"{beside / alone:.2f}x (target at most 2.5x)"
            )


if __name__ == "__main__":
    main()

"""Does a threshold calibrated on your own people hold on people nobody has seen? And how long does a
report take?

    python benchmarks/calibration_transfer.py [--data ../shared/data/orl_faces] [--seeds 0 1 2] [--far 0.01] [--quick]

For each seed: the faces recipe on ORL s1-s20 (default settings), calibrated at the target FAR on
s21-s30, then evaluated on s31-s40, and the FAR reached there (through the Python API: siamcli.train,
siamcli.calibrate, siamcli.evaluate). Then the time of a whole `siamcli eval MODEL DATA --report DIR`
process on all 400 ORL images. Nothing is tuned on s31-s40.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import QUICK_TRAINING, arguments, link_all, quick_view  # a sibling script

import siamcli


def run(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "siamcli", *args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"siamcli {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def main() -> None:
    parser = arguments(__doc__, "orl_faces")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--far", type=float, default=0.01)
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"no ORL faces at {args.data} (pass --data, or set SIAMCLI_DATA)")

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = quick_view(args.data, work / "quick") if args.quick else args.data
        people = [data / f"s{i}" for i in range(1, 41)]
        train = link_all(work / "train", people[:20])
        calibration = link_all(work / "calibration", people[20:30])
        test = link_all(work / "test", people[30:])
        gaps = []
        for seed in args.seeds:
            model = work / f"seed{seed}.model"
            siamcli.train("faces", train, model, seed=seed, **(QUICK_TRAINING if args.quick else {}))
            siamcli.calibrate(model, calibration, far=args.far)
            calibrated = siamcli.evaluate([model], calibration).models[0].metrics.at_threshold
            unseen = siamcli.evaluate([model], test).models[0].metrics.at_threshold
            gaps.append(abs(unseen.far - args.far))
            print(
                f"seed {seed}: target FAR {args.far:.2%}; on s21-s30 (calibration) FAR {calibrated.far:.2%} "
                f"FRR {calibrated.frr:.2%}; on s31-s40 (unseen) FAR {unseen.far:.2%} FRR {unseen.frr:.2%}; "
                f"gap {abs(unseen.far - args.far) * 100:.2f} points (target: at most 1.5)"
            )
        print(f"median gap over {len(gaps)} seed(s): {statistics.median(gaps) * 100:.2f} points")

        report_times = []
        for _ in range(1 if args.quick else 3):
            started = time.perf_counter()
            run("eval", str(model), str(data), "--report", str(work / "report"), "--json")
            report_times.append(time.perf_counter() - started)
        print(
            f"`siamcli eval MODEL orl_faces --report DIR` ({len(list(data.rglob('*.pgm')))} images, whole process): "
            f"median {statistics.median(report_times):.1f} s over {len(report_times)} runs; target under 10 s"
        )


if __name__ == "__main__":
    main()

"""Training in several processes: `siamcli train faces --from-scratch --workers N` on ORL s1-s30,
evaluated on s31-s40 (ten people never seen), for each number of workers and each seed.

    python benchmarks/train_workers.py [--data ../shared/data/orl_faces] [--workers 1 2] [--seeds 0 1] [--quick]

Each run is a fresh `siamcli train` process (the recipe's defaults: 8 members of the small grey CNN,
up to 60 epochs each); its wall time includes decoding the photos and starting the workers. The
spread between seeds of one worker count is the noise a difference between worker counts is
measured against. Figures are for this machine's cores: N workers share them (one each here).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from common import arguments, orl_split, quick_training_options, quick_view, siamcli_cli  # a sibling script


def main() -> None:
    parser = arguments(__doc__, "orl_faces")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    if args.quick:
        args.seeds = args.seeds[:1]
    with tempfile.TemporaryDirectory() as tmp:
        data = quick_view(args.data, Path(tmp) / "quick") if args.quick else args.data
        train, test = orl_split(data, Path(tmp))
        seconds: dict[int, list[float]] = {}
        print(f"{os.cpu_count()} cores; train faces --from-scratch on ORL s1-s30, eval on s31-s40")
        for seed in args.seeds:
            for workers in args.workers:
                model = Path(tmp) / f"w{workers}-s{seed}.model"
                started = time.perf_counter()
                siamcli_cli(
                    "train",
                    "faces",
                    str(train),
                    "-o",
                    str(model),
                    "--from-scratch",
                    "--seed",
                    str(seed),
                    "--workers",
                    str(workers),
                    "--device",
                    "cpu",
                    *quick_training_options(args.quick),
                )
                seconds.setdefault(workers, []).append(time.perf_counter() - started)
                metrics = json.loads(siamcli_cli("eval", str(model), str(test), "--json"))
                print(
                    f"  workers {workers}, seed {seed}: {seconds[workers][-1]:.0f} s, EER {metrics['eer']:.2%}, "
                    f"10-way {metrics['one_shot']['10-way']:.2%}"
                )
        base = statistics.median(seconds[args.workers[0]])
        for workers, times in seconds.items():
            median = statistics.median(times)
            print(f"workers {workers}: median {median:.0f} s, speed-up {base / median:.2f}x")


if __name__ == "__main__":
    main()

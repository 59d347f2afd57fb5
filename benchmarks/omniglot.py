"""One-shot Omniglot: `siamcli train images` on 24 of the 30 background alphabets, evaluated on the
other 6 (characters of alphabets it never saw), N-way within alphabets as the standard protocol draws
its episodes, and across them.

    python benchmarks/omniglot.py [--data ../shared/data/omniglot_background] [--seed 0] [--epochs N] [--quick]

The 6 test alphabets are every fifth in name order (the 5th, 10th, ... 30th), fixed before any
training. `--epochs` overrides the recipe's (for trying); the figures in the README use the recipe.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from common import arguments, cold_verify_seconds, link_all, quick_training_options, quick_view, siamcli_cli


def alphabet(folder: Path) -> str:
    return folder.name.rsplit("_", 1)[0]


def main() -> None:
    parser = arguments(__doc__, "omniglot_background")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = quick_view(args.data, Path(tmp) / "quick", identities=100) if args.quick else args.data
        if not data.is_dir():
            sys.exit(f"Omniglot not found at {data}; pass --data or set SIAMCLI_DATA")
        characters = sorted(folder for folder in data.iterdir() if folder.is_dir())
        alphabets = sorted({alphabet(folder) for folder in characters})
        held_out = set(alphabets[4::5])
        print(f"test alphabets: {', '.join(sorted(held_out))}")
        train = link_all(Path(tmp) / "train", [c for c in characters if alphabet(c) not in held_out])
        test = link_all(Path(tmp) / "test", [c for c in characters if alphabet(c) in held_out])
        model = Path(tmp) / "omniglot.model"
        command = ["train", "images", str(train), "-o", str(model), "--seed", str(args.seed)]
        if args.epochs is not None:
            command += ["--epochs", str(args.epochs)]
        command += quick_training_options(args.quick)
        started = time.perf_counter()
        siamcli_cli(*command)
        minutes = (time.perf_counter() - started) / 60
        metrics = json.loads(
            siamcli_cli(
                "eval", str(model), str(test), "--groups", "_", "--json", "--episodes", "200" if args.quick else "10000"
            )
        )
        within, across = metrics["one_shot_within_groups"], metrics["one_shot"]
        interval = metrics["one_shot_within_groups_interval"]
        print(f"trained on {len(alphabets) - len(held_out)} alphabets in {minutes:.1f} min (target at most 15)")
        for n_way, target in (("5-way", 0.993), ("20-way", 0.97)):
            if n_way not in within:  # a quick run's alphabets hold too few characters
                continue
            low, high = interval[n_way]
            print(
                f"  {n_way} within alphabets: {within[n_way]:.2%} [{low:.2%}, {high:.2%}] (target {target:.1%}); "
                f"across alphabets: {across[n_way]:.2%}"
            )
        print(f"  EER {metrics['eer']:.2%}, ROC AUC {metrics['roc_auc']:.4f}")

        gallery = Path(tmp) / "gallery.db"
        glyphs = sorted((test / sorted(os.listdir(test))[0]).iterdir())
        siamcli_cli("enroll", "glyph", str(glyphs[0]), "--model", str(model), "--gallery", str(gallery))
        cold = cold_verify_seconds(glyphs[1], "glyph", gallery, runs=1 if args.quick else 7)
        print(f"  cold `siamcli verify glyph.png --claim glyph`: {cold:.2f} s median (target at most 0.6)")


if __name__ == "__main__":
    main()

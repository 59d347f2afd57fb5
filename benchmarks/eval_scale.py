"""Evaluation at the size of real test sets: time and peak memory of a whole `siamcli eval --json`
process (and of `eval --report`), and of scoring generated embeddings in-process.

    python benchmarks/eval_scale.py [--data ../shared/data/omniglot_background] [--quick]

Files: Omniglot background characters (20 drawings each), the first 50 (1,000 samples), the first 330
(6,600) and all 964 (19,279), embedded with the images recipe's network with random weights (what is
measured is eval's cost, not its accuracy; the shipped face model would find no face in a glyph).
Generated: random embeddings of the shipped face model's size around one centre per
identity, 20 samples each, for exactly 1,000, 6,600 and 20,000 samples, scored with the Python API
(every metric and the bootstrap, not the embedding). Each run is a fresh process; peak memory is its
maximum resident set.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import arguments  # a sibling script

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
print(metrics(model, evaluated).eer)
"""


def measure(command: list[str]) -> tuple[float, float]:
    """(seconds, peak MiB) of one fresh process running `command`."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", PEAK, *command], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return time.perf_counter() - started, float(result.stdout.strip().splitlines()[-1])


def untrained_images_model(path: Path) -> Path:
    """The images recipe's network with random weights, written as `siamcli train images` would write it."""
    from siamcli.core.encoders import build_encoder
    from siamcli.modalities import import_encoders
    from siamcli.modelcard import ModelCard, ThresholdRecord
    from siamcli.modelfile import write_model
    from siamcli.recipes import recipe_for

    import_encoders()
    recipe = recipe_for("images")
    spec = recipe.training.encoder
    card = ModelCard(
        modality=recipe.modality,
        kind=recipe.kind,
        encoder=spec,
        embedding_dim=spec.params["embedding_dim"],
        preprocessing=recipe.preprocessing,
        distance=recipe.training.distance,
        threshold=ThresholdRecord(1.0, "eer"),
    )
    write_model(path, build_encoder(spec), card)
    return path


def main() -> None:
    parser = arguments(__doc__, "omniglot_background")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"Omniglot background set not found at {args.data} (pass --data, or set SIAMCLI_DATA)")
    characters = sorted(p for p in args.data.iterdir() if p.is_dir())
    counts, generated = ((20,), (1000,)) if args.quick else ((50, 330, len(characters)), (1000, 6600, 20000))
    with tempfile.TemporaryDirectory() as tmp:
        model = untrained_images_model(Path(tmp) / "images.model")
        siamcli = [sys.executable, "-m", "siamcli", "eval", str(model)]
        for count in counts:
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
    for samples in generated:
        seconds, peak = measure([sys.executable, "-c", GENERATED, str(samples)])
        print(f"{samples:>6,} generated embeddings, scored in-process (all metrics): {seconds:.1f} s, {peak:.0f} MiB")
    print("targets: 6,600 samples at most 30 s and 1 GiB; 20,000 at most 120 s and 2 GiB")


if __name__ == "__main__":
    main()

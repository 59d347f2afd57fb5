"""Calibrate the shipped models' operating points, in place: 1:1 at a false-accept rate of 0.1% on
every pair (and for claims of 2, 3 and 5 samples at the same rate), 1:N at a false-positive
identification rate of 1% for each gallery size the identities hold. Faces on celeba_subset,
voices on speechocean_train (children and accented adults: the hard case, so the thresholds are
strict for clean adult speech). Known label errors are merged first
(benchmarks/common.py, SAME_PERSON). The converters call this at their end; run it alone after a
change to how operating points are calibrated:

    python scripts/calibrate_shipped.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import siamcli  # noqa: E402
from benchmarks.common import DEFAULT_DATA, corrected_view  # noqa: E402
from siamcli.usecases.calibrate import Calibration  # noqa: E402

SHIPPED = {"faces.model": "celeba_subset", "voices.model": "speechocean_train"}
FAR = 0.001


def calibrate_shipped(model: Path, data: Path) -> Calibration:
    """Both operating points of `model` on the data set `data`, its label errors merged first."""
    with tempfile.TemporaryDirectory() as folder:
        calibration = siamcli.calibrate(model, corrected_view(data, Path(folder)), far=FAR)
    threshold, open_set = calibration.threshold, calibration.open_set
    print(
        f"{model.name}: 1:1 threshold {threshold.value:.4f} at {threshold.operating_point} on {data.name} "
        f"(FAR {threshold.far:.3%}, FRR {threshold.frr:.2%}, {threshold.n_genuine} genuine and "
        f"{threshold.n_impostor} impostor pairs); for claims of several samples (their centroid): "
        + ", ".join(f"{p.samples_each}: {p.threshold:.4f} (FRR {p.frr:.2%})" for p in threshold.by_samples)
    )
    if open_set is not None:
        print(f"{model.name}: 1:N thresholds at FPIR {open_set.fpir:.0%} (DIR in brackets), by samples enrolled each:")
        for samples_each in sorted({p.samples_each for p in open_set.points}):
            row = [p for p in open_set.points if p.samples_each == samples_each]
            print(
                f"  {samples_each}: " + ", ".join(f"{p.identities} people {p.threshold:.4f} ({p.dir:.1%})" for p in row)
            )
    return calibration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    for name, data in SHIPPED.items():
        calibrate_shipped(ROOT / "siamcli" / "models" / name, args.data / data)


if __name__ == "__main__":
    main()

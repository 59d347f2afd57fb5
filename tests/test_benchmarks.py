"""Every benchmark in its quick mode (`--quick`: each step on a few files of each data set, the shortest
training), so that none stops running unseen. Their figures mean nothing here; full runs are in
benchmarks/RESULTS.md. Benchmarks that read the real data skip, saying why, where it is absent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA, shared_dataset

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
# The data sets each benchmark reads (none: it makes its own).
NEEDS = {
    "calibration_transfer": ["orl_faces"],
    "enroll_folders": ["orl_faces"],
    "eval_scale": ["omniglot_background"],
    "faces": ["orl_faces", "celeba_subset"],
    "gallery_index": [],
    "liveness": ["nuaa_liveness"],
    "omniglot": ["omniglot_background"],
    "open_set": ["celeba_subset", "speechocean_train"],
    "orl_faces": ["orl_faces"],
    "sounds": ["fsdd_speakers", "librispeech_10spk", "cats_dogs_audio"],
    "train_workers": ["orl_faces"],
    "training_beside_work": ["orl_faces"],
    "training_speed": [],
    "verify_speed": [],
    "voices": ["librispeech_10spk", "fsdd_speakers", "speechocean_train"],
}


def test_every_benchmark_is_run_here() -> None:
    scripts = {path.stem for path in BENCHMARKS.glob("*.py")} - {"common"}
    assert scripts == set(NEEDS)


@pytest.mark.parametrize("name", sorted(NEEDS))
def test_the_benchmark_runs_in_its_quick_mode(name: str) -> None:
    for dataset in NEEDS[name]:
        shared_dataset(dataset)
    env = {**os.environ, "SIAMCLI_DATA": str(SHARED_DATA), "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), "--quick"],
        capture_output=True,
        text=True,
        env=env,
        cwd=BENCHMARKS,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    # every figure printed is a number, never a placeholder a formatting slip would leave
    assert result.stdout.strip() and "{" not in result.stdout, result.stdout

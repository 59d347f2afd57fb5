"""Training across processes with torch.distributed: two local gloo workers, the same model again from
the same seed, torchrun's processes giving the model the local workers give, and clean refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

import siamcli
from siamcli.distributed import Group
from siamcli.errors import SiamcliError
from siamcli.modelfile import read_card
from tests.conftest import write_face_dataset
from tests.helpers import ENV, assert_clean_error
from tests.helpers import siamcli as run_siamcli

SMALL = {"epochs": 2, "members": 1, "batch_size": 16, "samples_per_identity": 2, "seed": 3}


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_face_dataset(tmp_path_factory.mktemp("people"), identities=12, samples=6)


def weights(model: Path) -> dict[str, np.ndarray]:
    return {name: value for name, value in load_file(model).items() if not name.startswith("onnx")}


def test_each_worker_takes_its_own_share_of_the_batches() -> None:
    batches = list(range(11))
    shares = [Group(rank, 3, torch.device("cpu")).share(batches) for rank in range(3)]
    assert shares == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]  # disjoint, as many each; 9 and 10 wait
    with pytest.raises(SiamcliError, match="--workers 3: an epoch has 2 batch"):
        Group(0, 3, torch.device("cpu")).share([0, 1])


def test_two_workers_train_the_same_model_from_the_same_seed(tmp_path: Path, people: Path) -> None:
    first, second, alone = tmp_path / "a.model", tmp_path / "b.model", tmp_path / "alone.model"
    for output in (first, second):
        card = siamcli.train("faces", people, output, from_scratch=True, workers=2, device="cpu", **SMALL)
        assert card is not None and card.training is not None
        assert card.training.config["workers"] == 2 and card.training.config["device"] == "cpu"
    siamcli.train("faces", people, alone, from_scratch=True, workers=1, device="cpu", **SMALL)
    a, b, c = weights(first), weights(second), weights(alone)
    assert a.keys() == b.keys() == c.keys()
    assert all(np.array_equal(a[name], b[name]) for name in a)
    assert not all(np.array_equal(a[name], c[name]) for name in a)  # half the steps, each on twice the samples
    evaluation = siamcli.evaluate([first], people)
    assert evaluation.models[0].metrics.eer < 0.35  # it learned: 12 drawn people, 2 epochs


def test_torchrun_workers_give_the_model_local_workers_give(tmp_path: Path, people: Path) -> None:
    local, launched = tmp_path / "local.model", tmp_path / "torchrun.model"
    siamcli.train("faces", people, local, from_scratch=True, workers=2, device="cpu", **SMALL)
    options = [f"--{name.replace('_', '-')}={value}" for name, value in SMALL.items()]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    command += ["-m", "siamcli", "train", "faces", str(people), "-o", str(launched), "--from-scratch", *options]
    result = subprocess.run(command, capture_output=True, text=True, env={**ENV, "OMP_NUM_THREADS": "1"}, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == "" and result.stderr.count(f"wrote {launched}") == 1  # rank 0 alone writes
    a, b = weights(local), weights(launched)
    assert all(np.array_equal(a[name], b[name]) for name in a)
    card = read_card(launched)
    assert card.training is not None and card.training.config["workers"] == 2


def test_bad_worker_and_device_choices_are_refused_in_one_line(tmp_path: Path, people: Path) -> None:
    output = tmp_path / "m.model"
    one_batch = ("--batch-size", "72", "--samples-per-identity", "6")  # all 12 people in one batch
    result = run_siamcli(
        "train", "faces", str(people), "-o", str(output), "--from-scratch", "--workers", "2", *one_batch
    )
    assert_clean_error(result, "--workers 2: an epoch has 1 batch(es) of identities, fewer than the workers")
    if not torch.cuda.is_available():
        result = run_siamcli("train", "faces", str(people), "-o", str(output), "--device", "cuda")
        assert_clean_error(result, "--device cuda: torch sees no CUDA GPU here")
    result = run_siamcli("train", "faces", str(people), "-o", str(output), "--device", "tpu")
    assert_clean_error(result, "--device tpu: unknown")
    assert not output.exists()
    assert "RANK" not in os.environ  # these tests are not themselves under torchrun


def test_training_threads_sleep_while_waiting_and_fit_the_cpus_given(monkeypatch: pytest.MonkeyPatch) -> None:
    import siamcli.cpus as cpus

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    cpus.sleep_while_waiting()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    cpus.sleep_while_waiting()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"  # the user's choice is kept

    monkeypatch.setattr(cpus.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5, 6, 7})
    monkeypatch.setattr(cpus, "_cgroup_quota", lambda: 2.5)  # a container allowed two and a half CPUs
    assert cpus.available_cpus() == 3
    monkeypatch.setattr(cpus, "_cgroup_quota", lambda: None)
    assert cpus.available_cpus() == 8

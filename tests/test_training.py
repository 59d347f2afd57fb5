"""The training loop (training.py): its precision, a loss that diverges, and the parts every member
is built from, made once."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from siamcli.errors import SiamcliError
from siamcli.recipes import recipe_for
from siamcli.trainconfig import TrainConfig
from tests.conftest import write_drawn_dataset, write_face_dataset
from tests.helpers import assert_clean_error
from tests.helpers import siamcli as run


def test_the_images_kind_trains_in_bfloat16_only_where_the_device_computes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from siamcli import training

    config, cpu = recipe_for("images").training, torch.device("cpu")
    assert config.mixed_precision and not recipe_for("faces").training.mixed_precision
    layer, images = torch.nn.Conv2d(1, 4, 3), torch.rand(2, 1, 8, 8)

    def forward_dtype(config: TrainConfig) -> torch.dtype:
        with training.forward_precision(config, cpu):
            return layer(images).dtype

    monkeypatch.setattr(training, "bfloat16_is_native", lambda device: True)
    assert forward_dtype(config) == torch.bfloat16
    assert forward_dtype(replace(config, mixed_precision=False)) == torch.float32
    monkeypatch.setattr(training, "bfloat16_is_native", lambda device: False)  # emulated: slower than float32
    assert forward_dtype(config) == torch.float32
    assert layer(images).dtype == torch.float32  # and only inside the training step


def test_training_that_diverges_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = write_face_dataset(tmp_path / "people", identities=4, samples=3)
    result = run("train", "faces", str(data), "-o", str(tmp_path / "inf.model"), "--from-scratch", "--lr", "inf")
    assert_clean_error(result, "lr a positive number")
    import siamcli.training

    monkeypatch.setattr(siamcli.training, "training_step", lambda *args: float("nan"))
    with pytest.raises(SiamcliError, match=r"training diverged \(member 1, epoch 1: the loss is nan\)"):
        siamcli.train("faces", data, tmp_path / "nan.model", from_scratch=True, epochs=2, members=1)
    assert not (tmp_path / "inf.model").exists() and not (tmp_path / "nan.model").exists()


def test_the_starting_model_is_read_once_and_the_loss_built_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import siamcli.core.losses
    import siamcli.usecases.fit

    people = write_drawn_dataset(tmp_path / "people", identities=4, samples=3)
    reads, builds = [], []
    read_weights, build = siamcli.usecases.fit.read_torch_weights, siamcli.core.losses.LOSSES.build
    monkeypatch.setattr(siamcli.usecases.fit, "read_torch_weights", lambda *a: reads.append(a) or read_weights(*a))
    monkeypatch.setattr(siamcli.core.losses.LOSSES, "build", lambda *a, **k: builds.append(a) or build(*a, **k))
    card = siamcli.train("faces", people, tmp_path / "tuned.model", epochs=1, members=2, val_identities=2)
    assert len(card.training.members) == 2 and len(reads) == 1 and len(builds) == 1

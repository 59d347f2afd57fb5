"""A kind of data is one recipe entry (plus an encoder and a loss if it brings its own): this test adds
a throwaway kind with its own network and its own loss, all in this file, then trains, evaluates,
enrolls and verifies with it end to end, through the Python API and the command line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import siamcli
from siamcli.core.encoders import register_encoder
from siamcli.core.losses import register_loss
from siamcli.core.miners import Pairs
from siamcli.core.registry import Spec
from siamcli.modalities.image import ImageAugmentation, ImagePreprocessing
from siamcli.recipes import RECIPES, Recipe, register_recipe
from siamcli.trainconfig import TrainConfig
from tests.conftest import write_face_dataset


@register_encoder("test-pooled-linear")
class PooledLinear(nn.Module):
    """Average-pooled to a coarse grid, one linear layer, unit length: the smallest sensible encoder."""

    def __init__(self, grid: int = 4, embedding_dim: int = 8) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(grid)
        self.linear = nn.Linear(grid * grid, embedding_dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.linear(self.pool(images).flatten(1)), dim=1)


@register_loss("test-double-margin")
class DoubleMargin:
    """Genuine pairs are pulled inside `low`, impostors pushed beyond `margin`."""

    def __init__(self, distance: object, low: float = 0.2, margin: float = 1.0) -> None:
        self.distance, self.low, self.margin = distance, low, margin

    def __call__(self, embeddings: torch.Tensor, labels: torch.Tensor, pairs: Pairs) -> torch.Tensor:
        distances = self.distance.pairwise(embeddings, embeddings)[pairs.first, pairs.second]
        same = labels[pairs.first] == labels[pairs.second]
        cost = torch.where(same, (distances - self.low).clamp(min=0), (self.margin - distances).clamp(min=0))
        return (cost**2).mean()


@pytest.fixture
def glyph_kind() -> Iterator[Recipe]:
    recipe = register_recipe(
        Recipe(
            kind="test-glyphs",
            summary="a kind this test adds and removes",
            modality="image",
            preprocessing=ImagePreprocessing(size=(16, 16)),
            training=TrainConfig(
                Spec("test-pooled-linear", {"grid": 4, "embedding_dim": 8}),
                ImageAugmentation(mirror=False, max_rotation_deg=0.0),
                loss=Spec("test-double-margin", {"low": 0.2, "margin": 1.0}),
                miner=Spec("all-pairs"),
                members=2,
                epochs=6,
                samples_per_identity=3,
            ),
        )
    )
    yield recipe
    del RECIPES[recipe.kind]


def test_a_new_kind_trains_evaluates_enrolls_and_verifies(glyph_kind: Recipe, tmp_path: Path) -> None:
    people = write_face_dataset(tmp_path / "train", identities=8, samples=4)
    strangers = write_face_dataset(tmp_path / "all", identities=13, samples=4)
    model = tmp_path / "glyphs.model"

    card = siamcli.train("test-glyphs", people, model, seed=3, margin=0.9)
    assert card.kind == "test-glyphs" and card.preprocessing == ImagePreprocessing(size=(16, 16))
    member = {"name": "test-pooled-linear", "params": glyph_kind.training.encoder.params}
    assert card.encoder == Spec("ensemble", {"member": member, "members": 2})
    assert card.training.loss == Spec("test-double-margin", {"low": 0.2, "margin": 0.9})  # --margin reached it
    assert card.training.miner == Spec("all-pairs") and card.training.augmentation.mirror is False
    assert [m.epochs_run for m in card.training.members] == [6, 6]

    loaded = siamcli.load_model(model)
    assert loaded.card == siamcli.load_model(model).card and loaded.card.embedding_dim == 16
    files = sorted((strangers / "p13").iterdir())
    embeddings = loaded.embed(files)
    assert embeddings.shape == (4, 16) and np.allclose(np.linalg.norm(embeddings, axis=1), 1, atol=1e-5)

    evaluation = siamcli.evaluate([model], strangers, episodes=100)
    metrics = evaluation.models[0].metrics
    assert metrics.identities == 13 and metrics.genuine_pairs == 13 * 6
    assert 0.5 < metrics.roc_auc <= 1.0  # better than chance on people it never saw

    gallery = tmp_path / "g.db"
    report = siamcli.enroll("zed", files[:1], model=model, gallery=gallery)
    assert report.added == 1 and report.collection.embedding_dim == 16
    (verdict,) = siamcli.verify(files[:1], claim="zed", gallery=gallery)
    assert verdict.decision == "accept" and verdict.distance < 1e-5 and verdict.threshold == card.threshold.value


def test_the_command_line_knows_a_kind_registered_after_it_was_imported(glyph_kind: Recipe, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from siamcli.cli import app

    people = write_face_dataset(tmp_path / "train", identities=6, samples=3)
    model = tmp_path / "glyphs.model"
    result = CliRunner().invoke(app, ["train", "test-glyphs", str(people), "-o", str(model), "--epochs", "2"])
    assert result.exit_code == 0, result.output
    assert siamcli.load_model(model).card.kind == "test-glyphs"
    unknown = CliRunner().invoke(app, ["train", "test-nothing", str(people), "-o", str(model)])
    assert isinstance(unknown.exception, siamcli.SiamcliError)
    assert "unknown kind 'test-nothing'" in str(unknown.exception)

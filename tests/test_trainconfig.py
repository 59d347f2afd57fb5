"""Training settings in one shape: a recipe's defaults are a TrainConfig, a user's changes keep their
names from the command line to the loop, and `siamcli train`'s options are derived from the dataclass."""

from __future__ import annotations

from dataclasses import fields

import pytest
import typer
from typer.testing import CliRunner

from siamcli.cli import app
from siamcli.recipes import RECIPES, recipe_for
from siamcli.trainconfig import TrainConfig, user_settings


def train_options() -> dict[str, object]:
    command = typer.main.get_command(app).commands["train"]  # type: ignore[attr-defined]
    return {param.name: param for param in command.params}


def test_every_setting_is_one_option_of_train_with_its_help_and_bounds() -> None:
    options = train_options()
    for setting in user_settings():
        option = options[setting.name]
        assert option.help.startswith(setting.help[:-1]), (setting.name, option.help)
        assert option.default is None  # None: the recipe's own default
    settable = {f.name for f in fields(TrainConfig) if "help" in f.metadata}
    assert settable == {"epochs", "patience", "seed", "batch_size", "samples_per_identity", "lr", "members", "far"}
    assert {s.name for s in user_settings()} == settable | {"margin", "embedding_dim"}
    # the bounds reach the command line: refused there, before any data is read
    refused = CliRunner().invoke(app, ["train", "faces", "nowhere", "-o", "x.model", "--batch-size", "3"])
    assert refused.exit_code == 2 and "greater than or equal to 4" in refused.output


def test_every_recipe_holds_typed_defaults() -> None:
    for recipe in RECIPES.values():
        assert isinstance(recipe.training, TrainConfig)
        assert recipe.training.with_settings() == recipe.training  # nothing given, nothing changed


def test_settings_keep_their_names_to_the_loop() -> None:
    faces = recipe_for("faces").scratch().training
    changed = faces.with_settings(epochs=3, far=0.01, margin=0.7, embedding_dim=32, lr=None)
    assert changed.epochs == 3 and changed.far == 0.01 and changed.lr == faces.lr
    assert changed.loss.params["margin"] == 0.7 and changed.miner.params["margin"] == 0.7  # the loss and its miner
    assert changed.encoder.params["embedding_dim"] == 32 and changed.margin == 0.7 and changed.embedding_dim == 32
    assert changed.settings()["far"] == 0.01 and "target_far" not in changed.settings()
    with pytest.raises(TypeError):
        faces.with_settings(epoch=3)  # a typo is no setting
    with pytest.raises(ValueError, match="the contrastive loss's, not supervised-contrastive's"):
        recipe_for("images").training.with_settings(margin=0.5)
    with pytest.raises(ValueError, match="lr a positive number"):
        faces.with_settings(lr=float("inf"))

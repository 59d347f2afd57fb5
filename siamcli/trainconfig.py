"""The settings of one training run, in one shape from the command line to the loop (torch-free, so
`--help` does not pay for importing torch).

A recipe's defaults are a `TrainConfig`; a user's changes are applied with `with_settings`, under the
same names as `siamcli train`'s options, whose list, help and bounds come from the fields' metadata
here (`user_settings`). A new setting is one field here (and the loop that reads it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

from siamcli.core.registry import Spec
from siamcli.core.thresholds import check_far


def setting(default: Any, help: str, low: float | None = None, high: float | None = None) -> Any:
    """A field a user may set with `siamcli train --NAME`: its help and bounds."""
    return field(default=default, metadata={"help": help, "low": low, "high": high})


@dataclass(frozen=True)
class TrainConfig:
    encoder: Spec  # one member's network
    augmentation: Any  # the modality's augmentation dataclass
    loss: Spec = field(default_factory=lambda: Spec("contrastive", {"margin": 1.0}))
    miner: Spec = field(default_factory=lambda: Spec("hard-impostors", {"margin": 1.0}))
    distance: str = "euclidean"
    epochs: int = setting(60, "Most epochs to run.", low=1)
    patience: int = setting(20, "Stop after this many epochs without a better validation EER.", low=1)
    seed: int = setting(0, "Seed of the identity split, batches, augmentation and weights.")
    batch_size: int = setting(64, "Samples per batch.", low=4)
    samples_per_identity: int = setting(4, "Samples of each identity in a batch.", low=2)  # K of a P x K batch
    lr: float = setting(1e-3, "Peak learning rate.", low=0.0)
    weight_decay: float = 5e-4
    members: int = setting(8, "Networks trained from their own seeds, then ensembled.", low=1)
    # None: calibrate at the equal-error point
    far: float | None = setting(None, "Calibrate the threshold at this false-accept rate.", low=0.0, high=0.5)
    start_from: str | None = None  # a model whose weights training starts from (None: random weights)
    # The forward pass in bfloat16 where the device computes it natively (a CPU with AVX512-BF16 or AMX,
    # a GPU with bfloat16); float32 weights, loss and inference all the same. Elsewhere float32.
    mixed_precision: bool = False

    def __post_init__(self) -> None:
        for name, low in (("epochs", 1), ("patience", 1), ("batch_size", 4), ("samples_per_identity", 2)):
            if getattr(self, name) < low:
                raise ValueError(f"{name.replace('_', '-')} must be at least {low}")
        if self.members < 1 or not 0 < self.lr < math.inf or not 0 <= self.weight_decay < math.inf:
            raise ValueError("members must be at least 1, lr a positive number and weight decay not negative")
        if self.far is not None:
            check_far(self.far)

    @property
    def margin(self) -> float | None:
        """The contrastive loss's margin (None: a loss without one)."""
        return self.loss.params.get("margin")

    @property
    def embedding_dim(self) -> int | None:
        """Each member's embedding size."""
        return self.encoder.params.get("embedding_dim")

    def with_settings(self, **given: Any) -> TrainConfig:
        """These settings with the given ones changed, by `siamcli train`'s names (None: left as it is).
        `margin` is the loss's and the miner's that feeds it; `embedding_dim` each member's. ValueError
        for a value out of range or one the loss does not take; TypeError for a name that is no setting."""
        changes = {name: value for name, value in given.items() if value is not None}
        margin, embedding_dim = changes.pop("margin", None), changes.pop("embedding_dim", None)
        config = replace(self, **changes)
        if embedding_dim is not None:
            config = replace(config, encoder=config.encoder.with_params(embedding_dim=embedding_dim))
        if margin is not None:
            if config.margin is None:
                raise ValueError(f"--margin is the contrastive loss's, not {config.loss.name}'s")
            miner = config.miner.with_params(margin=margin) if "margin" in config.miner.params else config.miner
            config = replace(config, loss=config.loss.with_params(margin=margin), miner=miner)
        return config

    def settings(self) -> dict[str, Any]:
        """The scalar settings, as the model file's training record keeps them."""
        skip = ("encoder", "augmentation", "loss", "miner")
        return {name: value for name, value in vars(self).items() if name not in skip}


@dataclass(frozen=True)
class UserSetting:
    """One setting `siamcli train` takes as an option."""

    name: str
    type: type
    help: str
    low: float | None = None
    high: float | None = None


# Two settings live inside the parts a recipe names: the loss's margin and the encoder's size.
PART_SETTINGS = (
    UserSetting("margin", float, "Contrastive margin, of the loss and of the miner that feeds it.", low=0.0),
    UserSetting("embedding_dim", int, "Size of each member's embedding.", low=2),
)


def user_settings() -> list[UserSetting]:
    """What a user may change of a recipe's training, in the order `siamcli train --help` lists it."""
    scalar = [
        UserSetting(f.name, {"int": int, "float": float}[str(f.type).split(" ")[0]], **f.metadata)
        for f in fields(TrainConfig)
        if "help" in f.metadata
    ]
    return scalar + list(PART_SETTINGS)

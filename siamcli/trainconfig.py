"""The settings of one training run (torch-free, so `--help` does not pay for importing torch)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, TypedDict

from siamcli.core.registry import Spec
from siamcli.core.thresholds import check_far


@dataclass(frozen=True)
class TrainConfig:
    encoder: Spec  # one member's network
    augmentation: Any  # the modality's augmentation dataclass
    loss: Spec = field(default_factory=lambda: Spec("contrastive", {"margin": 1.0}))
    miner: Spec = field(default_factory=lambda: Spec("hard-impostors", {"margin": 1.0}))
    distance: str = "euclidean"
    epochs: int = 60
    patience: int = 20
    batch_size: int = 64
    samples_per_identity: int = 4  # K of a P x K batch
    lr: float = 1e-3
    weight_decay: float = 5e-4
    seed: int = 0
    members: int = 8  # independently trained encoders, ensembled
    target_far: float | None = None  # None: calibrate at the equal-error point
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
        if self.target_far is not None:
            check_far(self.target_far)

    def settings(self) -> dict[str, Any]:
        """The scalar settings, as the model file's training record keeps them."""
        skip = ("encoder", "augmentation", "loss", "miner")
        return {name: value for name, value in vars(self).items() if name not in skip}


class TrainSettings(TypedDict, total=False):
    """What a user may change of a recipe's training (`siamcli train` options); absent or None: the
    recipe's default."""

    seed: int
    epochs: int | None
    patience: int | None
    batch_size: int | None
    samples_per_identity: int | None
    lr: float | None
    members: int | None
    margin: float | None  # of the loss, and of the miner that feeds it
    embedding_dim: int | None  # of each member
    far: float | None  # calibrate the threshold at this false-accept rate (None: the equal-error point)

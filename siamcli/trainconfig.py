"""The settings of one training run (torch-free, so `--help` does not pay for importing torch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from siamcli.core.registry import Spec


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

    def settings(self) -> dict[str, Any]:
        """The scalar settings, as the model file's training record keeps them."""
        skip = ("encoder", "augmentation", "loss", "miner")
        return {name: value for name, value in vars(self).items() if name not in skip}

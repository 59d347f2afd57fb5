"""Training settings and their defaults: the one place the CLI's defaults come from (and torch-free,
so `--help` does not pay for importing torch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TrainConfig:
    encoder: str
    encoder_params: dict[str, Any] = field(default_factory=dict)
    distance: str = "euclidean"
    margin: float = 1.0
    epochs: int = 60
    patience: int = 20
    batch_size: int = 64
    samples_per_identity: int = 4
    lr: float = 1e-3
    weight_decay: float = 5e-4
    seed: int = 0
    members: int = 8  # independently trained encoders, ensembled
    target_far: float | None = None  # None: calibrate at the equal-error point


DEFAULTS = TrainConfig(encoder="")

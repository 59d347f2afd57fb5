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

# What `siamcli train KIND` changes from the defaults above (the recipes use these; --help shows them).
KIND_DEFAULTS: dict[str, dict[str, Any]] = {
    "faces": {},
    "audio": {"members": 4, "epochs": 60, "samples_per_identity": 8},
}


def default_text(name: str) -> str:
    """A setting's default for --help: one value, or one per kind where the kinds differ."""
    base = getattr(DEFAULTS, name)
    values = {kind: changes.get(name, base) for kind, changes in KIND_DEFAULTS.items()}
    if len(set(values.values())) == 1:
        return f"{base:g}"
    return ", ".join(f"{kind} {value:g}" for kind, value in values.items())

"""Modalities: one package per kind of input file (image/, audio/), each holding its decoding or
features, augmentation, encoders and its torch-free modality object.

A model file names its modality and preprocessing; everything else follows from this registry.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from siamcli.errors import SiamcliError
from siamcli.modalities.audio import AUDIO
from siamcli.modalities.base import Decoded, Modality
from siamcli.modalities.image import IMAGE

MODALITIES: dict[str, Modality] = {IMAGE.name: IMAGE, AUDIO.name: AUDIO}

__all__ = ["MODALITIES", "Decoded", "Modality", "all_suffixes", "get_modality", "import_encoders", "modality_of"]


def modality_of(path: Path) -> Modality:
    """The modality of a file, from its type."""
    suffix = path.suffix.lower()
    for modality in MODALITIES.values():
        if suffix in modality.suffixes:
            return modality
    known = "; ".join(f"{m.name}: {' '.join(sorted(m.suffixes))}" for m in MODALITIES.values())
    raise SiamcliError(f"{path}: unsupported file type '{suffix or 'none'}' ({known})")


def get_modality(name: str) -> Modality:
    try:
        return MODALITIES[name]
    except KeyError:
        raise SiamcliError(f"unknown modality '{name}' (known: {', '.join(MODALITIES)})") from None


def all_suffixes() -> frozenset[str]:
    return frozenset().union(*(m.suffixes for m in MODALITIES.values()))


def import_encoders() -> None:
    """Register every modality's networks (this imports torch: for training and the torch weights only)."""
    for modality in MODALITIES.values():
        importlib.import_module(modality.encoders_module)

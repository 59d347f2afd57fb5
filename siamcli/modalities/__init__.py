"""Modalities: how each kind of sample is loaded, prepared for the encoder and augmented in training.

A model file names its modality and preprocessing; everything else follows from this registry.
"""

from __future__ import annotations

from pathlib import Path

from siamcli.errors import SiamcliError
from siamcli.modalities.audio import AUDIO
from siamcli.modalities.base import Modality
from siamcli.modalities.image import IMAGE

MODALITIES: dict[str, Modality] = {IMAGE.name: IMAGE, AUDIO.name: AUDIO}


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

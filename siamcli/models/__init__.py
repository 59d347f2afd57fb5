"""The models shipped inside the package, one per modality, used when no --model is given.

How each was made is in the README ("The shipped models"), so anyone can rebuild it.
"""

from __future__ import annotations

from pathlib import Path

from siamcli.errors import SiamcliError

SHIPPED = {"image": "faces.model", "audio": "voices.model"}
REF_PREFIX = "default:"  # how a gallery's collection names a shipped model: default:<modality>


def shipped_model(modality: str) -> Path:
    if modality not in SHIPPED:
        raise SiamcliError(f"no shipped model for {modality} yet: train one and pass it with --model")
    path = Path(__file__).with_name(SHIPPED[modality])
    if not path.is_file():
        raise SiamcliError(f"{path}: the shipped {modality} model is missing from this installation; reinstall siamcli")
    return path


def model_location(ref: str) -> Path:
    """Where a collection's model is: the shipped one, or the path it was enrolled with."""
    if ref.startswith(REF_PREFIX):
        return shipped_model(ref[len(REF_PREFIX) :])
    return Path(ref)

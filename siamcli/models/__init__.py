"""The models shipped inside the package, one per modality, used when no model is given.

How each was made is in the README ("The shipped models"), so anyone can rebuild it.
"""

from __future__ import annotations

from pathlib import Path

from siamcli.errors import SiamcliError
from siamcli.modalities import get_modality

REF_PREFIX = "default:"  # how a gallery's collection names a shipped model: default:<modality>
# Shipped models since replaced, kept so that galleries enrolled with them go on working: the
# from-scratch TDNN that was the voice model until the pretrained GE2E encoder took its place, and the
# small grey CNN that was the face model until dlib's pretrained encoder (behind MTCNN) took its place.
RETIRED = ("retired-voices-tdnn.model", "retired-faces-smallvgg.model")


def shipped_model(modality: str) -> Path:
    name = get_modality(modality).shipped_model
    if name is None:
        raise SiamcliError(f"no shipped model for {modality} yet: train one and pass it with --model")
    path = Path(__file__).with_name(name)
    if not path.is_file():
        raise SiamcliError(f"{path}: the shipped {modality} model is missing from this installation; reinstall siamcli")
    return path


def model_location(ref: str) -> Path:
    """Where a model is: a shipped one (default:<modality>), or a path."""
    if ref.startswith(REF_PREFIX):
        return shipped_model(ref[len(REF_PREFIX) :])
    return Path(ref)


def retired_models() -> list[Path]:
    return [Path(__file__).with_name(name) for name in RETIRED]

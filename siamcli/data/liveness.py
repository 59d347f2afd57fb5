"""A liveness folder: `live/` frames of real people and `spoof/` frames of attacks (printed photos held
to the camera), each optionally in one subfolder per subject, so that whole subjects can be held out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from siamcli.errors import SiamcliError

CLASSES = ("live", "spoof")


@dataclass(frozen=True)
class Frame:
    path: Path
    live: bool
    subject: str  # the subfolder it came from; "" when the class folder holds the frames itself


def scan_liveness(root: Path | str, suffixes: frozenset[str]) -> list[Frame]:
    """Every frame of `root/live` and `root/spoof` (and their subject subfolders), in a stable order."""
    root = Path(root)
    if not root.is_dir():
        raise SiamcliError(f"{root}: not a folder")
    frames = []
    for name in CLASSES:
        folder = root / name
        if not folder.is_dir():
            raise SiamcliError(
                f"{root}: no {name}/ folder (a liveness folder holds live/ and spoof/, each of frames or of one "
                "subfolder per subject)"
            )
        found = [
            Frame(path, name == "live", path.parent.name if path.parent != folder else "")
            for path in sorted(folder.rglob("*"))
            if path.is_file() and path.suffix.lower() in suffixes and len(path.relative_to(folder).parts) <= 2
        ]
        if not found:
            raise SiamcliError(f"{folder}: no images: both classes are needed to learn the difference")
        frames += found
    return frames

"""Options shared by the commands that use a gallery."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

GalleryOption = Annotated[
    Optional[Path],
    typer.Option(
        "--gallery",
        "-g",
        envvar="SIAMCLI_GALLERY",
        show_envvar=True,
        help="Gallery file \\[default: gallery.db in your data folder, e.g. ~/.local/share/siamcli].",
    ),
]
ModelOption = Annotated[
    Optional[Path],
    typer.Option(
        "--model",
        "-m",
        help="Model file, or default:image \\[default: the model the gallery's collection was made with, "
        "else the shipped one].",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON lines, even on a terminal.")]

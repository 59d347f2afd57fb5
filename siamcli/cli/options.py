"""Options shared by the commands that use a gallery."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

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
LivenessOption = Annotated[
    bool,
    typer.Option(
        "--liveness",
        help="Judge each face live, or a printed photo held to the camera (faces only; each face's score and "
        "judgement in the output).",
    ),
]
LivenessModelOption = Annotated[
    Optional[Path],
    typer.Option(
        "--liveness-model",
        help="Liveness model file, from siamcli train liveness \\[default: the shipped one]; implies --liveness.",
    ),
]
LivenessThresholdOption = Annotated[
    Optional[float],
    typer.Option(
        "--liveness-threshold",
        min=0.0,
        max=1.0,
        help="Live at this score or above \\[default: the liveness model's]; implies --liveness.",
    ),
]


def liveness_settings(on: bool, model: Path | None, threshold: float | None) -> Any:
    """The use cases' LivenessSettings that the three options ask for, or None."""
    if not on and model is None and threshold is None:
        return None
    from siamcli.usecases.liveness import LivenessSettings

    return LivenessSettings(model, threshold)

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def calibrate_command(
    model: Annotated[Path, typer.Argument(help="Model file, or default:image for the shipped face model.")],
    data_dir: Annotated[Path, typer.Argument(help="Your own identities: one subfolder each.")],
    far: Annotated[
        Optional[float],
        typer.Option(min=0.0, max=1.0, help="Target false-accept rate on these pairs \\[default: 0.001]."),
    ] = None,
    eer: Annotated[bool, typer.Option("--eer", help="The equal-error point instead of a false-accept rate.")] = False,
    gallery: Annotated[
        Optional[Path],
        typer.Option("--gallery", "-g", help="Store the threshold in this gallery's collection for MODEL instead."),
    ] = None,
) -> None:
    """Pick the decision threshold on your own identities and store it in the model file (or, with
    --gallery, in that gallery's collection for the model)."""
    from siamcli.cli.output import note
    from siamcli.errors import SiamcliError
    from siamcli.usecases.calibrate import DEFAULT_FAR, calibrate

    if eer and far is not None:
        raise SiamcliError("give --far or --eer, not both")
    result = calibrate(model, data_dir, far=None if eer else (DEFAULT_FAR if far is None else far), gallery=gallery)
    seen, threshold = result.seen_in_training, result.threshold
    if seen:
        note(
            f"warning: {len(seen)} of these identities were in the model's training ({', '.join(seen[:5])}"
            f"{', ...' if len(seen) > 5 else ''}): FAR and FRR here will look better than on people it never saw"
        )
    note(
        f"threshold {threshold.value:.4f} at {threshold.operating_point}: FAR {threshold.far:.2%}, "
        f"FRR {threshold.frr:.2%} on {threshold.n_genuine} genuine and {threshold.n_impostor} impostor "
        f"pairs of {data_dir}; stored in {result.stored_in}"
    )

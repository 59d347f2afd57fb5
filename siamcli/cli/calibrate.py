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
    fpir: Annotated[
        Optional[float],
        typer.Option(
            min=0.0,
            max=1.0,
            help="1:N: share of strangers named as someone enrolled, at each gallery size \\[default: 0.01].",
        ),
    ] = None,
    gallery: Annotated[
        Optional[Path],
        typer.Option("--gallery", "-g", help="Store both thresholds in this gallery's collection for MODEL instead."),
    ] = None,
) -> None:
    """Pick the decision thresholds on your own identities, 1:1 (verify --claim) and 1:N (verify),
    and store them in the model file (or, with --gallery, in that gallery's collection for the model)."""
    from siamcli.cli.output import note
    from siamcli.errors import SiamcliError
    from siamcli.usecases.calibrate import DEFAULT_FAR, calibrate

    if eer and far is not None:
        raise SiamcliError("give --far or --eer, not both")
    result = calibrate(
        model, data_dir, far=None if eer else (DEFAULT_FAR if far is None else far), fpir=fpir, gallery=gallery
    )
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
    open_set = result.open_set
    if open_set is None:
        note(f"1:N not calibrated: {data_dir} holds too few identities to draw galleries and strangers from")
        return
    one_each = [point for point in open_set.points if point.samples_each == open_set.points[0].samples_each]
    largest = one_each[-1]
    note(
        f"1:N thresholds at FPIR {open_set.fpir:.2%} for galleries of 1 to {largest.identities} identities with "
        f"{largest.samples_each} sample(s) each: "
        + ", ".join(f"{p.threshold:.4f} at {p.identities}" for p in one_each)
        + f"; at {largest.identities}, {largest.dir:.1%} of enrolled people's other samples identified; "
        f"more samples each in the model card; stored in {result.stored_in}"
    )

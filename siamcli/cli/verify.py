from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Optional

import typer

from siamcli.cli.options import (
    GalleryOption,
    JsonOption,
    LivenessModelOption,
    LivenessOption,
    LivenessThresholdOption,
    ModelOption,
    liveness_settings,
)


class Score(str, Enum):
    nearest = "nearest"
    centroid = "centroid"


def verify_command(
    files: Annotated[list[str], typer.Argument(help="Probe files; '-' reads one path per line from stdin.")],
    claim: Annotated[
        Optional[str], typer.Option("--claim", "-c", help="1:1: does each probe match NAME? Without: who is it?")
    ] = None,
    threshold: Annotated[
        Optional[float],
        typer.Option(
            help="Accept at this distance (1:1) or open-set score, 2*d1 - d2 (1:N), or less "
            "\\[default: the gallery's calibration, else the model's].",
        ),
    ] = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=0, help="List the K nearest identities (1:N).")] = 0,
    score: Annotated[
        Score, typer.Option(help="centroid: the mean of each identity's samples; nearest: the closest enrolled sample.")
    ] = Score.centroid,
    model: ModelOption = None,
    gallery: GalleryOption = None,
    json_output: JsonOption = False,
    liveness: LivenessOption = False,
    liveness_model: LivenessModelOption = None,
    liveness_threshold: LivenessThresholdOption = None,
) -> None:
    """Verify probes against a claimed identity, or identify them among everyone enrolled.

    With --liveness, a face judged not live (a printed photo held to the camera) is a spoof, whatever
    its distance.

    Exit status: 0 every probe accepted or identified, 1 some rejected, unknown or spoof, 2 an error.
    """
    from siamcli.cli.inputs import expand_paths
    from siamcli.cli.output import note, print_json, want_json
    from siamcli.usecases.verify import Unusable, verify

    results = verify(
        expand_paths(files),
        claim=claim,
        threshold=threshold,
        top_k=top_k,
        score=score.value,
        model=model,
        gallery=gallery,
        liveness=liveness_settings(liveness, liveness_model, liveness_threshold),
    )
    as_json = want_json(json_output)
    rows: list[dict[str, Any]] = []
    all_matched, any_problem = True, False
    for result in results:
        if isinstance(result, Unusable):
            note(f"siamcli: {result.problem}")
            any_problem = True
            continue
        all_matched &= result.match
        if as_json:
            print_json(result.to_dict())
        else:
            rows.append(result.to_dict())
    if rows:
        _print_table(rows, claim)
    raise typer.Exit(2 if any_problem else 0 if all_matched else 1)


def _print_table(rows: list[dict[str, Any]], claim: str | None) -> None:
    from rich.text import Text

    from siamcli.cli.output import print_table

    columns = ["probe", "identity" if claim is None else "claim", "distance"] + ["score"] * (claim is None)
    columns += ["threshold", "decision"]
    with_liveness = any("liveness" in row for row in rows)
    columns += ["liveness"] * with_liveness
    with_candidates = any("candidates" in row for row in rows)
    cells = []
    for row in rows:
        line = [
            row["path"],
            row["identity"] if claim is None else claim,
            f"{row['distance']:.4f}",
            *([f"{row['score']:.4f}"] if claim is None else []),
            f"{row['threshold']:.4f} ({row['threshold_source']})",
            Text(row["decision"], style="green" if row["match"] else "red"),
        ]
        if with_liveness:
            live = row["liveness"]
            line.append(f"{live['score']:.3f} {'live' if live['live'] else 'not live'}")
        if with_candidates:
            line.append(", ".join(f"{c['identity']} {c['distance']:.3f}" for c in row.get("candidates", [])))
        cells.append(line)
    title = f"claim: {claim}" if claim else "identification"
    print_table(
        title, columns + ["candidates"] * with_candidates, cells, right=("distance", "score", "threshold", "liveness")
    )

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from siamcli.cli.options import LivenessModelOption, LivenessOption, LivenessThresholdOption, liveness_settings


def embed_command(
    files: Annotated[list[str], typer.Argument(help="Sample files; '-' reads one path per line from stdin.")],
    model: Annotated[
        Optional[Path],
        typer.Option("--model", "-m", help="Model file \\[default: the shipped model for the files' type]."),
    ] = None,
    liveness: LivenessOption = False,
    liveness_model: LivenessModelOption = None,
    liveness_threshold: LivenessThresholdOption = None,
) -> None:
    """Print one JSON line per input: {"path": ..., "embedding": [...]}, and for faces where the face
    was found: "face": {"box": [left, top, right, bottom], "landmarks": [[x, y] of the eyes, nose tip
    and mouth corners], "score": ...}; with --liveness, "liveness": {"score": ..., "live": true|false,
    "threshold": ...}.

    A file that cannot be embedded is named on stderr and the others still are; the exit status is
    then 2."""
    from siamcli.cli.inputs import expand_paths
    from siamcli.cli.output import note, print_json
    from siamcli.errors import path_text
    from siamcli.model import Unusable
    from siamcli.usecases.embed import embed

    any_problem = False
    settings = liveness_settings(liveness, liveness_model, liveness_threshold)
    for result in embed(expand_paths(files), model=model, liveness=settings):
        if isinstance(result, Unusable):
            note(f"siamcli: {result.problem}")
            any_problem = True
            continue
        path, embedding, found = result
        print_json({"path": path_text(path), "embedding": [float(v) for v in embedding], **(found or {})})
    if any_problem:
        raise typer.Exit(2)

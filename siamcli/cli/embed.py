from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def embed_command(
    files: Annotated[list[str], typer.Argument(help="Sample files; '-' reads one path per line from stdin.")],
    model: Annotated[
        Optional[Path],
        typer.Option("--model", "-m", help="Model file \\[default: the shipped model for the files' type]."),
    ] = None,
) -> None:
    """Print one JSON line per input: {"path": ..., "embedding": [...]}."""
    from siamcli.cli.inputs import expand_paths
    from siamcli.cli.output import print_json
    from siamcli.usecases.embed import embed

    for path, embedding in embed(expand_paths(files), model=model):
        print_json({"path": str(path), "embedding": [float(v) for v in embedding]})

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def embed_command(
    files: Annotated[list[str], typer.Argument(help="Sample files; '-' reads one path per line from stdin.")],
    model: Annotated[Path, typer.Option("--model", "-m", help="Model file made by `siamcli train`.")],
) -> None:
    """Print one JSON line per input: {"path": ..., "embedding": [...]}."""
    from siamcli.cli.inputs import expand_paths
    from siamcli.cli.output import print_json
    from siamcli.model import load_model

    loaded = load_model(model)
    paths = expand_paths(files)
    for chunk, embeddings in loaded.embed_chunks(paths):
        for path, embedding in zip(chunk, embeddings):
            print_json({"path": str(path), "embedding": [round(float(v), 6) for v in embedding]})

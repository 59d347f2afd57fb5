from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer


def pairs_command(
    data_dir: Annotated[Path, typer.Argument(help="Folder with one subfolder per identity.")],
    genuine: Annotated[
        Optional[int], typer.Option("--genuine", min=1, help="Genuine pairs to draw \\[default: all of them].")
    ] = None,
    impostor: Annotated[
        Optional[int], typer.Option("--impostor", min=1, help="Impostor pairs to draw \\[default: as many as genuine].")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the draw: the same seed gives the same file.")] = 0,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Write here instead of stdout.")] = None,
) -> None:
    """Write genuine/impostor pairs as CSV (path_a,path_b,label; 1 = same identity)."""
    from siamcli.data.dataset import scan_dataset
    from siamcli.data.pairs import make_pairs, write_pairs
    from siamcli.files import write_atomic
    from siamcli.modalities import all_suffixes

    pairs = make_pairs(scan_dataset(data_dir, all_suffixes()), genuine, impostor, seed)
    if output is None:
        write_pairs(pairs, sys.stdout)
        return
    buffer = io.StringIO()
    write_pairs(pairs, buffer)
    write_atomic(output, buffer.getvalue().encode("utf-8"))

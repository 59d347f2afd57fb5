"""File arguments: paths, or '-' for one path per line on stdin."""

from __future__ import annotations

import sys
from pathlib import Path

from siamcli.errors import SiamcliError


def expand_paths(arguments: list[str]) -> list[Path]:
    paths: list[Path] = []
    for argument in arguments:
        if argument == "-":
            paths.extend(Path(line.strip()) for line in sys.stdin if line.strip())
        else:
            paths.append(Path(argument))
    if not paths:
        raise SiamcliError("no input files (give paths, or '-' to read them from stdin)")
    return paths

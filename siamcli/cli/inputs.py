"""File arguments: paths, or '-' for one path per line on stdin."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from siamcli.errors import SiamcliError


def expand_paths(arguments: list[str]) -> list[Path]:
    paths: list[Path] = []
    for argument in arguments:
        if argument == "-":
            # Bytes, decoded as the file system does: `find` may print names that are not UTF-8.
            lines = sys.stdin.buffer.read().split(b"\n")
            paths.extend(Path(os.fsdecode(line.strip())) for line in lines if line.strip())
        else:
            paths.append(Path(argument))
    if not paths:
        raise SiamcliError("no input files (give paths, or '-' to read them from stdin)")
    return paths

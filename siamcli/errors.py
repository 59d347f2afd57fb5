"""The one exception type that the CLI turns into a single line on stderr and exit code 2, and how
text from outside (file names, identity names) is shown: literally, one line, nothing it can hide."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path


class SiamcliError(Exception):
    """A problem with the user's input: a file, a folder, a model or a flag.

    The message names the file and the problem, and reads well on its own line.
    """


class NothingToEmbed(SiamcliError):
    """A readable sample in which the model finds nothing to embed (no face, too little speech).
    Commands on one sample refuse it; commands on a whole dataset leave it out and say so."""


class SiamcliWarning(UserWarning):
    """Something the user should know that does not stop the command (a gallery others can read, a
    sample nearly identical to someone else's): one line on stderr."""


def path_text(path: Path | str) -> str:
    """A path as text that any UTF-8 consumer (JSON, SQLite, a terminal) takes: bytes of a file name
    that are not UTF-8 become \\xNN instead of breaking the output."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def printable(text: object) -> str:
    """`text` safe to show on one line: control, format (bidi overrides, zero-width) and separator
    characters become escapes, and bytes that are not UTF-8 (in file names) become \\xNN."""
    return "".join(
        ch if ch == " " or unicodedata.category(ch)[0] not in "CZ" else ch.encode("unicode_escape").decode("ascii")
        for ch in path_text(str(text))
    )


def first_line(error: BaseException) -> str:
    """What an exception from a library says, on one line (its type when it says nothing)."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__

"""The one exception type that the CLI turns into a single line on stderr and exit code 2, and how
text from outside (file names, identity names) is shown: literally, one line, nothing it can hide."""

from __future__ import annotations

import unicodedata


class SiamcliError(Exception):
    """A problem with the user's input: a file, a folder, a model or a flag.

    The message names the file and the problem, and reads well on its own line.
    """


class SiamcliWarning(UserWarning):
    """Something the user should know that does not stop the command (a gallery others can read, a
    sample nearly identical to someone else's): one line on stderr."""


def printable(text: object) -> str:
    """`text` safe to show on one line: control, format (bidi overrides, zero-width) and separator
    characters become escapes, and bytes that are not UTF-8 (in file names) become \\xNN."""
    shown = str(text).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(
        ch if ch == " " or unicodedata.category(ch)[0] not in "CZ" else ch.encode("unicode_escape").decode("ascii")
        for ch in shown
    )

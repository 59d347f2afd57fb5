"""Where output goes: results on stdout (a table on a terminal, JSON when asked or piped),
everything else on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

stderr = Console(stderr=True)


def note(message: str) -> None:
    """A message for the person at the terminal, on stderr, printed as is (no markup, no wrapping)."""
    stderr.print(message, markup=False, highlight=False, soft_wrap=True)


def want_json(flag: bool) -> bool:
    return flag or not sys.stdout.isatty()


def _clean(value: Any) -> Any:
    """Floats to 6 significant digits (what the data can support), so JSON stays readable."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(_clean(value)) + "\n")
    sys.stdout.flush()

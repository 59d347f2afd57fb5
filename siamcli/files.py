"""Files: atomic writes (a reader sees the old file or the new one, never half of either), content hashes."""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from siamcli.errors import SiamcliError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` (the file a symbolic link points to, if it is one) with `data`, atomically."""
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise SiamcliError(f"{path}: folder {folder} does not exist")
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); give it the mode any new file would get, or keep the old one's.
        os.fchmod(fd, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def sha256_of(path: Path) -> str:
    """The file's content hash, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_regular_file(path: Path, what: str) -> int:
    """The size of a regular file, or one line saying why `path` cannot be read as `what`: a pipe or a
    device would hang a reader, a folder is not a file."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise SiamcliError(f"{path}: no such file") from None
    except PermissionError:
        raise SiamcliError(f"{path}: cannot read (permission denied)") from None
    except OSError as error:
        raise SiamcliError(f"{path}: cannot read ({error.strerror or error})") from None
    if stat.S_ISDIR(status.st_mode):
        raise SiamcliError(f"{path}: is a folder, not {what}")
    if not stat.S_ISREG(status.st_mode):
        raise SiamcliError(f"{path}: not a regular file (a pipe or a device), not {what}")
    return status.st_size


class _NativeStderr:
    """File descriptor 2, sent to /dev/null while any thread asks (nested and concurrent uses share it)."""

    lock = threading.Lock()
    depth = 0
    saved = -1


@contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Native libraries' own lines on file descriptor 2 go to /dev/null meanwhile; Python's stderr (a
    siamcli error or warning) is flushed first, and its own errors are raised after, not written during."""
    with _NativeStderr.lock:
        if _NativeStderr.depth == 0:
            sys.stderr.flush()
            _NativeStderr.saved = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
        _NativeStderr.depth += 1
    try:
        yield
    finally:
        with _NativeStderr.lock:
            _NativeStderr.depth -= 1
            if _NativeStderr.depth == 0:
                os.dup2(_NativeStderr.saved, 2)
                os.close(_NativeStderr.saved)


def limit(name: str, default: float) -> float:
    """A resource limit: SIAMCLI_<NAME> from the environment, else `default`."""
    value = os.environ.get(f"SIAMCLI_{name}")
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise SiamcliError(f"SIAMCLI_{name}={value!r}: not a number") from None
    if not number > 0:
        raise SiamcliError(f"SIAMCLI_{name}={value!r}: must be positive")
    return number


def json_text(value: Any, indent: int | None = None) -> str:
    """Strict JSON of results: floats to 6 significant digits (what the data can support), and a value
    that is not finite as null, never a NaN or Infinity token that other JSON readers refuse."""
    return json.dumps(_finite(value), indent=indent, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.6g}") if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value

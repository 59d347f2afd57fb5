"""The model file: encoder weights as safetensors, and everything needed to use them in its metadata.

The metadata is one JSON document under the header key "siamcli". Reading it parses JSON and raw
tensors only: no pickle, no code from the file is ever run.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from siamcli import __version__
from siamcli.errors import SiamcliError
from siamcli.files import write_atomic

FORMAT = "siamcli-model"
FORMAT_VERSION = 1
_MAX_HEADER_BYTES = 100 * 1024 * 1024  # safetensors' own limit


def _not_a_model(path: Path, why: str) -> SiamcliError:
    return SiamcliError(f"{path}: not a siamcli model ({why})")


def parse_header(path: Path, data: bytes) -> dict[str, Any]:
    """The safetensors header of `data`, checked to be a siamcli model this version can read."""
    if len(data) < 8:
        raise _not_a_model(path, "file too short")
    (header_size,) = struct.unpack("<Q", data[:8])
    if header_size > min(len(data) - 8, _MAX_HEADER_BYTES):
        raise _not_a_model(path, "not a safetensors file")
    try:
        header = json.loads(data[8 : 8 + header_size])
        meta = json.loads(header["__metadata__"]["siamcli"])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _not_a_model(path, "not a safetensors file") from None
    except (KeyError, TypeError):
        raise _not_a_model(path, "safetensors file without siamcli metadata") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _not_a_model(path, "safetensors file without siamcli metadata")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise SiamcliError(
            f"{path}: model format {version} is newer than this siamcli {__version__} reads "
            f"(format {FORMAT_VERSION}); upgrade siamcli"
        )
    return meta


def read_bytes(path: Path) -> bytes:
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SiamcliError(f"{path}: no such model file") from None
    except IsADirectoryError:
        raise SiamcliError(f"{path}: is a folder, not a model file") from None
    except OSError as error:
        raise SiamcliError(f"{path}: cannot read model file ({error.strerror})") from None


def read_meta(path: Path) -> dict[str, Any]:
    return parse_header(Path(path), read_bytes(path))


def write_model(path: Path, tensors: dict[str, Any], meta: dict[str, Any]) -> None:
    """Write torch tensors and metadata atomically; `meta` gains the format fields."""
    from safetensors.torch import save

    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "siamcli_version": __version__, **meta}
    contiguous = {name: tensor.detach().contiguous() for name, tensor in tensors.items()}
    write_atomic(Path(path), save(contiguous, metadata={"siamcli": json.dumps(meta)}))

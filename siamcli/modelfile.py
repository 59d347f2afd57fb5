"""The model file: encoder weights as safetensors, and everything needed to use them in its metadata.

The metadata is one JSON document under the header key "siamcli": the model card (siamcli/modelcard.py)
and the format's name and version. Beside the torch weights (for training further) lies the same
encoder as an ONNX graph, a uint8 tensor, for torch-free inference.
Reading parses JSON, raw tensors and ONNX only: no pickle, no code from the file is ever run.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from siamcli import __version__
from siamcli.errors import SiamcliError
from siamcli.files import check_regular_file, limit, write_atomic
from siamcli.modalities import get_modality
from siamcli.modelcard import ModelCard, OpenSetRecord, ThresholdRecord

FORMAT = "siamcli-model"
FORMAT_VERSION = 1
GRAPH_TENSOR = "siamcli.onnx"
_MAX_HEADER_BYTES = 100 * 1024 * 1024  # safetensors' own limit
MAX_METADATA_CHARS = 1 << 20  # a card with a training record of hundreds of identities is ~50 KB
MAX_MODEL_BYTES = 1 << 30  # the shipped models are 2-5 MB; a pretrained encoder is tens of MB


def _not_a_model(path: Path, why: str) -> SiamcliError:
    return SiamcliError(f"{path}: not a siamcli model ({why})")


def _safetensors_header(path: Path, data: bytes) -> tuple[dict[str, Any], int]:
    """The header as JSON, and the offset where tensor data starts."""
    if len(data) < 8:
        raise _not_a_model(path, "file too short")
    (header_size,) = struct.unpack("<Q", data[:8])
    if header_size > min(len(data) - 8, _MAX_HEADER_BYTES):
        raise _not_a_model(path, "not a safetensors file")
    try:
        header = json.loads(data[8 : 8 + header_size])
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise _not_a_model(path, "not a safetensors file") from None
    if not isinstance(header, dict):
        raise _not_a_model(path, "not a safetensors file")
    return header, 8 + header_size


def _siamcli_meta(path: Path, header: dict[str, Any]) -> dict[str, Any]:
    try:
        text = header["__metadata__"]["siamcli"]
        if isinstance(text, str) and len(text) > MAX_METADATA_CHARS:
            raise SiamcliError(f"{path}: damaged siamcli model (metadata of {len(text):,} characters)")
        meta = json.loads(text)
    except (KeyError, TypeError, UnicodeDecodeError, json.JSONDecodeError):
        raise _not_a_model(path, "safetensors file without siamcli metadata") from None
    except RecursionError:
        raise SiamcliError(f"{path}: damaged siamcli model (metadata nested too deeply)") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _not_a_model(path, "safetensors file without siamcli metadata")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SiamcliError(
            f"{path}: damaged siamcli model (format_version {json.dumps(version)} is not a version number)"
        )
    if version > FORMAT_VERSION:
        raise SiamcliError(
            f"{path}: model format {version} is newer than this siamcli {__version__} reads "
            f"(format {FORMAT_VERSION}); upgrade siamcli"
        )
    return meta


def _card(path: Path, meta: dict[str, Any]) -> ModelCard:
    fields = {key: value for key, value in meta.items() if key not in ("format", "format_version")}
    try:
        return ModelCard.from_json(fields)
    except (ValueError, SiamcliError) as error:
        raise SiamcliError(f"{path}: damaged siamcli model (bad metadata: {error})") from None


# What decides a model's embeddings. The threshold and the training record are left out, so that
# calibrating a model again does not orphan the galleries enrolled with it.
EMBEDDING_FIELDS = ("modality", "encoder", "embedding_dim", "preprocessing", "distance")


def _fingerprint(data: bytes, start: int, meta: dict[str, Any]) -> str:
    """SHA-256 of everything that decides the model's embeddings: its tensors and the fields above."""
    digest = hashlib.sha256(data[start:])
    digest.update(json.dumps({key: meta.get(key) for key in EMBEDDING_FIELDS}, sort_keys=True).encode())
    return digest.hexdigest()


def _inference_graph(path: Path, data: bytes, header: dict[str, Any], start: int) -> bytes:
    """The ONNX bytes stored in the model, sliced out of the file without decoding any other tensor."""
    try:
        entry = header[GRAPH_TENSOR]
        begin, end = (int(offset) for offset in entry["data_offsets"])
        if entry["dtype"] != "U8" or not 0 <= begin <= end <= len(data) - start:
            raise ValueError
    except (KeyError, TypeError, ValueError):
        raise SiamcliError(f"{path}: damaged siamcli model (no inference graph)") from None
    return data[start + begin : start + end]


@dataclass(frozen=True)
class ModelFile:
    card: ModelCard
    graph: bytes  # the ONNX inference graph
    fingerprint: str  # of what decides the model's embeddings: galleries bind to it


@dataclass(frozen=True)
class _Parsed:
    data: bytes  # the whole file
    header: dict[str, Any]  # safetensors' header
    start: int  # where the tensor data starts
    meta: dict[str, Any]  # siamcli's metadata, as stored
    card: ModelCard


def _parse(path: Path) -> _Parsed:
    """A model file read once and its header parsed once; a file that is not a siamcli model, or a
    damaged one, is refused by name."""
    data = read_bytes(path)
    header, start = _safetensors_header(path, data)
    meta = _siamcli_meta(path, header)
    return _Parsed(data, header, start, meta, _card(path, meta))


def read_model_file(path: Path) -> ModelFile:
    """A model file's card, ONNX graph and fingerprint."""
    path = Path(path)
    parsed = _parse(path)
    graph = _inference_graph(path, parsed.data, parsed.header, parsed.start)
    return ModelFile(parsed.card, graph, _fingerprint(parsed.data, parsed.start, parsed.meta))


def read_bytes(path: Path) -> bytes:
    """The whole file, once it is known to be a regular file within SIAMCLI_MAX_MODEL_BYTES."""
    path = Path(path)
    if not os.path.lexists(path):
        raise SiamcliError(f"{path}: no such model file")
    size = check_regular_file(path, "a model file")
    most = limit("MAX_MODEL_BYTES", MAX_MODEL_BYTES)
    if size > most:
        raise SiamcliError(f"{path}: {size:,} bytes, more than the limit of {most:,.0f} (SIAMCLI_MAX_MODEL_BYTES)")
    try:
        return path.read_bytes()
    except OSError as error:  # gone or unreadable since it was checked
        raise SiamcliError(f"{path}: cannot read model file ({error.strerror or error})") from None


def read_card(path: Path) -> ModelCard:
    return _parse(Path(path)).card


def write_model(path: Path, encoder: Any, card: ModelCard) -> None:
    """Write a torch encoder, its ONNX graph and card atomically."""
    import torch
    from safetensors.torch import save

    from siamcli.inference import export_onnx

    modality = get_modality(card.modality)
    graph = export_onnx(encoder, modality.example_input(card.preprocessing), modality.input_axes)
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, **card.to_json(), "siamcli_version": __version__}
    tensors = {name: tensor.detach().contiguous() for name, tensor in encoder.state_dict().items()}
    tensors[GRAPH_TENSOR] = torch.frombuffer(bytearray(graph), dtype=torch.uint8)
    write_atomic(Path(path), save(tensors, metadata={"siamcli": json.dumps(meta)}))


def update_operating_points(path: Path, threshold: ThresholdRecord, open_set: OpenSetRecord | None) -> None:
    """Rewrite the model's 1:1 threshold and 1:N operating point (None: not calibrated for 1:N),
    atomically; the tensor bytes stay as they were, so the fingerprint (and every gallery bound to
    it) survives a recalibration."""
    path = Path(path)
    parsed = _parse(path)  # a damaged model is refused, not rewritten
    points = {"threshold": threshold.to_json(), "open_set": None if open_set is None else open_set.to_json()}
    parsed.header["__metadata__"]["siamcli"] = json.dumps({**parsed.meta, **points})
    encoded = json.dumps(parsed.header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # safetensors aligns the tensor data to 8 bytes
    write_atomic(path, struct.pack("<Q", len(encoded)) + encoded + parsed.data[parsed.start :])


def read_torch_weights(path: Path) -> tuple[ModelCard, dict[str, Any]]:
    """The model's card and its encoder's torch weights, the file read once."""
    from safetensors.torch import load

    parsed = _parse(Path(path))
    state = load(parsed.data)
    state.pop(GRAPH_TENSOR, None)
    return parsed.card, state


def load_torch_encoder(path: Path) -> Any:
    """The model's encoder as a torch module in eval mode, for training further or checking the graph."""
    from siamcli.core.encoders import build_encoder
    from siamcli.modalities import import_encoders

    card, state = read_torch_weights(path)
    import_encoders()
    encoder = build_encoder(card.encoder)
    encoder.load_state_dict(state)
    return encoder.eval()

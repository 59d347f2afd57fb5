"""The inference graph: the encoder exported to ONNX when a model is saved, run with onnxruntime.

Embedding never imports torch (about 3 s of a CLI's cold start here); onnxruntime loads in a
tenth of that. The graph holds standard ONNX operators only, so running it runs no code from the file.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

INPUT, OUTPUT = "input", "embedding"
OPSET = 17


def export_onnx(encoder: Any, example: np.ndarray, dynamic_axes: dict[int, str]) -> bytes:
    """The encoder (a torch module, in eval mode) as ONNX bytes; `dynamic_axes` name the input's free axes."""
    import torch

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of the dynamo one, which needs onnxscript
        # and gains nothing for these plain feed-forward encoders.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            encoder.eval(),
            (torch.from_numpy(example),),
            buffer,
            input_names=[INPUT],
            output_names=[OUTPUT],
            dynamic_axes={INPUT: dynamic_axes, OUTPUT: {0: dynamic_axes[0]}},
            opset_version=OPSET,
            # An encoder that keeps its weights at half precision says so: folding their casts to float32
            # into the graph would store them twice as large.
            do_constant_folding=getattr(encoder, "fold_onnx_constants", True),
            dynamo=False,
        )
    return buffer.getvalue()


def onnx_session(graph: bytes, threads: int = 0) -> Any:
    """An onnxruntime session of a graph that passed `check_graph`, on the CPU; `threads` 0: its default."""
    # Set before onnxruntime first loads: from 1.29 on Linux it otherwise writes a device id and an event
    # cache under ~/.cache/Microsoft at import, and queues telemetry (its documented opt-out).
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime

    onnxruntime.disable_telemetry_events()  # the older releases' own switch
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: its warnings would land on our stderr
    options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


class OnnxEncoder:
    """Embeds numpy batches with onnxruntime; the graph must have passed `check_graph`."""

    def __init__(self, graph: bytes) -> None:
        self.session = onnx_session(graph)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run([OUTPUT], {INPUT: np.ascontiguousarray(batch, dtype=np.float32)})[0]


# The operators siamcli's own encoders export (and a few plain neighbours of theirs): standard ONNX,
# no control flow (LSTM is one fixed recurrence, no subgraph), no custom domain. A graph with anything
# else was not made by siamcli.
OPERATORS = frozenset(
    {
        "Abs", "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "ConstantOfShape",
        "Conv", "Div", "Einsum", "Elu", "Equal", "Erf", "Exp", "Expand", "Flatten", "Gather", "Gemm",
        "GlobalAveragePool", "GlobalMaxPool", "Identity", "LeakyRelu", "Log", "LSTM", "MatMul", "Max", "MaxPool",
        "Mean", "Min", "Mul", "Neg", "Pad", "Pow", "PRelu", "ReduceL2", "ReduceMax", "ReduceMean", "ReduceSum",
        "Relu", "Reshape", "Shape", "Sigmoid", "Slice", "Softmax", "Sqrt", "Squeeze", "Sub", "Tanh",
        "Transpose", "Unsqueeze", "Where",
    }
)  # fmt: skip
MAX_NODES = 100_000


def check_graph(graph: bytes) -> None:
    """ValueError unless `graph` is an ONNX model siamcli could have exported: only OPERATORS of the
    standard domain, no tensor stored outside the file (external data would make onnxruntime read
    files named by the model), no model-local functions, no subgraphs. Read with a few lines of
    protobuf rather than the onnx package, whose import alone costs most of a second."""
    nodes = 0
    for field, value in _fields(graph):
        if field == 25:
            raise ValueError("the graph defines functions of its own")
        if field != 7:
            continue
        for part, item in _fields(value):
            if part == 1:
                nodes += 1
                if nodes > MAX_NODES:
                    raise ValueError(f"more than {MAX_NODES:,} operators")
                _check_node(item)
            elif part in (5, 15):  # initializer, sparse_initializer
                _check_tensor(item)


def _check_node(node: memoryview) -> None:
    op_type, domain = "", ""
    for field, value in _fields(node):
        if field == 4:
            op_type = bytes(value).decode("utf-8", "replace")
        elif field == 7:
            domain = bytes(value).decode("utf-8", "replace")
        elif field == 5:  # an attribute: may hold a tensor or a subgraph
            for part, item in _fields(value):
                if part in (6, 11):
                    raise ValueError(f"operator {op_type or '?'} holds a subgraph")
                if part in (5, 10):
                    _check_tensor(item)
    if domain not in ("", "ai.onnx") or op_type not in OPERATORS:
        raise ValueError(f"operator {domain + '.' if domain else ''}{op_type} is not one siamcli exports")


MAX_DIMENSION = 1 << 20  # no shape siamcli's encoders build comes near it; Expand or Pad to more would
# allocate gigabytes
INT64, INT64_ENDS = 7, (-(1 << 63), 1 - (1 << 63), (1 << 63) - 1)  # Slice's "to the end" markers


def _check_tensor(tensor: memoryview) -> None:
    data_type, raw, packed = 0, None, []
    for field, value in _fields(tensor):
        if field == 13 or (field == 14 and value != 0):
            raise ValueError("a tensor names external data (a file beside the model)")
        if field == 2:
            data_type = value
        elif field == 9:
            raw = value
        elif field == 7:  # int64_data: packed varints, or one value per field
            packed += _packed_varints(value) if isinstance(value, memoryview) else [value]
    if data_type != INT64:
        return
    values = [int(v) for v in np.frombuffer(raw, dtype="<i8")] if raw is not None else [_signed(v) for v in packed]
    if any(abs(v) > MAX_DIMENSION and v not in INT64_ENDS for v in values):
        raise ValueError(f"a shape or index beyond {MAX_DIMENSION:,}")


def _packed_varints(data: memoryview) -> list[int]:
    values, position = [], 0
    while position < len(data):
        value, position = _varint(data, position)
        values.append(value)
    return values


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _fields(buffer: bytes | memoryview) -> Iterator[tuple[int, Any]]:
    """(field number, value) of one protobuf message: an int for varint and fixed-width fields, a
    memoryview for length-delimited ones."""
    data = memoryview(buffer)
    position, end = 0, len(data)
    while position < end:
        key, position = _varint(data, position)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, position = _varint(data, position)
        elif wire == 1:
            value, position = int.from_bytes(data[position : position + 8], "little"), position + 8
        elif wire == 5:
            value, position = int.from_bytes(data[position : position + 4], "little"), position + 4
        elif wire == 2:
            size, position = _varint(data, position)
            if position + size > end:
                raise ValueError("truncated graph")
            value, position = data[position : position + size], position + size
        else:
            raise ValueError(f"not an ONNX graph (wire type {wire})")
        if position > end:
            raise ValueError("truncated graph")
        yield field, value


def _varint(data: memoryview, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if position >= len(data) or shift > 63:
            raise ValueError("truncated graph")
        byte = data[position]
        value |= (byte & 0x7F) << shift
        position += 1
        shift += 7
        if not byte & 0x80:
            return value, position

"""The inference graph: the encoder exported to ONNX when a model is saved, run with onnxruntime.

Embedding never imports torch (about 3 s of a CLI's cold start here); onnxruntime loads in a
tenth of that. The graph holds standard ONNX operators only, so running it runs no code from the file.
"""

from __future__ import annotations

import io
import warnings
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
            dynamo=False,
        )
    return buffer.getvalue()


class OnnxEncoder:
    """Embeds numpy batches with onnxruntime."""

    def __init__(self, graph: bytes) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only: its warnings would land on our stderr
        self.session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run([OUTPUT], {INPUT: np.ascontiguousarray(batch, dtype=np.float32)})[0]

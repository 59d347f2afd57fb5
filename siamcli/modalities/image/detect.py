"""Finding faces: MTCNN (Zhang et al. 2016), three small networks run with onnxruntime, the rest numpy.

P-Net slides over a pyramid of the photo and proposes boxes; R-Net and O-Net score and refine
square crops of them; O-Net also places five landmarks (the eyes' centres, the nose tip, the mouth's
corners), which the alignment uses. The weights are facenet-pytorch's (MIT), converted once by
scripts/convert_face_models.py into siamcli/models/mtcnn.detector; no torch here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

DETECTOR_FILE = Path(__file__).parents[2] / "models" / "mtcnn.detector"
THRESHOLDS = (0.6, 0.7, 0.7)  # of P-, R- and O-Net: MTCNN's own
PYRAMID_FACTOR = 0.709  # each level of the pyramid is half the area of the one before
MIN_FACE = 20  # pixels: smaller faces carry too little for the encoder's 150x150 chip


@dataclass(frozen=True)
class Face:
    box: tuple[float, float, float, float]  # left, top, right, bottom, in the photo's pixels
    landmarks: np.ndarray  # (5, 2): x, y of the left eye, right eye, nose tip, left and right mouth corner
    score: float  # O-Net's probability that the box holds a face

    @property
    def area(self) -> float:
        left, top, right, bottom = self.box
        return max(right - left, 0.0) * max(bottom - top, 0.0)

    def to_json(self) -> dict[str, object]:
        return {
            "box": [round(v, 1) for v in self.box],
            "landmarks": np.round(self.landmarks.astype(float), 1).tolist(),
            "score": round(self.score, 4),
        }


class FaceDetector:
    def __init__(self, graphs: dict[str, bytes]) -> None:
        from siamcli.inference import check_graph, onnx_session

        self.sessions = {}
        for name in ("pnet", "rnet", "onet"):
            check_graph(graphs[name])
            # One thread a network: they are small, and threads cost more than they save (32 ms a 250x250
            # photo against 38 with two); photos are detected side by side instead (ImageModality.decode).
            self.sessions[name] = onnx_session(graphs[name], threads=1)

    def _run(self, name: str, batch: np.ndarray) -> list[np.ndarray]:
        return self.sessions[name].run(None, {"input": (batch.astype(np.float32) - 127.5) * 0.0078125})

    def detect(self, image: Image.Image, min_face: int = MIN_FACE) -> list[Face]:
        """Every face of an RGB image, most likely first."""
        boxes = self._propose(image, min_face)
        if len(boxes):
            boxes = self._refine(image, boxes)
        if not len(boxes):
            return []
        boxes, landmarks = self._output(image, boxes)
        return [Face(tuple(map(float, b[:4])), p, float(b[4])) for b, p in zip(boxes, landmarks)]

    def _propose(self, image: Image.Image, min_face: int) -> np.ndarray:
        """P-Net over the pyramid: candidate squares (x1, y1, x2, y2, score)."""
        width, height = image.size
        scale, shortest = 12.0 / min_face, min(width, height) * 12.0 / min_face
        found = []
        while shortest >= 12:
            size = (int(width * scale + 1), int(height * scale + 1))
            level = np.asarray(image.resize(size, Image.Resampling.BOX), np.float32).transpose(2, 0, 1)[None]
            offsets, probabilities = self._run("pnet", level)
            rows, cols = np.nonzero(probabilities[0, 1] >= THRESHOLDS[0])
            if len(rows):
                cells = np.stack([cols, rows], axis=1).astype(np.float32)
                corners = np.concatenate([np.floor((2 * cells + 1) / scale), np.floor((2 * cells + 12) / scale)], 1)
                candidates = np.concatenate(
                    [corners, probabilities[0, 1, rows, cols, None], offsets[0][:, rows, cols].T], axis=1
                )
                found.append(candidates[_nms(candidates, 0.5)])
            scale *= PYRAMID_FACTOR
            shortest *= PYRAMID_FACTOR
        if not found:
            return np.zeros((0, 5), np.float32)
        boxes = np.concatenate(found)
        boxes = boxes[_nms(boxes, 0.7)]
        sides = (boxes[:, 2:4] - boxes[:, 0:2])[:, [0, 1, 0, 1]]
        refined = np.concatenate([boxes[:, :4] + boxes[:, 5:9] * sides, boxes[:, 4:5]], axis=1)
        return _square(refined)

    def _refine(self, image: Image.Image, boxes: np.ndarray) -> np.ndarray:
        offsets, probabilities = self._run("rnet", _crops(image, boxes, 24))
        keep = probabilities[:, 1] > THRESHOLDS[1]
        boxes = np.concatenate([boxes[keep, :4], probabilities[keep, 1:2]], axis=1)
        picked = _nms(boxes, 0.7)
        return _square(_regress(boxes[picked], offsets[keep][picked]))

    def _output(self, image: Image.Image, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        offsets, points, probabilities = self._run("onet", _crops(image, boxes, 48))
        keep = probabilities[:, 1] > THRESHOLDS[2]
        boxes = np.concatenate([boxes[keep, :4], probabilities[keep, 1:2]], axis=1)
        sizes = boxes[:, 2:4] - boxes[:, 0:2] + 1
        points = points[keep]
        landmarks = np.stack(
            [sizes[:, :1] * points[:, :5] + boxes[:, :1] - 1, sizes[:, 1:2] * points[:, 5:] + boxes[:, 1:2] - 1],
            axis=2,
        )
        boxes = _regress(boxes, offsets[keep])
        picked = _nms(boxes, 0.7, by_smaller=True)
        return boxes[picked], landmarks[picked]


def _nms(boxes: np.ndarray, overlap: float, by_smaller: bool = False) -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression, highest score first; overlap is
    measured against the union (or, `by_smaller`, against the smaller box)."""
    x1, y1, x2, y2, scores = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3], boxes[:, 4]
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(scores)[::-1]
    kept = []
    while order.size:
        best, rest = order[0], order[1:]
        kept.append(best)
        widths = np.maximum(0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]) + 1)
        heights = np.maximum(0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]) + 1)
        inter = widths * heights
        base = np.minimum(areas[best], areas[rest]) if by_smaller else areas[best] + areas[rest] - inter
        order = rest[inter / base <= overlap]
    return np.array(kept, dtype=np.int64)


def _regress(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    sizes = (boxes[:, 2:4] - boxes[:, 0:2] + 1)[:, [0, 1, 0, 1]]
    return np.concatenate([boxes[:, :4] + offsets * sizes, boxes[:, 4:5]], axis=1)


def _square(boxes: np.ndarray) -> np.ndarray:
    """Each box grown to a square about its centre."""
    sizes = boxes[:, 2:4] - boxes[:, 0:2]
    side = sizes.max(axis=1)
    corner = boxes[:, 0:2] + sizes / 2 - side[:, None] / 2
    return np.concatenate([corner, corner + side[:, None], boxes[:, 4:5]], axis=1)


def _crops(image: Image.Image, boxes: np.ndarray, size: int) -> np.ndarray:
    """Each box cut from the image (parts outside it black, as MTCNN's own code pads them), resized
    to size x size, as a (N, 3, size, size) batch."""
    crops = []
    for left, top, right, bottom in np.trunc(boxes[:, :4]).astype(int):
        crop = image.crop((left - 1, top - 1, right, bottom)).resize((size, size), Image.Resampling.BOX)
        crops.append(np.asarray(crop, np.float32))
    return np.stack(crops).transpose(0, 3, 1, 2)


@cache
def face_detector() -> FaceDetector:
    """The shipped detector, loaded once per process."""
    from safetensors.numpy import load

    tensors = load(DETECTOR_FILE.read_bytes())
    return FaceDetector({name: tensors[name].tobytes() for name in ("pnet", "rnet", "onet")})

"""Liveness: is the face in front of the camera, or a printed photo of it held up?

Each network of a liveness model looks at a square crop around the detected face, grown `scale` times
about its centre (2.7x and 4x: the paper's edges and background around the face are what give a print
away), resized to 80x80 and given in BGR order, pixel values 0 to 255, as the Silent-Face networks
were trained. The score is their mean probability of a real face; a face is live at the model's
threshold or above. Torch-free: the networks run as ONNX graphs; their torch weights lie beside them
for `siamcli train liveness` to fine-tune.

The file: safetensors holding each network's graph (`<name>.onnx`, uint8) and weights (`<name>.<key>`),
and one JSON document under the header key "siamcli-liveness". Reading it runs no code from it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from siamcli.errors import SiamcliError, first_line
from siamcli.files import check_regular_file

SHIPPED = Path(__file__).parents[2] / "models" / "minifasnet.liveness"
FORMAT, FORMAT_VERSION = "siamcli-liveness", 1


@dataclass(frozen=True)
class Network:
    name: str  # MiniFASNetV2, MiniFASNetV1SE, ...
    scale: float  # of the face box, for the crop it sees
    architecture: dict[str, Any]  # MiniFASNet's parameters (liveness_net.architecture)

    @property
    def side(self) -> int:
        return int(self.architecture["kernel"]) * 16  # four stride-2 steps to the last kernel's size


@dataclass(frozen=True)
class LivenessCard:
    networks: list[Network]
    threshold: float  # live at this mean probability of a real face or above
    calibrated_on: dict[str, Any]  # what set the threshold, and its error rates there
    source: dict[str, Any]  # where the weights came from: package or repository, files, licence
    fine_tuned: dict[str, Any] | None = None  # siamcli train liveness: data, subjects held out, epochs
    created: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, meta: dict[str, Any]) -> LivenessCard:
        networks = [Network(str(n["name"]), float(n["scale"]), dict(n["architecture"])) for n in meta["networks"]]
        threshold = float(meta["threshold"])
        if not networks or not 0.0 <= threshold <= 1.0 or any(not 1.0 <= n.scale <= 10.0 for n in networks):
            raise ValueError("networks, scales or threshold out of range")
        return cls(
            networks,
            threshold,
            dict(meta["calibrated_on"]),
            dict(meta["source"]),
            None if meta.get("fine_tuned") is None else dict(meta["fine_tuned"]),
            str(meta.get("created", "")),
        )


@dataclass(frozen=True)
class Liveness:
    score: float  # mean probability of a real face, 0 to 1
    live: bool
    threshold: float

    def to_json(self) -> dict[str, Any]:
        return {"score": round(self.score, 4), "live": self.live, "threshold": round(self.threshold, 4)}


@dataclass
class LivenessFile:
    card: LivenessCard
    graphs: dict[str, bytes]
    weights: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # per network, for training


def read_liveness_file(path: Path, with_weights: bool = False) -> LivenessFile:
    """The card and graphs of a liveness file, and `with_weights` the torch weights (only training reads
    them: verify decodes the graphs alone)."""
    from safetensors import SafetensorError, safe_open

    check_regular_file(Path(path), "a siamcli liveness model")
    try:
        with safe_open(Path(path), framework="np") as tensors:
            meta = json.loads(tensors.metadata()[FORMAT])
            if meta.get("format") != FORMAT:
                raise KeyError(FORMAT)
            keys = set(tensors.keys())
            if not isinstance(meta.get("format_version"), int) or meta["format_version"] > FORMAT_VERSION:
                raise SiamcliError(
                    f"{path}: liveness format {meta.get('format_version')!r} is not one this siamcli reads"
                )
            try:
                card = LivenessCard.from_json(meta)
                graphs = {n.name: tensors.get_tensor(f"{n.name}.onnx").tobytes() for n in card.networks}
            except (KeyError, TypeError, ValueError, SafetensorError) as error:
                raise SiamcliError(f"{path}: damaged siamcli liveness model ({first_line(error)})") from None
            weights = {}
            for network in card.networks if with_weights else []:
                prefix, graph = f"{network.name}.", f"{network.name}.onnx"
                weights[network.name] = {
                    key[len(prefix) :]: tensors.get_tensor(key)
                    for key in keys
                    if key.startswith(prefix) and key != graph
                }
    except OSError as error:
        raise SiamcliError(f"{path}: {error.strerror or error}") from None
    except (SafetensorError, KeyError, TypeError, ValueError, UnicodeDecodeError):
        raise SiamcliError(f"{path}: not a siamcli liveness model") from None
    return LivenessFile(card, graphs, weights)


def liveness_bytes(file: LivenessFile) -> bytes:
    """The file's bytes: graphs, weights and card, ready for an atomic write."""
    from safetensors.numpy import save

    tensors = {f"{name}.onnx": np.frombuffer(graph, np.uint8) for name, graph in file.graphs.items()}
    for name, state in file.weights.items():
        tensors.update({f"{name}.{key}": np.ascontiguousarray(value) for key, value in state.items()})
    return save(tensors, metadata={FORMAT: json.dumps(file.card.to_json())})


class LivenessModel:
    def __init__(self, path: Path, file: LivenessFile) -> None:
        from siamcli.inference import check_graph, onnx_session

        self.path, self.card = path, file.card
        self.sessions = {}
        for network in file.card.networks:
            try:
                check_graph(file.graphs[network.name])
                self.sessions[network.name] = onnx_session(file.graphs[network.name], threads=1)
            except Exception as error:  # check_graph's ValueError, onnxruntime's own exception types
                raise SiamcliError(
                    f"{path}: refused, its {network.name} graph is not one siamcli makes ({error})"
                ) from None

    def score(self, image: Image.Image, box: tuple[float, float, float, float]) -> float:
        """The mean probability, over the networks, that the face in `box` (left, top, right, bottom) is real."""
        real = []
        for network, crop in zip(self.card.networks, network_crops(image, box, self.card.networks)):
            (logits,) = self.sessions[network.name].run(None, {"input": crop[None]})
            real.append(float(_softmax(logits[0])[1]))
        return float(np.mean(real))

    def judge(
        self, image: Image.Image, box: tuple[float, float, float, float], threshold: float | None = None
    ) -> Liveness:
        limit = self.card.threshold if threshold is None else threshold
        score = self.score(image, box)
        return Liveness(score, score >= limit, limit)


def frame_crops(path: Path, networks: list[Network]) -> tuple[list[np.ndarray], Any]:
    """The crops each network sees of the frame's largest face (uint8), and the face; NothingToEmbed
    when there is none."""
    from siamcli.modalities.image.decode import open_image
    from siamcli.modalities.image.faces import find_face

    image = open_image(path, "rgb")
    face = find_face(path, image)
    return [np.round(crop).astype(np.uint8) for crop in network_crops(image, face.box, networks)], face


def network_crops(
    image: Image.Image, box: tuple[float, float, float, float], networks: list[Network]
) -> list[np.ndarray]:
    """What each network sees of the face in `box`: its crop, in BGR as the networks were trained."""
    pixels = np.asarray(image.convert("RGB"))[:, :, ::-1]
    return [face_crop(pixels, box, network.scale, network.side) for network in networks]


def acer_threshold(scores: np.ndarray, live: np.ndarray) -> tuple[float, float, float]:
    """The threshold of least ACER (the mean of APCER, attacks let through, and BPCER, real faces
    refused) on these scores, with its APCER and BPCER. Of equally good thresholds, the middle one,
    in log-odds: a gap between the classes is split down its middle, not at one of its edges."""
    odds = np.log(np.clip(scores, 1e-7, 1 - 1e-7) / np.clip(1 - scores, 1e-7, 1 - 1e-7))
    ordered = np.unique(odds)
    cuts = np.concatenate([[ordered[0] - 1.0], (ordered[1:] + ordered[:-1]) / 2, [ordered[-1] + 1.0]])
    apcer = np.array([(odds[~live] >= cut).mean() for cut in cuts])
    bpcer = np.array([(odds[live] < cut).mean() for cut in cuts])
    acer = (apcer + bpcer) / 2
    best = np.flatnonzero(acer <= acer.min() + 1e-12)
    runs = np.split(best, np.flatnonzero(np.diff(best) > 1) + 1)
    widest = max(runs, key=lambda run: cuts[run[-1]] - cuts[run[0]])
    cut = (cuts[widest[0]] + cuts[widest[-1]]) / 2
    chosen = float(1 / (1 + np.exp(-cut)))
    return chosen, float((scores[~live] >= chosen).mean()), float((scores[live] < chosen).mean())


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max())
    return exp / exp.sum()


def face_crop(pixels: np.ndarray, box: tuple[float, float, float, float], scale: float, side: int) -> np.ndarray:
    """The (3, side, side) float32 crop of the box grown `scale` times about its centre; near an edge
    the crop is shifted into the photo and, if the photo is too small, the growth is cut to fit, so
    that the crop is always photo (never padding): the edges of a print are what it looks for."""
    height, width = pixels.shape[:2]
    left, top, right, bottom = box
    box_width, box_height = max(right - left, 1.0), max(bottom - top, 1.0)
    scale = min(scale, (height - 1) / box_height, (width - 1) / box_width)
    centre_x, centre_y = left + box_width / 2, top + box_height / 2
    half_width, half_height = box_width * scale / 2, box_height * scale / 2
    x1 = min(max(centre_x - half_width, 0.0), width - 1 - 2 * half_width)
    y1 = min(max(centre_y - half_height, 0.0), height - 1 - 2 * half_height)
    x1, y1 = max(x1, 0.0), max(y1, 0.0)
    x2, y2 = min(x1 + 2 * half_width, width - 1), min(y1 + 2 * half_height, height - 1)
    region = pixels[int(y1) : int(y2) + 1, int(x1) : int(x2) + 1]
    return resize_bilinear(region, side).transpose(2, 0, 1).copy()


def resize_bilinear(pixels: np.ndarray, side: int) -> np.ndarray:
    """(H, W, C) to (side, side, C) float32 by bilinear interpolation between the two nearest pixels,
    without smoothing first: the resampling the networks were trained on (OpenCV's INTER_LINEAR),
    which Pillow's filters, averaging over the whole footprint, do not reproduce."""
    height, width = pixels.shape[:2]

    def taps(length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        at = np.clip((np.arange(side) + 0.5) * length / side - 0.5, 0, length - 1)
        low = np.floor(at).astype(np.int64)
        return low, np.minimum(low + 1, length - 1), (at - low).astype(np.float32)

    y0, y1, fy = taps(height)
    x0, x1, fx = taps(width)
    image = pixels.astype(np.float32)
    rows = image[y0] * (1 - fy)[:, None, None] + image[y1] * fy[:, None, None]
    return rows[:, x0] * (1 - fx)[None, :, None] + rows[:, x1] * fx[None, :, None]


@cache
def _loaded(path: Path) -> LivenessModel:
    return LivenessModel(path, read_liveness_file(path))


def liveness_model(path: Path | str | None = None) -> LivenessModel:
    """A liveness model file, or (None) the shipped one; loaded once per process."""
    if path is None and not SHIPPED.is_file():
        raise SiamcliError(
            f"{SHIPPED}: the shipped liveness model is missing from this installation; reinstall siamcli"
        )
    return _loaded(Path(path) if path is not None else SHIPPED)

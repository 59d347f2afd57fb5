"""Convert the face detector and the face encoder that siamcli ships, from the packages that carry them.

    pip install --no-deps facenet-pytorch==2.6.0 face_recognition_models==0.3.0 dlib-bin face_recognition
    python scripts/convert_face_models.py [--data ../shared/data]

- **Detector** (siamcli/models/mtcnn.detector): MTCNN's P-, R- and O-Net from the PyPI package
  `facenet-pytorch` 2.6.0 (`facenet_pytorch/data/{pnet,rnet,onet}.pt`, MIT, Tim Esler), read once
  with `torch.load(weights_only=True)` and exported to ONNX graphs.
- **Encoder** (siamcli/models/faces.model): dlib's face recognition ResNet from the PyPI package
  `face_recognition_models` 0.3.0 (`dlib_face_recognition_resnet_model_v1.dat`, Davis King, public
  domain; the package: CC0), parsed here from dlib's own serialisation (tensors of little-endian
  float32), each affine normalisation folded into the convolution before it, and rebuilt as
  siamcli's `dlib-resnet` encoder. Its operating points (1:1 at FAR 0.1%, 1:N at FPIR 1%) are
  calibrated by scripts/calibrate_shipped.py on every person of celeba_subset, through detection,
  never on ORL, which stays a clean test.
- **Chip template** (siamcli/modalities/image/align.py's FACE_TEMPLATE): where MTCNN's five landmarks
  fall, on average, in the chips dlib's own alignment cuts for this encoder (printed, for review).

`tests/test_pretrained_faces.py` checks the results against dlib's and facenet-pytorch's own output.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from calibrate_shipped import calibrate_shipped  # scripts/, beside this one
from torch import nn

import siamcli
from siamcli.modelcard import CalibratedOn, ModelCard, PretrainedRecord, ThresholdRecord, now
from siamcli.modelfile import write_model

MTCNN_PACKAGE, MTCNN_VERSION = "facenet-pytorch", "2.6.0"
DLIB_PACKAGE, DLIB_VERSION = "face_recognition_models", "0.3.0"
RESNET_FILE = "face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat"
MODELS = Path(siamcli.__file__).parent / "models"


def package_file(module: str, relative: str, install: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.submodule_search_locations is None:
        raise SystemExit(f"install the reference first: pip install --no-deps {install}")
    return Path(next(iter(spec.submodule_search_locations))).parent / relative


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# MTCNN's networks, named as facenet-pytorch names their weights.
class PNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 10, 3), nn.PReLU(10)
        self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(10, 16, 3), nn.PReLU(16)
        self.conv3, self.prelu3 = nn.Conv2d(16, 32, 3), nn.PReLU(32)
        self.conv4_1, self.conv4_2 = nn.Conv2d(32, 2, 1), nn.Conv2d(32, 4, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.prelu3(self.conv3(self.prelu2(self.conv2(self.pool1(self.prelu1(self.conv1(x)))))))
        return self.conv4_2(x), torch.softmax(self.conv4_1(x), dim=1)


class RNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 28, 3), nn.PReLU(28)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(28, 48, 3), nn.PReLU(48)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(48, 64, 2), nn.PReLU(64)
        self.dense4, self.prelu4 = nn.Linear(576, 128), nn.PReLU(128)
        self.dense5_1, self.dense5_2 = nn.Linear(128, 2), nn.Linear(128, 4)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.pool2(self.prelu2(self.conv2(self.pool1(self.prelu1(self.conv1(x))))))
        x = self.prelu3(self.conv3(x)).permute(0, 3, 2, 1).flatten(1)  # Caffe's order: the weights expect it
        x = self.prelu4(self.dense4(x))
        return self.dense5_2(x), torch.softmax(self.dense5_1(x), dim=1)


class ONet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 32, 3), nn.PReLU(32)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(32, 64, 3), nn.PReLU(64)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(64, 64, 3), nn.PReLU(64)
        self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv4, self.prelu4 = nn.Conv2d(64, 128, 2), nn.PReLU(128)
        self.dense5, self.prelu5 = nn.Linear(1152, 256), nn.PReLU(256)
        self.dense6_1, self.dense6_2, self.dense6_3 = nn.Linear(256, 2), nn.Linear(256, 4), nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.pool2(self.prelu2(self.conv2(self.pool1(self.prelu1(self.conv1(x))))))
        x = self.prelu4(self.conv4(self.pool3(self.prelu3(self.conv3(x)))))
        x = self.prelu5(self.dense5(x.permute(0, 3, 2, 1).flatten(1)))
        return self.dense6_2(x), self.dense6_3(x), torch.softmax(self.dense6_1(x), dim=1)


MTCNN = {  # network, input size (None: any), outputs
    "pnet": (PNet, None, ["offsets", "probabilities"]),
    "rnet": (RNet, 24, ["offsets", "probabilities"]),
    "onet": (ONet, 48, ["offsets", "points", "probabilities"]),
}


def mtcnn_graphs(folder: Path) -> dict[str, bytes]:
    import io

    graphs = {}
    for name, (network, size, outputs) in MTCNN.items():
        net = network()
        net.load_state_dict(torch.load(folder / f"{name}.pt", map_location="cpu", weights_only=True))
        side = size or 12
        axes = {0: "batch"} if size else {0: "batch", 2: "height", 3: "width"}
        buffer = io.BytesIO()
        torch.onnx.export(
            net.eval(),
            (torch.zeros(1, 3, side, side),),
            buffer,
            input_names=["input"],
            output_names=outputs,
            dynamic_axes={"input": axes, **{output: {0: "batch"} for output in outputs}},
            opset_version=17,
            dynamo=False,
        )
        graphs[name] = buffer.getvalue()
    return graphs


def write_detector(folder: Path, output: Path) -> None:
    from safetensors.numpy import save

    graphs = mtcnn_graphs(folder)
    provenance = {
        "package": f"{MTCNN_PACKAGE} {MTCNN_VERSION} (PyPI)",
        "files": {f"facenet_pytorch/data/{name}.pt": sha256(folder / f"{name}.pt") for name in MTCNN},
        "licence": "MIT",
        "converter": "scripts/convert_face_models.py",
    }
    tensors = {name: np.frombuffer(graph, np.uint8) for name, graph in graphs.items()}
    output.write_bytes(save(tensors, metadata={"siamcli-detector": json.dumps(provenance)}))


# dlib's serialisation of its face recognition network: each layer's name (length-prefixed), then its
# parameters as a tensor: a version, four dimensions, then little-endian float32 values.
DLIB_TAGS = (b"\x01\x05con_4", b"\x01\x07affine_", b"\x01\x04fc_2")


def read_dlib_resnet(path: Path) -> list[tuple[str, list[np.ndarray]]]:
    """The network's layers in order from the input: ("con", [weights, biases]), ("affine", [gamma,
    beta]) and ("fc", [matrix of inputs x outputs])."""
    data = path.read_bytes()

    def integer(position: int) -> tuple[int, int]:
        control = data[position]
        size = control & 0x0F
        value = int.from_bytes(data[position + 1 : position + 1 + size], "little")
        return (-value if control & 0x80 else value), position + 1 + size

    def integers(position: int, count: int) -> tuple[list[int], int]:
        values = []
        for _ in range(count):
            value, position = integer(position)
            values.append(value)
        return values, position

    def tensor(position: int) -> tuple[np.ndarray, int]:
        (version, *dims), position = integers(position, 5)
        if version != 2:
            raise SystemExit(f"{path}: tensor format {version}, expected 2")
        count = int(np.prod(dims))
        return np.frombuffer(data, "<f4", count, position).astype(np.float32), position + 4 * count

    layers, position = [], 0
    while True:
        found = [(data.find(tag, position), tag) for tag in DLIB_TAGS]
        found = [(index, tag) for index, tag in found if index >= 0]
        if not found:
            return layers
        start, tag = min(found)
        position = start + len(tag)
        if tag.endswith(b"fc_2"):
            (outputs, inputs), position = integers(position, 2)
            values, position = tensor(position)
            layers.append(("fc", [values.reshape(inputs, outputs)]))
        elif tag.endswith(b"con_4"):
            values, position = tensor(position)
            (filters, rows, cols, *_), position = integers(position, 7)
            channels = (len(values) - filters) // (filters * rows * cols)
            layers.append(("con", [values[:-filters].reshape(filters, channels, rows, cols), values[-filters:]]))
        else:
            values, position = tensor(position)
            half = len(values) // 2
            layers.append(("affine", [values[:half], values[half:]]))


def dlib_resnet_weights(path: Path) -> dict[str, torch.Tensor]:
    """The `dlib-resnet` encoder's weights: each affine layer folded into the convolution before it."""
    layers = read_dlib_resnet(path)
    convs = [values for kind, values in layers if kind == "con"]
    affines = [values for kind, values in layers if kind == "affine"]
    fcs = [values for kind, values in layers if kind == "fc"]
    if (len(convs), len(affines), len(fcs)) != (29, 29, 1):
        raise SystemExit(f"{path}: {len(convs)} convolutions, {len(affines)} affine layers: not dlib's ResNet")
    names = ["stem"] + [f"blocks.{block}.conv{i}" for block in range(14) for i in (1, 2)]
    state = {}
    for name, (weights, biases), (gamma, beta) in zip(names, convs, affines):
        state[f"{name}.weight"] = torch.from_numpy(weights * gamma[:, None, None, None]).half()
        state[f"{name}.bias"] = torch.from_numpy(biases * gamma + beta).half()
    state["linear.weight"] = torch.from_numpy(np.ascontiguousarray(fcs[0][0].T))
    return state


def converted_encoder(path: Path) -> nn.Module:
    from siamcli.core.encoders import build_encoder
    from siamcli.modalities import import_encoders
    from siamcli.recipes import DLIB_RESNET

    import_encoders()
    encoder = build_encoder(DLIB_RESNET)
    encoder.load_state_dict(dlib_resnet_weights(path), strict=True)
    return encoder.eval()


def write_encoder(resnet: Path, data: Path, output: Path) -> None:
    from siamcli.recipes import DLIB_RESNET, FACE_PREPROCESSING

    card = ModelCard(
        modality="image",
        kind="faces",
        encoder=DLIB_RESNET,
        embedding_dim=DLIB_RESNET.params["embedding_dim"],
        preprocessing=FACE_PREPROCESSING,
        distance="euclidean",
        threshold=ThresholdRecord(0.0, "eer", calibrated_on=CalibratedOn("not calibrated yet")),
        created=now(),
        pretrained=PretrainedRecord(
            package=f"{DLIB_PACKAGE} {DLIB_VERSION} (PyPI)",
            file=RESNET_FILE,
            sha256=sha256(resnet),
            licence="CC0-1.0",
            converter="scripts/convert_face_models.py",
        ),
    )
    with tempfile.TemporaryDirectory(dir=output.parent) as folder:
        converted = Path(folder) / "faces.model"
        write_model(converted, converted_encoder(resnet), card)
        calibrate_shipped(converted, data / "celeba_subset")
        converted.replace(output)


def fit_template(data: Path, limit: int = 600) -> np.ndarray:
    """Where MTCNN's landmarks fall in dlib's 150x150 chips (padding 0.25), averaged over celeba_subset
    photos: dlib's own alignment (its HOG detector and 5-point landmarks) cuts a wide chip (padding 1),
    and MTCNN finds the landmarks in it."""
    import dlib
    from PIL import Image

    from siamcli.modalities.image.detect import face_detector

    models = package_file(DLIB_PACKAGE, "face_recognition_models/models", "face_recognition_models")
    hog = dlib.get_frontal_face_detector()
    shapes = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
    detector = face_detector()
    size, padding, found = 300, 1.0, []
    for path in sorted((data / "celeba_subset").glob("*/*.jpg"))[:limit]:
        image = np.asarray(Image.open(path).convert("RGB"))
        boxes = hog(image, 1)
        if len(boxes) != 1:
            continue
        chip = dlib.get_face_chip(image, shapes(image, boxes[0]), size=size, padding=padding)
        faces = detector.detect(Image.fromarray(chip))
        if faces:
            best = max(faces, key=lambda face: face.area)
            unit = best.landmarks / size * (1 + 2 * padding) - padding  # in dlib's template's own frame
            found.append((unit + 0.25) / 1.5)  # in the chip of padding 0.25, as fractions of its side
    template = np.median(np.stack(found), axis=0)
    print(f"template from {len(found)} faces:\n{np.round(template, 4).tolist()}")
    return template


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("SIAMCLI_DATA", "../shared/data")))
    parser.add_argument("--only", choices=("detector", "template", "encoder"), help="one step only")
    args = parser.parse_args()
    if args.only in (None, "detector"):
        folder = package_file("facenet_pytorch", "facenet_pytorch/data", f"{MTCNN_PACKAGE}=={MTCNN_VERSION}")
        write_detector(folder, MODELS / "mtcnn.detector")
    if args.only in (None, "template"):
        fit_template(args.data)
    if args.only in (None, "encoder"):
        resnet = package_file(DLIB_PACKAGE, RESNET_FILE, f"{DLIB_PACKAGE}=={DLIB_VERSION}")
        write_encoder(resnet, args.data, MODELS / "faces.model")


if __name__ == "__main__":
    main()

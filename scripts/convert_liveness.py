"""Convert the Silent-Face anti-spoofing networks into siamcli's shipped liveness model.

    python scripts/convert_liveness.py [--weights ../shared/weights/minifasnet] [--data ../shared/data]

- **Weights**: `2.7_80x80_MiniFASNetV2.pth` and `4_0_0_80x80_MiniFASNetV1SE.pth` from the public
  repository minivision-ai/Silent-Face-Anti-Spoofing (commit b6d5f04ad78778917853b25c778acef6d5626d15,
  resources/anti_spoof_models/), Apache-2.0, staged with their licence in ../shared/weights/minifasnet.
  They are PyTorch state dicts, read here once with `torch.load(weights_only=True)` (no pickled code
  runs), loaded strictly into siamcli's own `minifasnet` module, exported to ONNX graphs under the
  graph check, and stored with their torch weights in siamcli/models/minifasnet.liveness.
- **Threshold**: the least ACER on every frame of nuaa_liveness (8 subjects, print attacks), the only
  data here; `benchmarks/liveness.py` measures how a threshold set on some subjects holds on others.

`tests/test_liveness.py` checks the graphs against the torch modules, and the strict loading.
"""

from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path

import numpy as np
import torch

from siamcli.data.liveness import scan_liveness
from siamcli.files import write_atomic
from siamcli.inference import export_onnx
from siamcli.liveness_training import crop_frames, networks_of, scores_of
from siamcli.modalities.image.decode import IMAGE_SUFFIXES
from siamcli.modalities.image.liveness import (
    SHIPPED,
    LivenessCard,
    LivenessFile,
    Network,
    acer_threshold,
    liveness_bytes,
)
from siamcli.modalities.image.liveness_net import MiniFASNet, architecture
from siamcli.modelcard import now

REPOSITORY = "minivision-ai/Silent-Face-Anti-Spoofing"
COMMIT = "b6d5f04ad78778917853b25c778acef6d5626d15"
NETWORKS = (
    ("MiniFASNetV2", 2.7, "2.7_80x80_MiniFASNetV2.pth"),
    ("MiniFASNetV1SE", 4.0, "4_0_0_80x80_MiniFASNetV1SE.pth"),
)


def original_state(path: Path) -> dict[str, torch.Tensor]:
    """The checkpoint's tensors, without the `module.` prefix that DataParallel gave their names."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    return {key.removeprefix("module."): value for key, value in state.items()}


def original_networks(folder: Path) -> list[tuple[Network, MiniFASNet]]:
    converted = []
    for name, scale, filename in NETWORKS:
        state = original_state(folder / filename)
        params = architecture(state)
        net = MiniFASNet(**params)
        net.load_state_dict(state, strict=True)
        converted.append((Network(name, scale, params), net.eval()))
    return converted


def converted_file(folder: Path) -> LivenessFile:
    networks = original_networks(folder)
    graphs = {
        n.name: export_onnx(net, np.zeros((1, 3, n.side, n.side), np.float32), {0: "batch"}) for n, net in networks
    }
    weights = {n.name: {k: v.numpy().copy() for k, v in net.state_dict().items()} for n, net in networks}
    source = {
        "repository": f"https://github.com/{REPOSITORY}",
        "commit": COMMIT,
        "files": {
            f"resources/anti_spoof_models/{filename}": hashlib.sha256((folder / filename).read_bytes()).hexdigest()
            for _, _, filename in NETWORKS
        },
        "licence": "Apache-2.0",
        "converter": "scripts/convert_liveness.py",
    }
    card = LivenessCard([n for n, _ in networks], 0.5, {"data": "not calibrated yet"}, source, created=now())
    return LivenessFile(card, graphs, weights)


def calibrated(file: LivenessFile, data: Path) -> LivenessFile:
    from dataclasses import replace

    frames = scan_liveness(data, IMAGE_SUFFIXES)
    crops = crop_frames(frames, file.card.networks)
    scores = scores_of(networks_of(file), crops.crops)
    threshold, apcer, bpcer = acer_threshold(scores, crops.live)
    calibrated_on = {
        "data": data.name,
        "subjects": len({f.subject for f in crops.frames}),
        "frames": len(crops.frames),
        "rule": "least ACER",
        "apcer": round(apcer, 4),
        "bpcer": round(bpcer, 4),
    }
    print(f"threshold {threshold:.4f} on {len(crops.frames)} frames: APCER {apcer:.2%}, BPCER {bpcer:.2%}")
    return replace(file, card=replace(file.card, threshold=threshold, calibrated_on=calibrated_on))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data = Path(os.environ.get("SIAMCLI_DATA", "../shared/data"))
    parser.add_argument("--weights", type=Path, default=data.parent / "weights" / "minifasnet")
    parser.add_argument("--data", type=Path, default=data)
    args = parser.parse_args()
    file = calibrated(converted_file(args.weights), args.data / "nuaa_liveness")
    write_atomic(SHIPPED, liveness_bytes(file))
    print(f"wrote {SHIPPED}")


if __name__ == "__main__":
    main()

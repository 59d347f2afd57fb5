"""Convert Resemblyzer's pretrained GE2E speaker encoder into siamcli's shipped voice model.

    pip install --no-deps resemblyzer==0.1.4
    python scripts/convert_resemblyzer.py [--data ../shared/data] [-o siamcli/models/voices.model]

The weights come from the PyPI package `resemblyzer` 0.1.4 (file `resemblyzer/pretrained.pt`,
Apache-2.0, by Corentin Jemine / Resemble AI): read once here with `torch.load(weights_only=True)`,
so nothing in the file can run, and rebuilt as siamcli's `ge2e-lstm` encoder (three LSTMs of 256
over 40 mel bands, a 256x256 projection). Its operating points (1:1 at FAR 0.1%, 1:N at FPIR 1%)
are calibrated by scripts/calibrate_shipped.py on every speaker of speechocean_train (children and
adults), never on librispeech_10spk, which stays a clean test. `tests/test_pretrained_voices.py`
checks the result against Resemblyzer's own output.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import tempfile
from pathlib import Path

import torch
from calibrate_shipped import calibrate_shipped  # scripts/, beside this one

import siamcli
from siamcli.modalities import import_encoders
from siamcli.modelcard import CalibratedOn, ModelCard, PretrainedRecord, ThresholdRecord, now
from siamcli.modelfile import write_model
from siamcli.recipes import GE2E, recipe_for

PACKAGE, VERSION, WEIGHTS = "resemblyzer", "0.1.4", "resemblyzer/pretrained.pt"


def package_file(relative: str) -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise SystemExit(f"install the reference first: pip install --no-deps {PACKAGE}=={VERSION}")
    return Path(spec.origin).parent.parent / relative


def converted_encoder(weights: Path) -> torch.nn.Module:
    from siamcli.core.encoders import build_encoder

    import_encoders()
    checkpoint = torch.load(weights, map_location="cpu", weights_only=True)
    # Its checkpoint also holds GE2E's training-only similarity scale and bias, and optimizer state.
    state = {
        name: tensor for name, tensor in checkpoint["model_state"].items() if name.startswith(("lstm.", "linear."))
    }
    encoder = build_encoder(GE2E)
    encoder.load_state_dict(state, strict=True)
    return encoder.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("SIAMCLI_DATA", "../shared/data")))
    parser.add_argument("-o", "--output", type=Path, default=Path(siamcli.__file__).parent / "models" / "voices.model")
    args = parser.parse_args()

    weights = package_file(WEIGHTS)
    recipe = recipe_for("voices")
    card = ModelCard(
        modality="audio",
        kind="voices",
        encoder=GE2E,
        embedding_dim=GE2E.params["embedding_dim"],
        preprocessing=recipe.preprocessing,
        distance=recipe.training.distance,
        threshold=ThresholdRecord(0.0, "eer", calibrated_on=CalibratedOn("not calibrated yet")),
        created=now(),
        pretrained=PretrainedRecord(
            package=f"{PACKAGE} {VERSION} (PyPI)",
            file=WEIGHTS,
            sha256=hashlib.sha256(weights.read_bytes()).hexdigest(),
            licence="Apache-2.0",
            converter="scripts/convert_resemblyzer.py",
        ),
    )
    with tempfile.TemporaryDirectory(dir=args.output.parent) as folder:
        converted = Path(folder) / "voices.model"
        write_model(converted, converted_encoder(weights), card)
        calibrate_shipped(converted, args.data / "speechocean_train")
        converted.replace(args.output)


if __name__ == "__main__":
    main()

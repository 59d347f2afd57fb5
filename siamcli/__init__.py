"""siamcli: one-shot enroll/verify with Siamese networks, for faces and sounds.

The Python API, the same use cases as the command line:

    import siamcli

    card = siamcli.train("faces", "people/", "faces.model")        # a ModelCard
    evaluation = siamcli.evaluate(["faces.model"], "other_people/")   # .models[0].metrics.eer
    siamcli.calibrate("faces.model", "my_people/", far=0.01)
    siamcli.enroll("alice", ["alice.pgm"], gallery="gallery.db")
    for verdict in siamcli.verify(["probe.pgm"], claim="alice", gallery="gallery.db"):
        print(verdict.decision, verdict.distance)
    live = siamcli.LivenessSettings()                                # the shipped liveness model
    for verdict in siamcli.verify(["door.jpg"], claim="alice", liveness=live):
        print(verdict.decision, verdict.liveness.score)              # spoof: a printed photo
    siamcli.train_liveness("my_camera/", "my_camera.liveness")     # live/ and spoof/ frames
    model = siamcli.load_model("faces.model")                      # model.embed(paths) -> numpy
    with siamcli.open_gallery("gallery.db") as gallery: ...

Names resolve on first use, so `import siamcli` stays cheap (no torch, no onnxruntime).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "train": ("siamcli.usecases.fit", "fit"),
    "evaluate": ("siamcli.usecases.evaluate", "evaluate"),
    "calibrate": ("siamcli.usecases.calibrate", "calibrate"),
    "enroll": ("siamcli.usecases.enroll", "enroll"),
    "verify": ("siamcli.usecases.verify", "verify"),
    "embed": ("siamcli.usecases.embed", "embed"),
    "train_liveness": ("siamcli.usecases.liveness", "train_liveness"),
    "LivenessSettings": ("siamcli.usecases.liveness", "LivenessSettings"),
    "load_model": ("siamcli.model", "load_model"),
    "open_gallery": ("siamcli.gallery", "open_gallery"),
    "SiamcliError": ("siamcli.errors", "SiamcliError"),
}

__all__ = [*_API, "__version__"]


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'siamcli' has no attribute {name!r}")
    module, attribute = _API[name]
    return getattr(importlib.import_module(module), attribute)


def __dir__() -> list[str]:
    return sorted(__all__)

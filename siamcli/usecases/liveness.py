"""Liveness: judge the faces that verify, embed and enroll find (`--liveness`), and adapt the liveness
model to the user's own camera (`siamcli train liveness DIR -o FILE`)."""

from __future__ import annotations

import random
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from siamcli.errors import SiamcliError, SiamcliWarning
from siamcli.modalities.image.liveness import Liveness, LivenessModel, liveness_model
from siamcli.model import Model

if TYPE_CHECKING:
    from siamcli.liveness_training import EpochReport


@dataclass(frozen=True)
class LivenessSettings:
    """Liveness asked for: the model (None: the shipped one) and the threshold (None: the model's)."""

    model: Path | str | None = None
    threshold: float | None = None


@dataclass
class LivenessCheck:
    """Judges the face a face model found in a file."""

    model: LivenessModel
    threshold: float | None

    def __call__(self, path: Path, found: dict[str, Any] | None) -> Liveness:
        from siamcli.modalities.image.decode import open_image
        from siamcli.modalities.image.faces import find_face

        image = open_image(path, "rgb")
        box = tuple(found["face"]["box"]) if found is not None and "face" in found else find_face(path, image).box
        return self.model.judge(image, box, self.threshold)  # type: ignore[arg-type]


def liveness_check(settings: LivenessSettings | None, face_model: Model) -> LivenessCheck | None:
    """The check that `settings` ask for (None: none), refused for a model that finds no faces."""
    if settings is None:
        return None
    if getattr(face_model.card.preprocessing, "fit", None) != "face-chip":
        raise SiamcliError(
            f"{face_model.path}: --liveness judges faces, and this model does not find faces "
            f"({face_model.card.modality}, {face_model.card.kind}): use a face model"
        )
    if settings.threshold is not None and not 0.0 <= settings.threshold <= 1.0:
        raise SiamcliError(f"--liveness-threshold: {settings.threshold} is not a probability between 0 and 1")
    return LivenessCheck(liveness_model(settings.model), settings.threshold)


@dataclass
class LivenessReport:
    """What `siamcli train liveness` did: the held-out subjects' error rates before and after."""

    output: Path
    frames: int  # with a face, of both classes
    left_out: int  # frames without a face
    trained_subjects: list[str]
    held_out_subjects: list[str]
    by_subject: bool  # False: the folder has no subject subfolders, frames were split at random
    threshold: float
    apcer: float
    bpcer: float
    acer: float
    start_acer: float  # the networks it started from, at their own best threshold on the same frames
    kept_start: bool  # fine-tuning did not lower the held-out error: the start networks are kept
    seconds: float


def train_liveness(
    data_dir: Path | str,
    output: Path | str,
    *,
    start: Path | str | None = None,
    held_out: int | None = None,
    epochs: int = 6,
    lr: float = 1e-3,
    batch_size: int = 32,
    seed: int = 0,
    on_epoch: Callable[[EpochReport], None] = lambda report: None,
) -> LivenessReport:
    """Fine-tune the liveness model `start` (None: the shipped one) on DATA_DIR's `live/` and `spoof/`
    frames and write it to `output`. Whole subjects (subfolders) are held out (`held_out`, default a
    quarter, at least one) to keep epochs and set the threshold; without subfolders, a fifth of the
    frames, with a warning. Nothing is written if anything fails."""
    from siamcli.files import write_atomic
    from siamcli.modalities.image.decode import IMAGE_SUFFIXES
    from siamcli.modalities.image.liveness import SHIPPED, liveness_bytes, read_liveness_file
    from siamcli.modelcard import now

    try:
        from siamcli.liveness_training import crop_frames, fine_tune, held_out_subjects
    except ImportError:
        raise SiamcliError("training needs torch: pip install 'siamcli[train]'") from None
    from siamcli.data.liveness import scan_liveness

    started = time.perf_counter()
    output = Path(output)
    frames = scan_liveness(data_dir, IMAGE_SUFFIXES)
    begin = read_liveness_file(Path(start) if start is not None else SHIPPED, with_weights=True)
    data = crop_frames(frames, begin.card.networks)
    found = {frame.live for frame in data.frames}
    for kind, live in (("live", True), ("spoof", False)):
        if live not in found:
            raise SiamcliError(f"{data_dir}: no face found in any {kind} frame: both classes are needed")
    subjects = sorted({frame.subject for frame in data.frames})
    both = held_out_subjects(data.frames, len(subjects), seed)  # the subjects with frames of both classes
    by_subject = len(both) >= 2
    if not by_subject:
        warnings.warn(
            SiamcliWarning(
                f"{data_dir}: no subject subfolders with both live and spoof frames, so a fifth of the frames "
                "is held out at random: frames of the same people on both sides flatter the held-out figures"
            ),
            stacklevel=2,
        )
        groups = random.Random(seed).choices(range(5), k=len(data.frames))
        data.frames = [replace(frame, subject=f"group-{group}") for frame, group in zip(data.frames, groups)]
        held = ["group-0"]
    else:
        count = held_out if held_out is not None else max(1, round(len(both) / 4))
        if not 1 <= count < len(subjects):
            raise SiamcliError(
                f"--val-identities: {count} held out of {len(subjects)} subjects leaves none to train on"
            )
        held = held_out_subjects(data.frames, count, seed)
    tuned, rates = fine_tune(
        begin, data, held, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, on_epoch=on_epoch
    )
    held_set = set(held)
    trained = sorted({f.subject for f in data.frames} - held_set)
    card = replace(
        tuned.card,
        calibrated_on={
            "data": Path(data_dir).name,
            "subjects": held if by_subject else [],
            "frames": sum(f.subject in held_set for f in data.frames),
            "rule": "least ACER",
            "apcer": round(rates["apcer"], 4),
            "bpcer": round(rates["bpcer"], 4),
        },
        fine_tuned={
            "data": Path(data_dir).name,
            "trained_subjects": trained if by_subject else [],
            "frames": sum(f.subject not in held_set for f in data.frames),
            "epochs": epochs,
            "lr": lr,
            "seed": seed,
            "held_out_acer": round(rates["acer"], 4),
            "start_acer": round(rates["start_acer"], 4),
            "kept_start": bool(rates.get("kept_start")),
        },
        created=now(),
    )
    write_atomic(output, liveness_bytes(replace(tuned, card=card)))
    return LivenessReport(
        output,
        len(data.frames),
        len(data.left_out),
        trained,
        held,
        by_subject,
        card.threshold,
        rates["apcer"],
        rates["bpcer"],
        rates["acer"],
        rates["start_acer"],
        bool(rates.get("kept_start")),
        time.perf_counter() - started,
    )

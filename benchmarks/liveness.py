"""Liveness on nuaa_liveness with whole subjects held out: the shipped networks as converted, and
fine-tuned on the other subjects as `siamcli train liveness` does; and what liveness costs a verify.

    python benchmarks/liveness.py [--data ../shared/data] [--quick]

Leave one subject out, for each of the 8: the original networks get the threshold of least ACER on
the other 7 subjects' frames; the fine-tuned ones are trained on 5 of the other 7, with 2 held out to
keep epochs and set the threshold, exactly as `siamcli train liveness` does. Each held-out subject's
frames are decided at its fold's threshold, and APCER (print attacks let through), BPCER (real faces
refused) and ACER (their mean) are counted over every subject's frames together, and per subject.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from common import arguments  # sibling scripts

from siamcli.data.liveness import scan_liveness
from siamcli.errors import SiamcliWarning
from siamcli.liveness_training import (
    FrameCrops,
    crop_frames,
    fine_tune,
    held_out_subjects,
    networks_of,
    scores_of,
)
from siamcli.modalities.image.decode import IMAGE_SUFFIXES
from siamcli.modalities.image.liveness import SHIPPED, LivenessFile, acer_threshold, read_liveness_file
from siamcli.usecases.liveness import LivenessSettings


def rates(decided_live: np.ndarray, live: np.ndarray) -> tuple[float, float, float]:
    apcer = float(decided_live[~live].mean()) if (~live).any() else float("nan")
    bpcer = float((~decided_live[live]).mean()) if live.any() else float("nan")
    return apcer, bpcer, float(np.nanmean([apcer, bpcer]))


def leave_subjects_out(shipped: LivenessFile, data: FrameCrops, subjects: list[str], epochs: int) -> None:
    subject_of = np.array([frame.subject for frame in data.frames])
    live = data.live
    decided = {"original": np.zeros(len(live), bool), "fine-tuned": np.zeros(len(live), bool)}
    tested = np.isin(subject_of, subjects)
    original = scores_of(networks_of(shipped), data.crops)  # the same in every fold: only its threshold moves
    print("| held out | frames (live/spoof) | original: threshold, ACER | fine-tuned: threshold, ACER | seconds |")
    print("|---|---|---|---|---|")
    for subject in subjects:
        test, rest = subject_of == subject, subject_of != subject
        started = time.perf_counter()
        threshold, _, _ = acer_threshold(original[rest], live[rest])
        decided["original"][test] = original[test] >= threshold
        training = FrameCrops([f for f, r in zip(data.frames, rest) if r], [c[rest] for c in data.crops], [])
        held = held_out_subjects(training.frames, 2, seed=0)
        tuned, _ = fine_tune(shipped, training, held, epochs=epochs, seed=0)
        tuned_scores = scores_of(networks_of(tuned), [crops[test] for crops in data.crops])
        decided["fine-tuned"][test] = tuned_scores >= tuned.card.threshold
        cells = [f"{threshold:.3f}, {rates(decided['original'][test], live[test])[2]:.2%}"]
        cells.append(f"{tuned.card.threshold:.3f}, {rates(decided['fine-tuned'][test], live[test])[2]:.2%}")
        counts = f"{int(live[test].sum())}/{int((~live[test]).sum())}"
        print(f"| {subject} | {counts} | {cells[0]} | {cells[1]} | {time.perf_counter() - started:.0f} |")
    print("\n| networks | APCER | BPCER | ACER |\n|---|---|---|---|")
    for name, decisions in decided.items():
        apcer, bpcer, acer = rates(decisions[tested], live[tested])
        print(f"| {name} | {apcer:.2%} | {bpcer:.2%} | **{acer:.2%}** |")


def cost(frames: list[Path], repeats: int) -> None:
    """What liveness adds to a verify, per face: in one process, `siamcli.verify` of the same frames
    with and without it (the frame decoded again, both networks, their crops); and a cold
    `siamcli verify --claim` beside a cold `siamcli verify --claim --liveness`, whole processes."""
    import siamcli

    warnings.simplefilter("ignore", SiamcliWarning)  # "2 faces found": a poster behind some of them
    with tempfile.TemporaryDirectory() as folder:
        gallery = Path(folder) / "g.db"
        siamcli.enroll("person", frames[:1], gallery=gallery)
        seconds: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(repeats + 1):  # the first round warms both up, and is not counted
            for live in (False, True):
                settings = LivenessSettings() if live else None
                started = time.perf_counter()
                verdicts = list(siamcli.verify(frames, claim="person", gallery=gallery, liveness=settings))
                seconds[live].append(time.perf_counter() - started)
                assert len(verdicts) == len(frames)
        added = [
            (with_ - without) / len(frames) * 1000 for with_, without in zip(seconds[True][1:], seconds[False][1:])
        ]
        alone = statistics.median(seconds[False][1:]) / len(frames) * 1000
        print(f"\nliveness adds {statistics.median(added):.1f} ms a face to verify (median of {repeats} rounds of")
        print(f"{len(frames)} frames of 640x480; verify alone {alone:.0f} ms a face)")
        command = [
            sys.executable,
            "-m",
            "siamcli",
            "verify",
            str(frames[-1]),
            "--claim",
            "person",
            "--gallery",
            str(gallery),
        ]
        for extra in ([], ["--liveness"]):
            times = []
            for _ in range(max(3, repeats)):
                started = time.perf_counter()
                subprocess.run([*command, *extra], capture_output=True)
                times.append(time.perf_counter() - started)
            print(f"cold verify --claim {' '.join(extra)}: {statistics.median(times):.2f} s (median of {len(times)})")


def main() -> None:
    args = arguments(__doc__, "nuaa_liveness").parse_args()
    if not (args.data / "live").is_dir():
        sys.exit(f"{args.data}: nuaa_liveness is not there (pass --data)")
    shipped = read_liveness_file(SHIPPED, with_weights=True)
    frames = scan_liveness(args.data, IMAGE_SUFFIXES)
    if args.quick:
        frames = [f for f in frames if f.subject in {"0001", "0002", "0003", "0004"}][::12]
    started = time.perf_counter()
    data = crop_frames(frames, shipped.card.networks)
    seconds = time.perf_counter() - started
    print(f"{len(data.frames)} frames with a face of {len(frames)} ({seconds:.0f} s to find and crop)\n")
    subjects = sorted({f.subject for f in data.frames})
    leave_subjects_out(shipped, data, subjects[:1] if args.quick else subjects, epochs=1 if args.quick else 6)
    live_frames = [f.path for f in data.frames if f.live]
    cost(live_frames[:3] if args.quick else live_frames[:20], 1 if args.quick else 5)


if __name__ == "__main__":
    main()

"""Voices: the shipped voice model (Resemblyzer's GE2E encoder, converted) on speakers it never heard,
`train voices` fine-tuning on speechocean_train, telephone digits, speed and memory.

    python benchmarks/voices.py [--data ../shared/data] [--seed 0] [--quick]

- librispeech_10spk, all 10 readers, zero-shot: EER, 10-way one-shot; beside it Resemblyzer's own
  pipeline on the same files in the same run, when it is installed (pip install --no-deps resemblyzer).
- What 8 kHz costs: the same readers resampled to 8 kHz (the telephone band), upsampled again by siamcli.
- fsdd_speakers (8 kHz spoken digits, upsampled), zero-shot, and the files refused as too little speech.
- speechocean_train: `train voices` on 80 speakers (every fifth in name order is kept out), scored on
  the other 20, beside the shipped model zero-shot on the same 20. The shipped model's threshold was
  calibrated on all 100, which changes no EER.
- Combining encoders: the shipped model's distances z-normalised and summed with those of the retired
  from-scratch TDNN voice model, on the same 20 speechocean speakers (neither trained on them).
- Speed: embedding (decode, resample, VAD, mel, windows) in x real time; a cold `siamcli verify
  sample.flac --claim bob`, median of 7 fresh processes; the peak memory of embedding an hour of
  48 kHz stereo speech.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile
from common import QUICK_TRAINING, arguments, cold_verify_seconds, link_all, quick_view  # sibling scripts
from eval_scale import measure as peak_of  # seconds and peak memory of one fresh process

import siamcli
from siamcli.core.distances import get_distance
from siamcli.core.thresholds import equal_error_rate
from siamcli.core.trials import Trials
from siamcli.data.dataset import scan_dataset
from siamcli.errors import SiamcliError
from siamcli.modalities.audio.features import resample
from siamcli.model import Model
from siamcli.models import retired_models


def zero_shot(model: str | Path, root: Path, seed: int) -> dict:
    return siamcli.evaluate([model], root, seed=seed).models[0].metrics


def usable(model: Model, paths: list[Path]) -> tuple[list[Path], list[str]]:
    """The files the model can embed, and why it refused the others."""
    kept, refused = [], []
    for chunk in model.embed_each(paths):
        kept += chunk.paths
        refused += [u.problem for u in chunk.unusable]
    return kept, refused


def fusion_eer(root: Path) -> tuple[float, float, float]:
    """EERs of the shipped model, the retired TDNN, and their z-normalised distance sum."""
    paths, labels = scan_dataset(root, {".flac", ".wav"}).samples()
    labels = np.asarray(labels)
    euclidean = get_distance("euclidean")
    upper = np.triu_indices(len(labels), k=1)
    matrices = []
    for model in (siamcli.load_model("default:audio"), siamcli.load_model(retired_models()[0])):
        matrix = np.asarray(euclidean.pairwise(*[model.embed(paths)] * 2), dtype=np.float64)
        matrices.append((matrix - matrix[upper].mean()) / matrix[upper].std())
    rates = [equal_error_rate(Trials.from_matrix(m, labels))[0] for m in [*matrices, sum(matrices)]]
    return rates[0], rates[1], rates[2]


def resemblyzer_eer(paths: list[Path], labels: np.ndarray) -> tuple[float, float]:
    """Resemblyzer's own pipeline on the same files: EER, and x real time."""
    from resemblyzer import VoiceEncoder, preprocess_wav

    encoder = VoiceEncoder(device="cpu", verbose=False)
    encoder.embed_utterance(preprocess_wav(paths[0]))  # librosa compiles its kernels on the first call
    started = time.perf_counter()
    embeddings = np.stack([encoder.embed_utterance(preprocess_wav(path)) for path in paths])
    spent = time.perf_counter() - started
    eer = equal_error_rate(Trials.all_pairs(embeddings, labels, get_distance("euclidean")))[0]
    return eer, duration(paths) / spent


def duration(paths: list[Path]) -> float:
    return sum(soundfile.info(path).duration for path in paths)


def write_long_speech(path: Path, sources: list[Path], seconds: int, rate: int = 48000) -> None:
    """`seconds` of real speech (the readers' utterances over and over), 48 kHz stereo, written a
    file at a time (never whole in memory)."""
    written, total = 0, seconds * rate
    with soundfile.SoundFile(path, "w", rate, 2, "PCM_16") as file:
        while written < total:
            for source in sources:
                signal, source_rate = soundfile.read(source, dtype="float32")
                upsampled = resample(signal, source_rate, rate)[: total - written]
                file.write(np.stack([upsampled, 0.8 * upsampled], axis=1))
                written += upsampled.size
                if written == total:
                    return


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.quick:
            args.data = quick_view(args.data, Path(folder) / "quick")
        measure(args)


def measure(args: argparse.Namespace) -> None:
    libri, fsdd, ocean = (args.data / name for name in ("librispeech_10spk", "fsdd_speakers", "speechocean_train"))
    for folder in (libri, fsdd, ocean):
        if not folder.is_dir():
            sys.exit(f"{folder}: not found (pass --data or set SIAMCLI_DATA)")
    shipped = siamcli.load_model("default:audio")

    report = zero_shot("default:audio", libri, args.seed)
    print(
        f"librispeech_10spk, 10 readers, zero-shot: EER {report.eer:.2%} (target <= 0.5%), "
        f"10-way {report.one_shot['10-way']:.1%} (target >= 99.5%), ROC AUC {report.roc_auc:.4f}"
    )
    paths, labels = scan_dataset(libri, shipped.modality.suffixes).samples()
    shipped.embed(paths[:1])  # onnxruntime allocates its buffers on the first run
    started = time.perf_counter()
    shipped.embed(paths)
    speed = duration(paths) / (time.perf_counter() - started)
    print(
        f"embedding {len(paths)} FLAC files ({duration(paths):.0f} s of audio; decode, VAD, mel, windows, "
        f"encoder): {speed:.0f}x real time (target >= 150x)"
    )
    if importlib.util.find_spec("resemblyzer") is not None and not args.quick:
        eer, their_speed = resemblyzer_eer(paths, np.asarray(labels))
        print(f"  Resemblyzer 0.1.4's own pipeline, same files, same run: EER {eer:.2%}, {their_speed:.0f}x real time")

    with tempfile.TemporaryDirectory() as folder:
        telephone = Path(folder)
        for path in paths:  # the same readers through the telephone band: 8 kHz, upsampled again
            signal, rate = soundfile.read(path, dtype="float32")
            (telephone / path.parent.name).mkdir(exist_ok=True)
            soundfile.write(telephone / path.parent.name / f"{path.stem}.wav", resample(signal, rate, 8000), 8000)
        narrow = zero_shot("default:audio", telephone, args.seed)
    print(
        f"the same readers at 8 kHz (what upsampling telephone audio costs): EER {narrow.eer:.2%}, "
        f"10-way {narrow.one_shot['10-way']:.1%}"
    )

    fsdd_paths = sorted(fsdd.rglob("*.wav"))
    kept, refused = usable(shipped, fsdd_paths)
    with tempfile.TemporaryDirectory() as folder:
        digits = Path(folder) / "fsdd"
        for path in kept:
            (digits / path.parent.name).mkdir(parents=True, exist_ok=True)
            (digits / path.parent.name / path.name).symlink_to(path.resolve())
        report = zero_shot("default:audio", digits, args.seed)
    print(
        f"fsdd_speakers (6 speakers, 8 kHz digits), zero-shot: EER {report.eer:.2%}, "
        f"5-way {report.one_shot['5-way']:.1%}; {len(refused)} of {len(fsdd_paths)} files refused "
        "(too little speech)"
    )

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        speakers = sorted(p for p in ocean.iterdir() if p.is_dir())
        test = link_all(work / "test", speakers[::5])
        train = link_all(work / "train", [s for i, s in enumerate(speakers) if i % 5])
        tuned = work / "tuned.model"
        started = time.perf_counter()
        card = siamcli.train("voices", train, tuned, seed=args.seed, **(QUICK_TRAINING if args.quick else {}))
        spent = time.perf_counter() - started
        assert card.training is not None
        (member,) = card.training.members
        before, after = zero_shot("default:audio", test, args.seed), zero_shot(tuned, test, args.seed)
        print(
            f"speechocean_train, `train voices` on 80 speakers ({spent:.0f} s; best epoch {member.best_epoch} of "
            f"{member.epochs_run}, validation EER {member.start_val_eer:.2%} at the start, {member.val_eer:.2%} kept), "
            f"scored on the other 20: EER {after.eer:.2%} fine-tuned, {before.eer:.2%} shipped zero-shot"
        )
        ours, tdnn, fused = fusion_eer(test)
        print(
            f"combining encoders on the same 20: shipped EER {ours:.2%}, retired TDNN {tdnn:.2%}, "
            f"z-normalised distance sum {fused:.2%}"
        )

        gallery = work / "gallery.db"
        readers = sorted(p for p in libri.iterdir() if p.is_dir())
        probes = sorted(readers[5].glob("*.flac"))
        siamcli.enroll("bob", [probes[0]], gallery=gallery)
        runs = 1 if args.quick else 7
        seconds = cold_verify_seconds(probes[1], "bob", gallery, runs=runs)
        print(f"cold `siamcli verify sample.flac --claim bob`: median {seconds:.2f} s over {runs} (target <= 1.0 s)")

        long = work / "long.wav"
        length = 90 if args.quick else 3600  # past 60 s, read a block at a time, as an hour is
        write_long_speech(long, sorted(libri.rglob("*.flac")), length)
        seconds, peak = peak_of([sys.executable, "-m", "siamcli", "embed", str(long)])
        print(
            f"`siamcli embed` of {length:,} s of 48 kHz stereo speech ({long.stat().st_size / 2**20:.0f} MiB WAV), "
            f"fresh process: {seconds:.0f} s ({length / seconds:.0f}x real time), peak {peak:.0f} MiB "
            "(an hour: target <= 500 MB)"
        )


if __name__ == "__main__":
    try:
        main()
    except SiamcliError as error:
        sys.exit(str(error))

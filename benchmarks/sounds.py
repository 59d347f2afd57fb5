"""Sounds: the from-scratch audio recipe (`train sounds`) on speakers never seen in training and on
cats against dogs, its training time and its feature extraction speed.

    python benchmarks/sounds.py [--data ../shared/data] [--seed 0] [--quick]

Speakers: the sounds recipe (default settings, through the Python API) on fsdd_speakers plus the
first five of librispeech_10spk's speakers in name order, evaluated on the other five: what a
network trained from scratch on eleven voices reaches (benchmarks/voices.py measures the pretrained
voice model). Beside it, a baseline with nothing learned: the log standard deviation of each MFCC
over the clip, compared by cosine. Cats and dogs: examples/cats_and_dogs.sh's split (every third
clip held out), pair ROC AUC.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import QUICK_TRAINING, arguments, link_all, quick_view  # a sibling script

import siamcli
from siamcli.core.distances import get_distance
from siamcli.core.thresholds import equal_error_rate
from siamcli.core.trials import Trials
from siamcli.data.dataset import scan_dataset
from siamcli.modalities.audio import AUDIO, AudioPreprocessing
from siamcli.modalities.audio.features import load_clip, mel_spectrogram

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cats_and_dogs.sh"


def mfcc_log_std_eer(root: Path) -> float:
    """EER of the baseline that learns nothing: log std over time of MFCCs 1-29, cosine distance."""
    paths, labels = scan_dataset(root, AUDIO.suffixes).samples()
    features = AUDIO.decode(paths, labels, AudioPreprocessing()).features
    n = features[0].shape[0]
    k = np.arange(1, 30)[:, None]
    dct = np.cos(np.pi * k * (2 * np.arange(n)[None, :] + 1) / (2 * n))
    stats = np.stack([np.log((dct @ (f - f.mean(1, keepdims=True))).std(1)) for f in features])
    return equal_error_rate(Trials.all_pairs(stats, np.asarray(labels), get_distance("cosine")))[0]


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = quick_view(args.data, work / "quick", files=6) if args.quick else args.data
        fsdd, libri, barks = data / "fsdd_speakers", data / "librispeech_10spk", data / "cats_dogs_audio"
        if not (fsdd.is_dir() and libri.is_dir() and barks.is_dir()):
            sys.exit(f"audio data not found under {data} (pass --data, or set SIAMCLI_DATA)")
        readers = sorted(p for p in libri.iterdir() if p.is_dir())
        train = link_all(work / "train", sorted(p for p in fsdd.iterdir() if p.is_dir()) + readers[:5])
        test = link_all(work / "test", readers[5:])
        model = work / "speakers.model"
        started = time.perf_counter()
        siamcli.train("sounds", train, model, seed=args.seed, **(QUICK_TRAINING if args.quick else {}))
        seconds = time.perf_counter() - started
        report = siamcli.evaluate([model], test).models[0].metrics
        low, high = report.eer_interval
        print(
            f"train sounds on fsdd (6 speakers) + librispeech {[p.name for p in readers[:5]]}: {seconds:.0f} s wall "
            f"(target 300 s)"
        )
        print(
            f"eval on librispeech {[p.name for p in readers[5:]]} (never seen): EER {report.eer:.2%} "
            f"[{low:.1%}, {high:.1%}], ROC AUC {report.roc_auc:.3f}, "
            f"5-way one-shot {report.one_shot.get('5-way', float('nan')):.1%} (target EER <= 10%)"
        )
        print(
            f"baseline, nothing learned (MFCC log-std, cosine) on the same speakers: EER {mfcc_log_std_eer(test):.2%}"
        )

        if args.quick:  # the example trains with its recipe's defaults; tests/test_examples.py runs it
            print("cats vs dogs: left out of a quick run")
        else:
            example = subprocess.run(
                ["bash", str(EXAMPLE), str(barks), str(work / "barks")], capture_output=True, text=True, check=True
            )
            barks_report = json.loads(example.stdout.splitlines()[0])
            print(
                f"cats vs dogs, held-out clips ({barks_report['samples']}): pair ROC AUC "
                f"{barks_report['roc_auc']:.3f} (target >= 0.95), EER {barks_report['eer']:.1%}"
            )

        files = sorted(libri.rglob("*.flac"))
        preprocessing = AudioPreprocessing()
        started = time.perf_counter()
        seconds_of_audio = 0.0
        for path in files:
            import soundfile

            seconds_of_audio += soundfile.info(path).duration
            mel_spectrogram(load_clip(path, preprocessing), preprocessing)
        spent = time.perf_counter() - started
        print(
            f"decode + resample + trim + log-mel of {len(files)} FLAC files ({seconds_of_audio:.0f} s of audio): "
            f"{spent:.2f} s, {seconds_of_audio / spent:.0f}x real time (target >= 50x)"
        )


if __name__ == "__main__":
    main()

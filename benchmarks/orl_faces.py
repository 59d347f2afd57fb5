"""ORL faces: train the small grey CNN from scratch (`train faces --from-scratch`, default settings) on
s1-s30, evaluate on s31-s40 (ten people
never seen), and print the figures beside two classical baselines. Runs in-process through the
Python API (siamcli.train, siamcli.evaluate), as `siamcli train` and `siamcli eval` would.

    python benchmarks/orl_faces.py [--data ../shared/data/orl_faces] [--seed 0] [--quick]

The data folder defaults to $SIAMCLI_DATA/orl_faces, else ../shared/data/orl_faces.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from common import QUICK_TRAINING, arguments, orl_split, percent, quick_view  # a sibling script

import siamcli
from siamcli.core.distances import get_distance
from siamcli.core.metrics import one_shot_accuracy
from siamcli.core.thresholds import equal_error_rate
from siamcli.core.trials import Trials
from siamcli.data.dataset import scan_dataset
from siamcli.modalities.image import IMAGE, ImagePreprocessing
from siamcli.modalities.image.decode import standardize


def pixels(root: Path, size: tuple[int, int] = (112, 92)) -> tuple[np.ndarray, np.ndarray]:
    paths, labels = scan_dataset(root, IMAGE.suffixes).samples()
    decoded = IMAGE.decode(paths, labels, ImagePreprocessing(size=size))
    return standardize(decoded.images).reshape(len(decoded), -1), decoded.labels


def fisherfaces(train_x: np.ndarray, train_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PCA to N - C dimensions, then LDA to C - 1 (Belhumeur et al., 1997)."""
    mean = train_x.mean(0)
    classes = np.unique(train_y)
    _, _, vt = np.linalg.svd(train_x - mean, full_matrices=False)
    pca = vt[: len(train_x) - len(classes)].T
    z = (train_x - mean) @ pca
    overall = z.mean(0)
    within = sum(np.cov(z[train_y == c].T, bias=True) * np.sum(train_y == c) for c in classes)
    between = sum(
        np.sum(train_y == c) * np.outer(z[train_y == c].mean(0) - overall, z[train_y == c].mean(0) - overall)
        for c in classes
    )
    values, vectors = np.linalg.eig(np.linalg.solve(within, between))
    order = np.argsort(-values.real)[: len(classes) - 1]
    return mean, pca @ vectors[:, order].real


def baseline(name: str, embeddings: np.ndarray, labels: np.ndarray, metric: str) -> dict:
    eer, _ = equal_error_rate(Trials.all_pairs(embeddings, labels, get_distance(metric)))
    way10 = one_shot_accuracy(embeddings, labels, 10, 2000, 0, get_distance(metric))
    return {"method": name, "eer": round(eer, 4), "10-way": round(way10, 4)}


def main() -> None:
    parser = arguments(__doc__, "orl_faces")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = quick_view(args.data, Path(tmp) / "quick") if args.quick else args.data
        train, test = orl_split(data, Path(tmp))
        model = Path(tmp) / "faces.model"
        started = time.perf_counter()
        quick = QUICK_TRAINING if args.quick else {}
        siamcli.train("faces", train, model, seed=args.seed, from_scratch=True, **quick)
        train_seconds = time.perf_counter() - started
        report = siamcli.evaluate([model], test).models[0].metrics
        train_x, train_y = pixels(train)
        test_x, test_y = pixels(test)
        mean, projection = fisherfaces(train_x, train_y)
        baselines = [
            baseline("raw pixels (112x92, standardised)", test_x, test_y, "euclidean"),
            baseline("Fisherfaces fitted on s1-s30", (test_x - mean) @ projection, test_y, "cosine"),
        ]

    print(f"siamcli train faces (s1-s30, default settings, seed {args.seed}): {train_seconds:.1f} s wall")
    low, high = report.eer_interval
    print(
        f"siamcli eval on s31-s40 (never seen): EER {report.eer:.2%} (95% over identities [{low:.1%}, {high:.1%}]), "
        f"ROC AUC {report.roc_auc:.4f}"
    )
    low, high = report.one_shot_interval["10-way"]
    print(
        f"  10-way one-shot {report.one_shot['10-way']:.2%} ([{low:.1%}, {high:.1%}]), "
        f"5-way {report.one_shot['5-way']:.2%}"
    )
    tar = report.tar_at_far
    print(f"  TAR at FAR 1% {percent(tar['0.01'])}, at FAR 0.1% {percent(tar['0.001'])}")
    at = report.at_threshold
    print(
        f"  at the stored threshold ({report.threshold.operating_point}, {report.threshold.value:.4f}): "
        f"accuracy {at.accuracy:.2%}, FAR {at.far:.2%}, FRR {at.frr:.2%}"
    )
    for row in baselines:
        print(f"baseline {row['method']}: EER {row['eer']:.2%}, 10-way {row['10-way']:.2%}")
    print(
        f"targets: EER <= 7% {'met' if report.eer <= 0.07 else 'MISSED'}, "
        f"10-way >= 91% {'met' if report.one_shot['10-way'] >= 0.91 else 'MISSED'}, "
        f"train <= 120 s {'met' if train_seconds <= 120 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()

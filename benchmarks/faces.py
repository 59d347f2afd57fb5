"""Faces: the shipped face model (MTCNN, then dlib's ResNet, converted) on people it never saw, beside
face_recognition (dlib's own pipeline) on the same photos, `train faces` fine-tuning, and speed.

    python benchmarks/faces.py [--data ../shared/data] [--seed 0] [--skip-reference] [--quick]

- orl_faces, all 40 people through detection, zero-shot: EER and 10-way one-shot; face_recognition on
  the same images (its HOG detector; where it finds no face, the whole image is its face box).
- celeba_subset (uncropped photos): faces found; EER of both pipelines on the photos where each found
  a face, and on the photos where both did. The shipped model's threshold was calibrated on all of
  celeba_subset, which changes no EER.
- `train faces` on ORL s1-s30, scored on s31-s40, beside the shipped model zero-shot on s31-s40; and
  on 120 celeba_subset people (every fifth kept out), scored on the other 30 (whose photos were among
  those the shipped threshold was calibrated on, which changes no EER).
- Speed: `siamcli embed` of 200 colour photos of 250x250 pixels (celeba photos cropped and resized), a
  fresh process, in photos a second, beside face_recognition's load, detect and encode of the same;
  a cold `siamcli verify photo.jpg --claim alice`, median of 7 fresh processes; model file sizes.

face_recognition comes from `pip install --no-deps face_recognition face_recognition_models dlib-bin`
(and setuptools<81, which face_recognition_models imports); without it, its columns are left out.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
import warnings
from math import nan
from pathlib import Path

import numpy as np
from common import QUICK_TRAINING, arguments, cold_verify_seconds, link_all, quick_view, siamcli_cli
from PIL import Image, ImageOps

import siamcli
from siamcli.core.distances import get_distance
from siamcli.core.metrics import one_shot_accuracy
from siamcli.core.thresholds import equal_error_rate
from siamcli.core.trials import Trials
from siamcli.data.dataset import scan_dataset
from siamcli.errors import SiamcliError
from siamcli.models import model_location, retired_models


def scores(embeddings: np.ndarray, labels: np.ndarray, seed: int) -> tuple[float, float]:
    """EER and 10-way one-shot accuracy (2,000 episodes), euclidean distance."""
    euclidean = get_distance("euclidean")
    eer = equal_error_rate(Trials.all_pairs(embeddings, labels, euclidean))[0]
    return eer, one_shot_accuracy(embeddings, labels, 10, 2000, seed, euclidean)


def siamcli_embeddings(paths: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """The shipped model's embeddings of the photos where it found a face, and which those are."""
    model = siamcli.load_model("default:image")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "2 faces found; using the largest", once a photo
        chunks = list(model.embed_each(paths))
    index = {path: i for i, path in enumerate(paths)}
    found = np.asarray([index[path] for chunk in chunks for path in chunk.paths], dtype=np.int64)
    return np.concatenate([chunk.embeddings for chunk in chunks]), found


def reference_embeddings(paths: list[Path], whole_if_none: bool) -> tuple[np.ndarray, np.ndarray]:
    """face_recognition's embeddings (its default HOG detector, the largest face), and which photos had
    one; `whole_if_none`: the whole image is the face box where it finds none."""
    import face_recognition

    rows, found = [], []
    for index, path in enumerate(paths):
        image = face_recognition.load_image_file(path)
        boxes = face_recognition.face_locations(image)
        if not boxes and whole_if_none:
            boxes = [(0, image.shape[1], image.shape[0], 0)]
        if boxes:
            largest = max(boxes, key=lambda b: (b[2] - b[0]) * (b[1] - b[3]))
            rows.append(face_recognition.face_encodings(image, [largest])[0])
            found.append(index)
    return np.asarray(rows), np.asarray(found)


def fine_tune(what: str, scored_on: str, train: Path, test: Path, tuned: Path, seed: int, quick: bool) -> None:
    """`train faces` on one folder of people, scored on another beside the shipped model zero-shot."""
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        card = siamcli.train("faces", train, tuned, seed=seed, **(QUICK_TRAINING if quick else {}))
        before = siamcli.evaluate(["default:image"], test, seed=seed).models[0].metrics
        after = siamcli.evaluate([tuned], test, seed=seed).models[0].metrics
    spent = time.perf_counter() - started
    assert card.training is not None
    (member,) = card.training.members
    print(
        f"{what} ({spent:.0f} s; best epoch {member.best_epoch} of {member.epochs_run}, validation EER "
        f"{member.start_val_eer:.2%} at the start, {member.val_eer:.2%} kept), scored on {scored_on}: EER "
        f"{after.eer:.2%}, 10-way {after.one_shot.get('10-way', nan):.2%}; shipped zero-shot: EER "
        f"{before.eer:.2%}, 10-way {before.one_shot.get('10-way', nan):.2%} (target: no worse)"
    )


def photos_250(sources: list[Path], folder: Path) -> list[Path]:
    """Colour photos of 250x250 pixels (as LFW's): each source shrunk to fit, on a grey background."""
    folder.mkdir()
    written = []
    for index, source in enumerate(sources):
        with Image.open(source) as image:
            square = ImageOps.pad(image.convert("RGB"), (250, 250), color=(128, 128, 128))
            written.append(folder / f"{index:04d}.jpg")
            square.save(written[-1], quality=90)
    return written


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-reference", action="store_true", help="leave face_recognition out")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.quick:
            args.data, args.skip_reference = quick_view(args.data, Path(folder) / "quick"), True
        measure(args)


def measure(args: argparse.Namespace) -> None:
    orl, celeba = args.data / "orl_faces", args.data / "celeba_subset"
    for folder in (orl, celeba):
        if not folder.is_dir():
            sys.exit(f"{folder}: not found (pass --data or set SIAMCLI_DATA)")
    reference = not args.skip_reference and importlib.util.find_spec("face_recognition") is not None

    paths, labels = scan_dataset(orl, {".pgm"}).samples()
    labels = np.asarray(labels)
    embeddings, kept = siamcli_embeddings(paths)
    eer, way10 = scores(embeddings, labels[kept], args.seed)
    print(
        f"orl_faces, 40 people, zero-shot through detection: faces found in {len(kept)}/{len(paths)}, "
        f"EER {eer:.2%} (target <= 0.8%), 10-way {way10:.2%} (target >= 99.5%)"
    )
    if reference:
        theirs, found = reference_embeddings(paths, whole_if_none=True)
        eer, way10 = scores(theirs, labels[found], args.seed)
        print(f"  face_recognition, same images: EER {eer:.2%}, 10-way {way10:.2%}")

    paths, labels = scan_dataset(celeba, {".jpg"}).samples()
    labels = np.asarray(labels)
    started = time.perf_counter()
    embeddings, kept = siamcli_embeddings(paths)
    spent = time.perf_counter() - started
    eer, way10 = scores(embeddings, labels[kept], args.seed)
    print(
        f"celeba_subset, 150 people x 12 uncropped photos: faces found in {len(kept)}/{len(paths)} "
        f"({len(kept) / len(paths):.1%}, target >= 99%); EER {eer:.2%}, 10-way {way10:.2%} "
        f"({len(paths) / spent:.0f} photos/s in process, up to 400 px a side)"
    )
    if reference:
        started = time.perf_counter()
        theirs, found = reference_embeddings(paths, whole_if_none=False)
        spent = time.perf_counter() - started
        their_eer, their_way10 = scores(theirs, labels[found], args.seed)
        both = np.intersect1d(kept, found)
        ours_both = embeddings[np.searchsorted(kept, both)]
        theirs_both = theirs[np.searchsorted(found, both)]
        print(
            f"  face_recognition, same photos: faces found in {len(found)}/{len(paths)}, EER {their_eer:.2%}, "
            f"10-way {their_way10:.2%} ({len(paths) / spent:.1f} photos/s)"
        )
        ours_eer, their_eer = scores(ours_both, labels[both], 0)[0], scores(theirs_both, labels[both], 0)[0]
        print(
            f"  on the {len(both)} photos where both found a face: EER siamcli {ours_eer:.2%}, "
            f"face_recognition {their_eer:.2%}"
        )

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        people = sorted(p for p in orl.iterdir() if p.is_dir())
        train = link_all(work / "train", [p for p in people if int(p.name[1:]) <= 30])
        test = link_all(work / "test", [p for p in people if int(p.name[1:]) > 30])
        fine_tune("ORL, `train faces` on s1-s30", "s31-s40", train, test, work / "orl.model", args.seed, args.quick)
        people = sorted(p for p in celeba.iterdir() if p.is_dir())
        train = link_all(work / "celeba-train", [p for i, p in enumerate(people) if i % 5])
        test = link_all(work / "celeba-test", people[::5])
        tuned = work / "c.model"
        fine_tune("celeba_subset, `train faces` on 120", "the other 30", train, test, tuned, args.seed, args.quick)

        photos = sorted(celeba.rglob("*.jpg"))
        photos = photos_250(photos[:: 1 if args.quick else 8][:210], work / "photos")
        photos = [photos[i] for i in siamcli_embeddings(photos)[1]][:200]  # those with a face MTCNN finds
        siamcli_cli("embed", str(photos[0]))
        started = time.perf_counter()
        siamcli_cli("embed", *map(str, photos))
        rate = len(photos) / (time.perf_counter() - started)
        print(
            f"`siamcli embed` of {len(photos)} colour photos of 250x250, fresh process: {rate:.1f} photos/s "
            "(target >= 25)"
        )
        if reference:
            import face_recognition

            started = time.perf_counter()
            for photo in photos:
                image = face_recognition.load_image_file(photo)
                face_recognition.face_encodings(image, face_recognition.face_locations(image))
            print(
                f"  face_recognition, same photos, in process: "
                f"{len(photos) / (time.perf_counter() - started):.1f} photos/s"
            )

        gallery = work / "gallery.db"
        siamcli.enroll("alice", [photos[0]], gallery=gallery)
        runs = 1 if args.quick else 7
        seconds = cold_verify_seconds(photos[1], "alice", gallery, runs=runs)
        print(f"cold `siamcli verify photo.jpg --claim alice`: median {seconds:.2f} s over {runs} (target <= 1.2 s)")

    sizes = {path.name: path.stat().st_size / 1e6 for path in [model_location("default:image"), *retired_models()]}
    detector = Path(siamcli.__file__).parent / "models" / "mtcnn.detector"
    sizes[detector.name] = detector.stat().st_size / 1e6
    print("model files: " + ", ".join(f"{name} {mb:.1f} MB" for name, mb in sizes.items()) + " (target <= 30 MB each)")


if __name__ == "__main__":
    try:
        main()
    except SiamcliError as error:
        sys.exit(str(error))

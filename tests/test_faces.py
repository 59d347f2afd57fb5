"""Faces: detection, alignment, the pretrained encoder as the shipped face model, `train faces`
fine-tuning that never ends worse than its start, `--from-scratch`, and galleries of the retired
face model still working."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import siamcli as siamcli_api
from siamcli.gallery import Gallery, NewSample
from siamcli.modalities.image.align import FACE_TEMPLATE, face_chip, similarity
from siamcli.modalities.image.decode import normalise
from siamcli.model import load_model
from siamcli.modelfile import load_torch_encoder, read_card
from siamcli.models import retired_models, shipped_model
from siamcli.usecases.choice import model_ref
from tests.conftest import shared_dataset, write_drawn_dataset, write_face_dataset
from tests.helpers import assert_clean_error, json_lines, siamcli


def rotation(degrees: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    angle = np.radians(degrees)
    return np.array(
        [
            [scale * np.cos(angle), -scale * np.sin(angle), shift[0]],
            [scale * np.sin(angle), scale * np.cos(angle), shift[1]],
        ]
    )


def test_similarity_recovers_a_rotation_scale_and_shift() -> None:
    source = np.random.default_rng(0).uniform(0, 100, size=(5, 2))
    matrix = rotation(23.0, 1.7, (12.0, -40.0))
    target = source @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(similarity(source, target), matrix, atol=1e-9)


def test_alignment_puts_the_landmarks_where_the_template_says() -> None:
    # Five dots where a tilted face's landmarks would be, in a 400x300 photo: in the 150x150 chip,
    # each dot's centre lies on the template's point.
    matrix = rotation(-17.0, 0.8, (90.0, 60.0))
    landmarks = (FACE_TEMPLATE * 150) @ matrix[:, :2].T + matrix[:, 2]
    rows, cols = np.mgrid[0:300, 0:400]
    dots = sum(np.exp(-((cols - x) ** 2 + (rows - y) ** 2) / (2 * 2.0**2)) for x, y in landmarks)
    photo = Image.fromarray(np.repeat((40 + 215 * dots)[..., None], 3, axis=2).astype(np.uint8))
    chip = np.asarray(face_chip(photo, landmarks, 150), np.float64)[..., 0]
    for x, y in FACE_TEMPLATE * 150:
        rows, cols = np.mgrid[int(y) - 8 : int(y) + 9, int(x) - 8 : int(x) + 9]
        weights = np.clip(chip[rows, cols] - 40, 0, None)
        centre = np.array([(weights * cols).sum(), (weights * rows).sum()]) / weights.sum()
        assert np.hypot(*(centre - (x, y))) < 0.5


def orl_face(person: int, sample: int) -> Image.Image:
    return Image.open(shared_dataset("orl_faces") / f"s{person}" / f"{sample}.pgm").convert("RGB")


def background(width: int, height: int, seed: int) -> Image.Image:
    """A photo's background: smooth colour gradients and some texture, no face."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width] / max(width, height)
    channels = [rng.uniform(60, 200) + rng.uniform(-60, 60) * xx + rng.uniform(-60, 60) * yy for _ in range(3)]
    pixels = np.stack(channels, axis=2) + rng.normal(0, 6, size=(height, width, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def pasted(face: Image.Image, scale: float, seed: int, size: tuple[int, int] = (640, 480)) -> tuple[Image.Image, tuple]:
    """The face, resized by `scale`, pasted at a random place of a larger background; and where."""
    photo = background(*size, seed)
    face = face.resize((round(face.width * scale), round(face.height * scale)), Image.Resampling.BICUBIC)
    rng = np.random.default_rng(seed)
    left, top = int(rng.integers(0, size[0] - face.width)), int(rng.integers(0, size[1] - face.height))
    photo.paste(face, (left, top))
    return photo, (left, top, left + face.width, top + face.height)


def test_a_face_pasted_into_a_photo_is_found_aligned_and_still_verifies(tmp_path: Path) -> None:
    orl_face(1, 1).save(tmp_path / "enrolled.png")
    photo, (left, top, right, bottom) = pasted(orl_face(1, 2), scale=1.6, seed=3)
    photo.save(tmp_path / "probe.jpg", quality=92)
    stranger, _ = pasted(orl_face(2, 2), scale=0.9, seed=4)
    stranger.save(tmp_path / "stranger.jpg", quality=92)

    lines = json_lines(siamcli("embed", str(tmp_path / "probe.jpg")))
    face = lines[0]["face"]
    box_left, box_top, box_right, box_bottom = face["box"]
    assert left < (box_left + box_right) / 2 < right and top < (box_top + box_bottom) / 2 < bottom
    assert 0.5 * (right - left) < box_right - box_left < 1.2 * (right - left) and face["score"] > 0.9
    assert len(face["landmarks"]) == 5 and all(left <= x <= right and top <= y <= bottom for x, y in face["landmarks"])

    gallery = str(tmp_path / "g.db")
    assert siamcli("enroll", "alice", str(tmp_path / "enrolled.png"), "--gallery", gallery).returncode == 0
    verdicts = json_lines(
        siamcli(
            "verify",
            str(tmp_path / "probe.jpg"),
            str(tmp_path / "stranger.jpg"),
            "--claim",
            "alice",
            "--gallery",
            gallery,
            "--json",
        )
    )
    assert [v["decision"] for v in verdicts] == ["accept", "reject"]


def test_no_face_several_faces_and_tiny_images(tmp_path: Path) -> None:
    background(500, 400, 7).save(tmp_path / "empty.jpg")
    gallery = tmp_path / "g.db"
    result = siamcli("enroll", "alice", str(tmp_path / "empty.jpg"), "--gallery", str(gallery))
    assert_clean_error(result, "empty.jpg: no face found")
    assert not gallery.exists()

    Image.fromarray(np.random.default_rng(0).integers(0, 255, (12, 12, 3), dtype=np.uint8)).save(tmp_path / "tiny.png")
    assert_clean_error(siamcli("embed", str(tmp_path / "tiny.png")), "tiny.png: 12x12 pixels, too small to hold a face")

    photo = background(700, 400, 8)
    photo.paste(orl_face(3, 1).resize((138, 168)), (40, 100))
    photo.paste(orl_face(4, 1).resize((69, 84)), (500, 60))
    photo.save(tmp_path / "two.png")
    result = siamcli("embed", str(tmp_path / "two.png"))
    assert result.returncode == 0
    assert "two.png: 2 faces found; using the largest" in result.stderr
    assert json_lines(result)[0]["face"]["box"][0] < 200  # the larger one, on the left
    # Beside a file that cannot be used, the note is still said once, and the good photo embedded.
    result = siamcli("embed", str(tmp_path / "two.png"), str(tmp_path / "empty.jpg"))
    assert result.returncode == 2 and len(json_lines(result)) == 1
    assert result.stderr.count("2 faces found") == 1 and "empty.jpg: no face found" in result.stderr


def test_the_onnx_graph_embeds_as_the_torch_network_does() -> None:
    chips = np.random.default_rng(0).integers(0, 255, size=(4, 3, 150, 150), dtype=np.uint8)
    inputs = normalise(chips, "dlib-mean")
    with torch.no_grad():
        expected = load_torch_encoder(shipped_model("image"))(torch.from_numpy(inputs)).numpy()
    np.testing.assert_allclose(load_model("default:image").encoder(inputs), expected, atol=1e-5)


def test_the_shipped_face_model_is_the_converted_pretrained_encoder() -> None:
    card = read_card(shipped_model("image"))
    assert card.encoder.name == "dlib-resnet" and card.embedding_dim == 128
    assert card.preprocessing.fit == "face-chip" and card.preprocessing.colour == "rgb"
    assert card.pretrained is not None and card.pretrained.licence == "CC0-1.0"
    assert card.threshold.calibrated_on.data is not None and card.threshold.calibrated_on.data.endswith("celeba_subset")
    assert shipped_model("image").stat().st_size < 30e6


def orl_subset(tmp_path: Path, people: range) -> Path:
    root = tmp_path / "orl"
    root.mkdir()
    for person in people:
        (root / f"s{person}").symlink_to(shared_dataset("orl_faces") / f"s{person}", target_is_directory=True)
    return root


def test_fine_tuning_never_ends_worse_than_the_pretrained_encoder(tmp_path: Path) -> None:
    data = orl_subset(tmp_path, range(1, 9))
    model = tmp_path / "tuned.model"
    card = siamcli_api.train("faces", data, model, epochs=3, lr=1.0, val_identities=3, seed=0)  # a wrecking rate
    (member,) = card.training.members
    assert member.val_eer <= member.start_val_eer
    pretrained, tuned = load_model("default:image"), load_model(model)
    probes = sorted((data / "s1").glob("*.pgm"))[:3] + sorted((data / "s8").glob("*.pgm"))[:3]
    ours, theirs = tuned.embed(probes), pretrained.embed(probes)
    assert ours.shape == (6, 256)
    np.testing.assert_allclose(ours[:, :128] * 2**0.5, theirs, atol=1e-5)  # the pretrained projection, unchanged
    if member.best_epoch == 0:  # kept the start: the adapted projection is still its copy
        np.testing.assert_allclose(ours[:, 128:] * 2**0.5, theirs, atol=1e-5)
    assert card.pretrained is not None and card.pretrained.licence == "CC0-1.0"


def test_from_scratch_trains_the_small_grey_cnn(tmp_path: Path) -> None:
    data = write_face_dataset(tmp_path / "faces", identities=6, samples=4)
    model = tmp_path / "small.model"
    result = siamcli("train", "faces", str(data), "-o", str(model), "--from-scratch", "--epochs", "2", "--members", "1")
    assert result.returncode == 0, result.stderr
    card = read_card(model)
    assert card.encoder.name == "small-vgg" and card.preprocessing.fit == "centre-crop" and card.pretrained is None
    assert_clean_error(
        siamcli("train", "voices", str(data), "-o", str(model), "--from-scratch"),
        "train voices: --from-scratch is for kinds that start from a pretrained encoder",
    )


def test_eval_leaves_out_photos_without_a_face_and_says_so(tmp_path: Path) -> None:
    data = orl_subset(tmp_path, range(1, 4))
    extra = tmp_path / "data"
    extra.mkdir()
    for person in data.iterdir():
        (extra / person.name).mkdir()
        for face in sorted(person.iterdir())[:4]:
            (extra / person.name / face.name).symlink_to(face)
    background(300, 300, 9).save(extra / "s1" / "empty.png")
    result = siamcli("eval", "default:image", str(extra), "--json")
    assert result.returncode == 0, result.stderr
    assert (
        "1 of 13 samples left out, nothing to embed:" in result.stderr and "empty.png: no face found" in result.stderr
    )
    assert json.loads(result.stdout.splitlines()[0])["eer"] == 0.0


def test_a_gallery_of_the_retired_face_model_still_verifies(tmp_path: Path) -> None:
    data = write_face_dataset(tmp_path / "faces", identities=2, samples=3)
    (retired,) = [load_model(path) for path in retired_models() if "faces" in path.name]
    gallery_path = tmp_path / "old.db"
    enrolled = data / "p1" / "1.pgm"
    with Gallery.open(gallery_path, create=True) as gallery:
        gallery.enroll(
            model_ref(retired, "default:image"),
            "alice",
            [NewSample(str(enrolled), "0" * 64, retired.embed([enrolled])[0])],
        )
    result = siamcli("verify", str(data / "p1" / "2.pgm"), "--claim", "alice", "--gallery", str(gallery_path), "--json")
    assert result.returncode in (0, 1), result.stderr
    (verdict,) = json_lines(result)
    expected = np.linalg.norm(retired.embed([data / "p1" / "2.pgm"])[0] - retired.embed([enrolled])[0])
    assert verdict["distance"] == pytest.approx(expected, abs=1e-4)


def test_fine_tuning_trains_the_adapted_projection_only(tmp_path: Path) -> None:
    # Drawn faces all look alike to the pretrained encoder (EER about 4% among 16 of them): room to improve.
    data = write_drawn_dataset(tmp_path / "drawn", identities=12, samples=4)
    model = tmp_path / "tuned.model"
    card = siamcli_api.train("faces", data, model, epochs=4, val_identities=4, seed=0)
    (member,) = card.training.members
    assert member.val_eer <= member.start_val_eer
    tuned, pretrained = load_torch_encoder(model).state_dict(), load_torch_encoder(shipped_model("image")).state_dict()
    assert all(torch.equal(tuned[name], weights) for name, weights in pretrained.items())
    moved = not torch.equal(tuned["adapted.weight"], pretrained["linear.weight"])
    assert moved == (member.best_epoch > 0)

"""Liveness: the converted Silent-Face networks, `--liveness` on verify, embed and enroll, and
`siamcli train liveness`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

from siamcli.liveness_training import networks_of
from siamcli.modalities.image.liveness import (
    SHIPPED,
    LivenessModel,
    acer_threshold,
    face_crop,
    read_liveness_file,
)
from siamcli.modalities.image.liveness_net import MiniFASNet, architecture
from tests.conftest import SHARED_DATA, drawn_face, shared_dataset, write_voice_dataset
from tests.helpers import assert_clean_error, json_lines, siamcli

WEIGHTS = SHARED_DATA.parent / "weights" / "minifasnet"
ORIGINALS = {"MiniFASNetV2": "2.7_80x80_MiniFASNetV2.pth", "MiniFASNetV1SE": "4_0_0_80x80_MiniFASNetV1SE.pth"}


def random_crops(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 3, 80, 80)).astype(np.uint8)


def test_the_shipped_graphs_give_what_their_torch_modules_give() -> None:
    shipped = read_liveness_file(SHIPPED, with_weights=True)
    model = LivenessModel(SHIPPED, shipped)
    crops = random_crops(6)
    for network, net in zip(shipped.card.networks, networks_of(shipped)):
        (logits,) = model.sessions[network.name].run(None, {"input": crops.astype(np.float32)})
        with torch.no_grad():
            expected = net(torch.from_numpy(crops).float()).numpy()
        np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)


def test_the_shipped_weights_are_the_original_checkpoints_loaded_strictly() -> None:
    if not WEIGHTS.is_dir():
        pytest.skip(f"the original Silent-Face checkpoints are not at {WEIGHTS} (../shared/weights/minifasnet)")
    shipped = read_liveness_file(SHIPPED, with_weights=True)
    crops = torch.from_numpy(random_crops(4, seed=1)).float()
    for network, converted in zip(shipped.card.networks, networks_of(shipped)):
        state = torch.load(WEIGHTS / ORIGINALS[network.name], map_location="cpu", weights_only=True)
        state = {key.removeprefix("module."): value for key, value in state.items()}
        assert architecture(state) == network.architecture
        original = MiniFASNet(**architecture(state))
        original.load_state_dict(state, strict=True)  # every key, no extra: the rebuilt module is the network
        with torch.no_grad():
            np.testing.assert_allclose(converted(crops).numpy(), original.eval()(crops).numpy(), rtol=1e-5, atol=1e-5)


def test_the_threshold_of_least_acer_splits_a_gap_down_its_middle() -> None:
    live = np.array([True] * 4 + [False] * 4)
    threshold, apcer, bpcer = acer_threshold(np.array([0.9, 0.8, 0.95, 0.7, 0.01, 0.02, 0.03, 0.2]), live)
    assert (apcer, bpcer) == (0.0, 0.0)
    assert 0.2 < threshold < 0.7
    odds = np.log(np.array([0.2, 0.7, threshold]) / (1 - np.array([0.2, 0.7, threshold])))
    assert odds[2] == pytest.approx((odds[0] + odds[1]) / 2)
    # one attack scored above a real face: the best threshold lets it through or refuses the face
    threshold, apcer, bpcer = acer_threshold(
        np.array([0.9, 0.8, 0.6, 0.1, 0.7, 0.2]), np.array([1, 1, 1, 0, 0, 0], bool)
    )
    assert (apcer + bpcer) / 2 == pytest.approx(1 / 6)


def test_a_crop_near_the_edge_is_shifted_into_the_photo_not_padded() -> None:
    pixels = np.zeros((100, 200, 3), np.uint8)
    pixels[:, :100] = 255
    crop = face_crop(pixels, (0.0, 0.0, 40.0, 40.0), 2.0, 80)  # grown to 80x80 about (20, 20): shifted to (0, 0)
    assert crop.shape == (3, 80, 80)
    assert crop.min() == 255  # all from the white left half, none of it padding
    crop = face_crop(pixels, (110.0, 30.0, 150.0, 70.0), 4.0, 80)  # 160 high does not fit in 100: grown 2.475x
    assert crop[:, :, :10].max() > 0 and crop[:, :, -10:].max() == 0  # it reaches the white half from the right


def printed(face: Image.Image, seed: int) -> Image.Image:
    """A 'print' of the face held up in a room: smaller, paler, blurred, on a white sheet with a margin."""
    rng = np.random.default_rng(seed)
    photo = face.resize((120, 120)).filter(ImageFilter.GaussianBlur(1.2))
    photo = Image.fromarray((np.asarray(photo) * 0.6 + 80).astype(np.uint8))
    sheet = Image.new("RGB", (150, 170), (235, 235, 228))
    sheet.paste(photo, (15, 15))
    room = Image.fromarray(rng.integers(60, 120, (240, 240, 3)).astype(np.uint8)).filter(ImageFilter.BoxBlur(3))
    room.paste(sheet, (45 + int(rng.integers(-10, 10)), 35 + int(rng.integers(-10, 10))))
    return room


def in_room(face: Image.Image, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    room = Image.fromarray(rng.integers(60, 120, (240, 240, 3)).astype(np.uint8)).filter(ImageFilter.BoxBlur(3))
    room.paste(face, (40, 40))
    return room


def write_liveness_folder(root: Path, subjects: int, frames: int) -> Path:
    for subject in range(subjects):
        for kind in ("live", "spoof"):
            folder = root / kind / f"s{subject + 1}"
            folder.mkdir(parents=True)
            for frame in range(frames):
                face = drawn_face(subject, frame)
                image = in_room(face, frame) if kind == "live" else printed(face, frame)
                image.save(folder / f"{frame}.png")
    return root


def test_train_liveness_never_ends_worse_than_its_start_on_held_out_subjects(tmp_path: Path) -> None:
    from siamcli.usecases.liveness import train_liveness

    data = write_liveness_folder(tmp_path / "camera", subjects=4, frames=4)
    report = train_liveness(data, tmp_path / "camera.liveness", held_out=1, epochs=2, seed=0)
    assert report.frames == 32 and len(report.held_out_subjects) == 1 and report.by_subject
    assert report.acer <= report.start_acer
    written = read_liveness_file(tmp_path / "camera.liveness", with_weights=True)
    assert written.card.threshold == pytest.approx(report.threshold)
    assert (
        written.card.fine_tuned is not None and written.card.fine_tuned["trained_subjects"] == report.trained_subjects
    )
    assert written.card.calibrated_on["subjects"] == report.held_out_subjects
    # what it decides on the held-out subject's frames is the ACER it reports
    model = LivenessModel(tmp_path / "camera.liveness", written)
    held = [p for p in sorted(data.rglob("*.png")) if p.parent.name == report.held_out_subjects[0]]
    from siamcli.usecases.liveness import LivenessCheck

    check = LivenessCheck(model, None)
    decided = np.array([check(path, None).live for path in held])
    is_live = np.array([path.parts[-3] == "live" for path in held])
    acer = ((decided[~is_live]).mean() + (~decided[is_live]).mean()) / 2
    assert acer == pytest.approx(report.acer)


def test_train_liveness_from_the_command_line_and_use_it(tmp_path: Path) -> None:
    data = write_liveness_folder(tmp_path / "camera", subjects=3, frames=3)
    output = tmp_path / "camera.liveness"
    result = siamcli("train", "liveness", str(data), "-o", str(output), "--epochs", "1", "--seed", "0")
    assert result.returncode == 0, result.stderr
    assert "held-out (subjects" in result.stderr and "ACER" in result.stderr and result.stdout == ""
    live_frame = data / "live" / "s1" / "0.png"
    result = siamcli("embed", str(live_frame), "--liveness-model", str(output))
    (line,) = json_lines(result)
    threshold = read_liveness_file(output).card.threshold
    assert line["liveness"]["threshold"] == pytest.approx(threshold, abs=1e-4)
    assert line["liveness"]["live"] == (line["liveness"]["score"] >= threshold)


@pytest.mark.parametrize("layout", ["no spoof folder", "spoof folder empty", "not a folder"])
def test_bad_liveness_folders_are_one_line(tmp_path: Path, layout: str) -> None:
    data = tmp_path / "camera"
    (data / "live" / "s1").mkdir(parents=True)
    in_room(drawn_face(0, 0), 0).save(data / "live" / "s1" / "0.png")
    if layout == "spoof folder empty":
        (data / "spoof" / "s1").mkdir(parents=True)
    target = data if layout != "not a folder" else data / "live" / "s1" / "0.png"
    output = tmp_path / "out.liveness"
    result = siamcli("train", "liveness", str(target), "-o", str(output))
    assert_clean_error(result, str(target) if layout != "spoof folder empty" else "spoof")
    assert not output.exists()


def test_liveness_options_are_refused_where_they_mean_nothing(tmp_path: Path) -> None:
    voices = write_voice_dataset(tmp_path / "voices", identities=1, samples=1)
    clip = next(voices.rglob("*.wav"))
    assert_clean_error(siamcli("embed", str(clip), "--liveness"), "does not find faces")
    not_a_model = tmp_path / "fake.liveness"
    not_a_model.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    face = tmp_path / "face.png"
    in_room(drawn_face(0, 0), 0).save(face)
    assert_clean_error(
        siamcli("embed", str(face), "--liveness-model", str(not_a_model)), "not a siamcli liveness model"
    )
    result = siamcli("train", "liveness", str(tmp_path), "-o", str(tmp_path / "x"), "--margin", "0.5")
    assert_clean_error(result, "--margin")


def nuaa_frames(subject: str) -> tuple[Path, Path, Path]:
    data = shared_dataset("nuaa_liveness")
    live = sorted((data / "live" / subject).glob("*.jpg"))
    spoof = sorted((data / "spoof" / subject).glob("*.jpg"))
    return live[0], live[len(live) // 2], spoof[0]


def test_a_printed_photo_of_an_enrolled_person_is_a_spoof_and_the_person_is_accepted(tmp_path: Path) -> None:
    enrolled, live, spoof = nuaa_frames("0004")
    gallery = tmp_path / "g.db"
    assert siamcli("enroll", "p4", str(enrolled), "--gallery", str(gallery), "--liveness").returncode == 0
    result = siamcli(
        "verify", str(live), str(spoof), "--claim", "p4", "--gallery", str(gallery), "--liveness", "--json"
    )
    assert result.returncode == 1, result.stderr
    person, photo = json_lines(result)
    assert person["decision"] == "accept" and person["liveness"]["live"]
    assert photo["distance"] < photo["threshold"]  # the print looks like p4: only liveness stops it
    assert photo["decision"] == "spoof" and not photo["match"] and photo["identity"] == "unknown"
    assert not photo["liveness"]["live"]
    alone = siamcli("verify", str(live), "--claim", "p4", "--gallery", str(gallery), "--liveness")
    assert alone.returncode == 0, alone.stderr
    # enrolling the print is refused, and nothing is enrolled
    refused = siamcli("enroll", "p4-print", str(spoof), "--gallery", str(gallery), "--liveness")
    assert_clean_error(refused, str(spoof), "not live")
    listed = siamcli("gallery", "list", "--gallery", str(gallery), "--json")
    assert [row["identity"] for row in json_lines(listed)] == ["p4"]
    # without --liveness, nothing changes: the print is accepted as p4
    plain = siamcli("verify", str(spoof), "--claim", "p4", "--gallery", str(gallery), "--json")
    (line,) = json_lines(plain)
    assert line["decision"] == "accept" and "liveness" not in line

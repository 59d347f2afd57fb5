"""calibrate (into the model file or a gallery's collection) and eval's report and side-by-side models."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from siamcli.model import load_model
from siamcli.modelfile import read_card
from tests.conftest import write_face_dataset
from tests.helpers import json_lines, siamcli, tiny_model


@pytest.fixture
def people(tmp_path: Path) -> Path:
    return write_face_dataset(tmp_path / "people", identities=8, samples=5)


def test_calibrating_a_model_meets_the_far_target_and_keeps_its_galleries(tmp_path: Path, people: Path) -> None:
    model = tiny_model(tmp_path / "mine.model", seed=1)
    gallery, probe = tmp_path / "g.db", str(people / "p1" / "1.pgm")
    assert siamcli("enroll", "p1", probe, "--model", str(model), "--gallery", str(gallery)).returncode == 0
    fingerprint = load_model(model).fingerprint

    result = siamcli("calibrate", str(model), str(people), "--far", "0.05")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and "stored in" in result.stderr
    threshold = read_card(model).threshold
    assert threshold.operating_point == "far=0.05" and threshold.far <= 0.05
    assert threshold.calibrated_on.identities == 8 and threshold.n_impostor == 700
    assert threshold.calibrated_on.source == "calibration data" and threshold.calibrated_on.data == people.name
    assert load_model(model).fingerprint == fingerprint  # the gallery still accepts the model

    # An evaluation of its own, on the same pairs, finds the same false-accept rate.
    (report,) = json_lines(siamcli("eval", str(model), str(people), "--json"))
    assert (
        report["at_threshold"]["far"] == pytest.approx(threshold.far, abs=1e-6)
        and report["at_threshold"]["far"] <= 0.05
    )
    (verdict,) = json_lines(siamcli("verify", probe, "--claim", "p1", "--gallery", str(gallery)))
    assert verdict["threshold"] == pytest.approx(threshold.value, rel=1e-5)
    assert verdict["threshold_source"] == "model"


def test_a_gallery_calibrated_once_keeps_its_threshold(tmp_path: Path, people: Path) -> None:
    model = tiny_model(tmp_path / "mine.model", seed=1)
    gallery = tmp_path / "g.db"
    before = model.read_bytes()
    siamcli("enroll", "p1", str(people / "p1" / "1.pgm"), "--model", str(model), "--gallery", str(gallery))
    result = siamcli("calibrate", str(model), str(people), "--eer", "--gallery", str(gallery))
    assert result.returncode == 0, result.stderr
    assert model.read_bytes() == before  # into the gallery, not the model file
    siamcli("enroll", "p2", str(people / "p2" / "1.pgm"), "--gallery", str(gallery))
    (verdict,) = json_lines(siamcli("verify", str(people / "p2" / "2.pgm"), "--gallery", str(gallery)))
    assert verdict["threshold_source"] == "gallery" and verdict["threshold"] != pytest.approx(0.8)
    forced = json_lines(
        siamcli("verify", str(people / "p2" / "2.pgm"), "--gallery", str(gallery), "--threshold", "1.999")
    )
    assert forced[0]["threshold_source"] == "option" and forced[0]["decision"] == "identified"


def test_calibration_refuses_what_it_cannot_do(tmp_path: Path, people: Path) -> None:
    model = tiny_model(tmp_path / "mine.model", seed=1)
    before = model.read_bytes()
    for args, message in [
        ((str(model), str(people), "--far", "0.0001"), "700 impostor pairs cannot measure a false-accept rate"),
        ((str(model), str(people), "--far", "0.1", "--eer"), "give --far or --eer, not both"),
        (("default:image", str(people)), "the shipped model is part of siamcli"),
        ((str(model), str(people), "--gallery", str(tmp_path / "none.db")), "no gallery here yet"),
    ]:
        result = siamcli("calibrate", *args)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert model.read_bytes() == before


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources.append(dict(attrs).get("src") or "")


def test_eval_compares_models_and_writes_a_report(tmp_path: Path, people: Path) -> None:
    first, second = tiny_model(tmp_path / "a.model", seed=1), tiny_model(tmp_path / "b.model", seed=2)
    report = tmp_path / "report"
    result = siamcli("eval", str(first), str(second), str(people), "--report", str(report), "--p-target", "0.05")
    assert result.returncode == 0, result.stderr
    lines = json_lines(result)
    assert [line["model"] for line in lines] == [str(first), str(second)]
    assert lines[0]["eer"] != lines[1]["eer"]
    for line in lines:
        low, high = line["eer_interval"]
        assert low <= line["eer"] <= high and line["min_dcf"]["p_target"] == 0.05
        assert line["tar_at_far"]["0.0001"] is None and line["tar_at_far"]["0.01"] is not None
        assert sorted(r["identity"] for r in line["per_identity"]) == [f"p{i}" for i in range(1, 9)]
    for name in ("roc.png", "det.png", "distances.png", "open_set.png"):
        assert (report / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert json.loads((report / "metrics.json").read_text())[1]["model"] == str(second)
    page = (report / "report.html").read_text()
    images = _Images()
    images.feed(page)
    assert len(images.sources) == 4 and all(src.startswith("data:image/png;base64,") for src in images.sources)
    assert str(first) in page and str(second) in page and "Worst-matching identities" in page

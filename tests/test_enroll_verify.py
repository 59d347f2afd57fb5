"""enroll, verify and gallery from the command line, with the shipped face model and data the tests make."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from siamcli.model import load_model
from tests.conftest import write_drawn_dataset
from tests.helpers import json_lines, siamcli, tiny_model


@pytest.fixture
def faces(tmp_path: Path) -> Path:
    return write_drawn_dataset(tmp_path / "faces", identities=4, samples=3)


def run(gallery: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return siamcli(*args, "--gallery", str(gallery), stdin=stdin)


def test_enroll_then_verify_with_the_shipped_model(tmp_path: Path, faces: Path) -> None:
    gallery = tmp_path / "people" / "gallery.db"
    for person in ("p1", "p2", "p3"):
        files = [str(faces / person / f"{i}.png") for i in (1, 2)]
        result = run(gallery, "enroll", person, *files)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "" and f"{person}: 2 samples enrolled" in result.stderr
    again = run(gallery, "enroll", "p1", str(faces / "p1" / "1.png"))
    assert again.returncode == 0 and "0 samples enrolled (1 already enrolled)" in again.stderr
    listed = json_lines(run(gallery, "gallery", "list"))
    assert [(row["identity"], row["samples"], row["model"]) for row in listed] == [
        ("p1", 2, "default:image"),
        ("p2", 2, "default:image"),
        ("p3", 2, "default:image"),
    ]

    accepted = run(gallery, "verify", str(faces / "p2" / "1.png"), "--claim", "p2")
    assert accepted.returncode == 0, accepted.stderr
    (verdict,) = json_lines(accepted)
    assert verdict["decision"] == "accept" and verdict["match"] is True
    # p2 has two samples enrolled: the 1:1 threshold calibrated for the centroid of two
    assert verdict["threshold_source"] == "model" and verdict["operating_point"] == "far=0.001 at 2 samples"
    assert verdict["threshold"] == pytest.approx(load_model("default:image").card.threshold.for_samples(2), rel=1e-5)
    assert verdict["score"] == verdict["distance"] < verdict["threshold"]

    rejected = run(gallery, "verify", str(faces / "p3" / "3.png"), "--claim", "p2", "--threshold", "0.0001")
    assert rejected.returncode == 1
    (verdict,) = json_lines(rejected)
    assert verdict["decision"] == "reject" and verdict["threshold_source"] == "option"

    probes = "\n".join(str(faces / p / "1.png") for p in ("p1", "p2", "p3")) + "\n"
    identified = run(gallery, "verify", "-", "--top-k", "2", stdin=probes)
    assert identified.returncode == 0, identified.stderr
    verdicts = json_lines(identified)
    assert [(v["identity"], v["decision"]) for v in verdicts] == [(p, "identified") for p in ("p1", "p2", "p3")]
    assert all(len(v["candidates"]) == 2 and v["candidates"][0]["identity"] == v["identity"] for v in verdicts)

    # 1:N decides on the open-set score (2*d1 - d2), which falls below 0 for a clear match.
    stranger = run(gallery, "verify", str(faces / "p4" / "1.png"), "--threshold", "-0.5")
    (verdict,) = json_lines(stranger)
    assert stranger.returncode == 1 and verdict["identity"] == "unknown" and verdict["nearest"] in ("p1", "p2", "p3")

    # p1 has two samples: the nearest one is the probe itself; the centroid (the default) is their
    # normalised mean.
    probe = str(faces / "p1" / "1.png")
    (nearest,) = json_lines(run(gallery, "verify", probe, "--claim", "p1", "--score", "nearest"))
    (centroid,) = json_lines(run(gallery, "verify", probe, "--claim", "p1"))
    first, second = (np.array(row["embedding"]) for row in json_lines(run(gallery, "gallery", "export"))[:2])
    mean = (first + second) / np.linalg.norm(first + second)
    assert nearest["distance"] < 1e-3
    assert centroid["distance"] == pytest.approx(np.linalg.norm(first - mean), abs=1e-4)


def test_a_bad_probe_is_reported_and_the_others_still_verified(tmp_path: Path, faces: Path) -> None:
    gallery = tmp_path / "g.db"
    assert run(gallery, "enroll", "p1", str(faces / "p1" / "1.png")).returncode == 0
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    result = run(gallery, "verify", str(faces / "p1" / "1.png"), str(broken), str(faces / "p1" / "2.png"))
    assert result.returncode == 2
    assert [v["path"] for v in json_lines(result)] == [str(faces / "p1" / "1.png"), str(faces / "p1" / "2.png")]
    assert result.stderr.strip().splitlines() == [
        f"siamcli: {broken}: not a readable image (PGM, PNG, JPEG, GIF, BMP or TIFF)"
    ]


def test_gallery_show_remove_and_export(tmp_path: Path, faces: Path) -> None:
    gallery = tmp_path / "g.db"
    run(gallery, "enroll", "p1", str(faces / "p1" / "1.png"), str(faces / "p1" / "2.png"))
    run(gallery, "enroll", "p2", str(faces / "p2" / "1.png"))
    shown = json_lines(run(gallery, "gallery", "show", "p1"))
    assert [Path(row["path"]).name for row in shown] == ["1.png", "2.png"] and len(shown[0]["sha256"]) == 64
    exported = json_lines(run(gallery, "gallery", "export"))
    assert [row["identity"] for row in exported] == ["p1", "p1", "p2"]
    assert all(len(row["embedding"]) == 128 and row["modality"] == "image" for row in exported)
    removed = run(gallery, "gallery", "remove", "p1")
    assert removed.returncode == 0 and "p1: 2 samples removed" in removed.stderr
    assert [row["identity"] for row in json_lines(run(gallery, "gallery", "list"))] == ["p2"]
    for args in (("gallery", "remove", "p1"), ("gallery", "show", "p1"), ("verify", "x.png", "--claim", "p1")):
        before = gallery.read_bytes()
        result = run(gallery, *args)
        assert result.returncode == 2 and result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
        assert gallery.read_bytes() == before


def test_bad_input_is_one_line_exit_2_and_the_gallery_unchanged(tmp_path: Path, faces: Path) -> None:
    probe = str(faces / "p1" / "1.png")
    missing = run(tmp_path / "none.db", "verify", probe)
    assert missing.returncode == 2 and "no gallery here yet" in missing.stderr
    assert not (tmp_path / "none.db").exists()
    failed = run(tmp_path / "new" / "g.db", "enroll", "p1", probe, str(tmp_path / "gone.png"))
    assert failed.returncode == 2 and not (tmp_path / "new").exists()  # no gallery, not even a folder

    gallery = tmp_path / "g.db"
    run(gallery, "enroll", "p1", probe)
    before = gallery.read_bytes()
    for args, message in [
        (("verify", probe, "--claim", "zoe"), "nobody named 'zoe' is enrolled (enrolled: p1)"),
        (("enroll", "p2", probe), "already enrolled as 'p1'"),
        (("enroll", "p2", str(faces / "p2" / "1.png"), str(tmp_path / "gone.png")), "gone.png: no such file"),
        (("enroll", "p2", str(tmp_path / "notes.txt")), "unsupported file type '.txt'"),
        (("enroll", "", probe), "not a usable name"),
        (("verify", probe, "--claim", "p1", "--top-k", "3"), "--top-k lists candidates"),
    ]:
        result = run(gallery, *args)
        assert result.returncode == 2, args
        assert result.stderr.strip().splitlines() == [result.stderr.strip()] and message in result.stderr, args
        assert gallery.read_bytes() == before

    not_a_gallery = tmp_path / "notes.db"
    not_a_gallery.write_text("shopping list\n" * 100)
    result = run(not_a_gallery, "enroll", "p1", probe)
    assert result.returncode == 2 and "not a siamcli gallery" in result.stderr
    assert not_a_gallery.read_text() == "shopping list\n" * 100


def test_a_collection_stays_bound_to_its_model(tmp_path: Path, faces: Path) -> None:
    gallery, probe = tmp_path / "g.db", str(faces / "p1" / "1.png")
    mine = tiny_model(tmp_path / "mine.model", seed=1)
    assert run(gallery, "enroll", "p1", probe, "--model", str(mine)).returncode == 0
    # Without --model, the image collection's own model is used, not the shipped one.
    (verdict,) = json_lines(run(gallery, "verify", probe, "--claim", "p1"))
    assert verdict["decision"] == "accept" and verdict["threshold"] == 0.8
    other = tiny_model(tmp_path / "other.model", seed=2)
    result = run(gallery, "verify", probe, "--model", str(other))
    assert result.returncode == 2 and f"nobody is enrolled with model {other}" in result.stderr
    tiny_model(mine, seed=3)  # the file changes under the gallery
    result = run(gallery, "verify", probe, "--claim", "p1")
    assert result.returncode == 2 and "enrolled with another version of" in result.stderr
    assert run(gallery, "enroll", "p1", probe).returncode == 2  # still ambiguous: no silent second collection


def test_eight_concurrent_enrolments_lose_nothing(tmp_path: Path) -> None:
    faces = write_drawn_dataset(tmp_path / "faces", identities=8, samples=3)
    gallery = tmp_path / "g.db"
    env = {**os.environ, "SIAMCLI_GALLERY": str(gallery)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "siamcli", "enroll", f"p{i}", *map(str, sorted((faces / f"p{i}").iterdir()))],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(1, 9)
    ]
    for process in processes:
        assert process.wait(timeout=120) == 0, process.stderr.read() if process.stderr else ""
    with sqlite3.connect(gallery) as db:
        counts = dict(db.execute("SELECT identity, count(*) FROM samples GROUP BY identity"))
        assert db.execute("SELECT count(*) FROM collections").fetchone() == (1,)
    assert counts == {f"p{i}": 3 for i in range(1, 9)}


def test_kill_9_at_any_moment_of_an_enrolment(tmp_path: Path) -> None:
    faces = write_drawn_dataset(tmp_path / "faces", identities=1, samples=40)
    files = sorted(map(str, (faces / "p1").iterdir()))
    gallery = tmp_path / "g.db"
    command = [sys.executable, "-m", "siamcli", "enroll", "bulk", *files, "--gallery", str(gallery)]
    started = time.monotonic()
    assert subprocess.run(command, capture_output=True).returncode == 0
    whole = time.monotonic() - started
    subprocess.run([sys.executable, "-m", "siamcli", "gallery", "remove", "bulk", "--gallery", str(gallery)])
    outcomes = set()
    for step in range(12):
        process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        time.sleep(whole * (0.5 + step * 0.06))  # from mid-start-up to just past the commit
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        with sqlite3.connect(gallery) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            (count,) = db.execute("SELECT count(*) FROM samples WHERE identity = 'bulk'").fetchone()
        assert count in (0, 40)
        outcomes.add(count)
        if count:
            subprocess.run([sys.executable, "-m", "siamcli", "gallery", "remove", "bulk", "--gallery", str(gallery)])
    assert 0 in outcomes


def test_verify_never_imports_torch(tmp_path: Path, faces: Path) -> None:
    gallery, probe = tmp_path / "g.db", str(faces / "p1" / "1.png")
    assert run(gallery, "enroll", "p1", probe).returncode == 0
    command = [sys.executable, "-X", "importtime", "-m", "siamcli", "verify", probe, "--claim", "p1"]
    result = subprocess.run([*command, "--gallery", str(gallery)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import")}
    assert "onnxruntime" in imported and "torch" not in imported


def test_enroll_folders_enrolls_every_identity_reports_refusals_and_resumes(tmp_path: Path, faces: Path) -> None:
    (faces / "p2" / "bad.png").write_bytes(b"junk")
    (faces / "p3" / "copy.png").write_bytes((faces / "p1" / "1.png").read_bytes())
    gallery = tmp_path / "g.db"
    result = run(gallery, "enroll", "--folders", str(faces))
    assert result.returncode == 2 and result.stdout == ""
    assert "p2/bad.png: not a readable image" in result.stderr
    assert "p3/copy.png: the same content as a sample of 'p1'" in result.stderr
    assert "12 samples enrolled, 0 already enrolled, 2 refused; 4 identities" in result.stderr
    listed = json_lines(run(gallery, "gallery", "list"))
    assert [(row["identity"], row["samples"]) for row in listed] == [("p1", 3), ("p2", 3), ("p3", 3), ("p4", 3)]

    (faces / "p2" / "bad.png").unlink()
    again = run(gallery, "enroll", "--folders", str(faces))  # nothing twice; the copy still refused
    assert again.returncode == 2 and "0 samples enrolled, 12 already enrolled, 1 refused" in again.stderr
    both = run(gallery, "enroll", "alice", "--folders", str(faces))
    assert both.returncode == 2 and "give NAME FILE... or --folders DIR, not both" in both.stderr


def test_an_interrupted_enroll_folders_resumes_with_nothing_twice(tmp_path: Path) -> None:
    from tests.conftest import write_face_dataset

    data = write_face_dataset(tmp_path / "many", identities=50, samples=20)  # 1,000 files: 4 batches
    model, gallery = tiny_model(tmp_path / "tiny.model", seed=0), tmp_path / "g.db"
    command = [sys.executable, "-m", "siamcli", "enroll", "--folders", str(data), "--model", str(model)]
    process = subprocess.Popen([*command, "--gallery", str(gallery)], stderr=subprocess.DEVNULL)
    committed = 0
    while process.poll() is None and committed == 0:  # killed once the first batch is in
        time.sleep(0.02)
        if gallery.exists():
            try:
                with sqlite3.connect(gallery) as db:
                    committed = db.execute("SELECT count(*) FROM samples").fetchone()[0]
            except sqlite3.OperationalError:
                pass
    process.kill()
    process.wait()
    with sqlite3.connect(gallery) as db:
        kept = db.execute("SELECT count(*) FROM samples").fetchone()[0]
    assert kept % 256 == 0 or kept == 1000  # whole batches only
    result = subprocess.run([*command, "--gallery", str(gallery)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"{1000 - kept} samples enrolled, {kept} already enrolled, 0 refused; 50 identities" in result.stderr
    with sqlite3.connect(gallery) as db:
        assert db.execute("SELECT count(*), count(DISTINCT sha256) FROM samples").fetchone() == (1000, 1000)

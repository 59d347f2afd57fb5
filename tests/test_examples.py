"""The scripts in examples/ run as a user would run them: on faces the test draws, and on ORL when present."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA, write_face_dataset
from tests.helpers import run_example, tiny_model


@pytest.fixture
def datasets(tmp_path: Path) -> dict[str, Path]:
    found = {"drawn": write_face_dataset(tmp_path / "faces", identities=12, samples=3)}
    if (SHARED_DATA / "orl_faces").is_dir():
        found["orl"] = SHARED_DATA / "orl_faces"
    return found


def model_for(label: str, tmp_path: Path) -> list[Path]:
    """Drawn blobs hold no face for the shipped model to find: they go through a small model that
    reads any image; ORL goes through the shipped one."""
    return [tiny_model(tmp_path / "tiny.model", seed=0)] if label == "drawn" else []


def test_enroll_and_verify_example(tmp_path: Path, datasets: dict[str, Path]) -> None:
    for label, data in datasets.items():
        lines = run_example("enroll_and_verify.sh", data, tmp_path / f"{label}.db", *model_for(label, tmp_path))
        listed = [json.loads(line) for line in lines if line.startswith('{"identity"')]
        assert len(listed) == 5 and all(row["samples"] == 1 for row in listed)
        decisions = [line for line in lines if re.search(r": (accepted|rejected) as ", line)]
        assert len(decisions) == 2
        identify, centroid = (json.loads(line) for line in lines[-2:])
        assert len(identify["candidates"]) == 3 and identify["decision"] in ("identified", "unknown")
        assert centroid["decision"] in ("accept", "reject") and "candidates" not in centroid
        if label == "orl":
            first = decisions[0].split("/")[-2]
            assert decisions[0].endswith(f"accepted as {first}")


@pytest.mark.skipif(shutil.which("jq") is None, reason="examples/pipelines.sh filters with jq, which is not installed")
def test_pipelines_example(tmp_path: Path, datasets: dict[str, Path]) -> None:
    for label, data in datasets.items():
        lines = run_example("pipelines.sh", data, tmp_path / f"{label}.db", *model_for(label, tmp_path))
        accepted = next(line for line in lines if "other photos accepted" in line)
        assert re.fullmatch(r"\S+: \d+ of \d+ other photos accepted", accepted)
        (rank1,) = [int(m.group(1)) for line in lines if (m := re.fullmatch(r"rank-1: (\d+) of 10", line))]
        identified = [line.split("\t") for line in lines if line.count("\t") == 2]
        assert all(float(distance) >= 0 for _, _, distance in identified)
        counts = [line.split() for line in lines[-10:]]
        assert all(count == "1" for count, _ in counts) and len({name for _, name in counts}) == 10
        if label == "orl":
            assert rank1 >= 8, lines


@pytest.mark.skipif(
    shutil.which("jq") is None, reason="examples/cats_and_dogs.sh prints with jq, which is not installed"
)
def test_cats_and_dogs_example(tmp_path: Path) -> None:
    import soundfile

    from tests.conftest import synthetic_voice

    drawn = tmp_path / "drawn"
    for folder, animal, count in (("Cats", 0, 9), ("Dogs", 1, 5), ("Sub_dogs", 1, 4)):
        (drawn / folder).mkdir(parents=True)
        for i in range(count):
            soundfile.write(drawn / folder / f"{folder}_{i}.wav", synthetic_voice(animal, i + 10 * len(folder)), 16000)
    datasets = {"drawn": drawn}
    if (SHARED_DATA / "cats_dogs_audio").is_dir():
        datasets["real"] = SHARED_DATA / "cats_dogs_audio"
    for label, data in datasets.items():
        lines = run_example("cats_and_dogs.sh", data, tmp_path / label)
        report = json.loads(lines[0])
        assert report["identities"] == 2 and 0 <= report["roc_auc"] <= 1
        verdicts = [line.split("\t") for line in lines[1:]]
        assert {animal for animal, _, _ in verdicts} == {"cat", "dog"}
        assert all(decision in ("accept", "reject") for _, decision, _ in verdicts)
        assert len(verdicts) == report["samples"] - 1  # every held-out clip but the enrolled bark

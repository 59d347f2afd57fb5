"""The command line end to end, on small data the tests make: train, eval, embed, pairs, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import write_face_dataset
from tests.helpers import ENV, assert_clean_error, siamcli


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A model trained for a few epochs on 10 synthetic identities, and 4 other identities to test on."""
    root = tmp_path_factory.mktemp("cli")
    data = write_face_dataset(root / "train", identities=10, samples=6)
    unseen = root / "unseen"
    write_face_dataset(root / "all", identities=14, samples=6)
    unseen.mkdir()
    for i in range(11, 15):
        (root / "all" / f"p{i}").rename(unseen / f"p{i}")
    model = root / "faces.model"
    result = siamcli("train", "faces", str(data), "-o", str(model), "--from-scratch", "--epochs", "6", "--seed", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # progress and summary go to stderr
    assert "wrote" in result.stderr
    return data, unseen, model


def test_train_writes_a_model_with_complete_metadata(trained: tuple[Path, Path, Path]) -> None:
    from siamcli.modelfile import read_card

    _, _, model = trained
    card = read_card(model)
    assert card.modality == "image" and card.kind == "faces"
    assert card.encoder.name == "ensemble" and card.encoder.params["members"] == 8
    member = card.encoder.params["member"]
    assert member["name"] == "small-vgg" and card.embedding_dim == 8 * member["params"]["embedding_dim"]
    assert card.preprocessing.size == (32, 28) and card.distance == "euclidean"
    assert card.threshold.operating_point == "eer" and card.threshold.value > 0
    assert card.threshold.calibrated_on.source == "validation identities"
    assert card.open_set is None  # 2 held-out identities hold no gallery with strangers beside it
    training = card.training
    assert training.identities == 10 and training.samples == 60
    assert len(training.val_identities) == 2 and not set(training.val_identities) & set(training.train_identities)
    assert training.config["seed"] == 1 and all(m.epochs_run <= 6 for m in training.members)
    assert training.loss.name == "contrastive" and training.miner.name == "hard-impostors"
    assert training.augmentation.mirror is True
    assert card.siamcli_version


def test_training_is_reproducible_with_a_seed(trained: tuple[Path, Path, Path], tmp_path: Path) -> None:
    data, _, model = trained
    again = tmp_path / "again.model"
    args = ("train", "faces", str(data), "-o", str(again), "--from-scratch", "--epochs", "6", "--seed", "1")
    assert siamcli(*args).returncode == 0
    from siamcli.modelfile import read_card

    first, second = read_card(model), read_card(again)
    assert first.threshold.value == second.threshold.value
    assert first.training.members[2].loss_per_epoch == second.training.members[2].loss_per_epoch


def test_eval_reports_every_metric_as_json(trained: tuple[Path, Path, Path]) -> None:
    _, unseen, model = trained
    result = siamcli("eval", str(model), str(unseen), "--json", "--episodes", "200")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["identities"] == 4 and report["samples"] == 24
    assert report["genuine_pairs"] == 4 * 15 and report["impostor_pairs"] == 24 * 23 // 2 - 60
    assert 0.5 < report["roc_auc"] <= 1.0 and 0.0 <= report["eer"] < 0.5
    assert set(report["tar_at_far"]) == {"0.01", "0.001", "0.0001"}
    assert report["tar_at_far"]["0.001"] is None  # 216 impostor pairs cannot measure 0.1%
    assert set(report["at_threshold"]) == {"accuracy", "balanced_accuracy", "far", "frr"}
    assert set(report["one_shot"]) == set()  # 4 identities: not enough for 5-way
    again = json.loads(siamcli("eval", str(model), str(unseen), "--json", "--episodes", "200").stdout)
    assert again == report


def test_eval_on_a_pairs_file_follows_its_pairs(trained: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, unseen, model = trained
    pairs_csv = tmp_path / "pairs.csv"
    made = siamcli("pairs", str(unseen), "--genuine", "20", "--impostor", "30", "--seed", "5", "-o", str(pairs_csv))
    assert made.returncode == 0 and made.stdout == ""
    lines = pairs_csv.read_text().splitlines()
    assert lines[0] == "path_a,path_b,label" and len(lines) == 51
    report = json.loads(siamcli("eval", str(model), str(pairs_csv), "--episodes", "50").stdout)  # piped: JSON
    assert report["genuine_pairs"] == 20 and report["impostor_pairs"] == 30


def test_eval_prints_a_table_on_a_terminal(trained: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from siamcli.cli import app, output

    monkeypatch.setattr(output, "want_json", lambda flag: flag)  # CliRunner's stdout is never a terminal
    _, unseen, model = trained
    result = CliRunner().invoke(app, ["eval", str(model), str(unseen), "--episodes", "50"])
    assert result.exit_code == 0
    assert "EER" in result.output and "ROC AUC" in result.output


def test_embed_writes_one_json_line_per_input_and_reads_stdin(trained: tuple[Path, Path, Path]) -> None:
    _, unseen, model = trained
    files = sorted(str(p) for p in unseen.rglob("*.pgm"))[:3]
    direct = siamcli("embed", *files, "--model", str(model))
    assert direct.returncode == 0, direct.stderr
    rows = [json.loads(line) for line in direct.stdout.splitlines()]
    assert [r["path"] for r in rows] == files
    vectors = np.array([r["embedding"] for r in rows])
    assert vectors.shape == (3, 8 * 64)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    piped = siamcli("embed", "-", "--model", str(model), stdin="\n".join(files) + "\n")
    assert piped.stdout == direct.stdout


def test_pairs_to_stdout_is_deterministic(trained: tuple[Path, Path, Path]) -> None:
    data, _, _ = trained
    first = siamcli("pairs", str(data), "--seed", "3")
    assert first.returncode == 0
    assert first.stdout == siamcli("pairs", str(data), "--seed", "3").stdout
    assert first.stdout.count(",1\n") == first.stdout.count(",0\n") == 10 * 15


def test_bad_input_gives_one_line_and_exit_2(trained: tuple[Path, Path, Path], tmp_path: Path) -> None:
    data, unseen, model = trained
    out = tmp_path / "m.model"
    assert_clean_error(siamcli("train", "faces", str(data), "-o", str(out), "--margin", "0"), "margin must be positive")
    known = "unknown kind 'pets' (known: faces, images, voices, sounds)"
    assert_clean_error(siamcli("train", "pets", str(data), "-o", str(out)), known)
    assert_clean_error(siamcli("train", "faces", str(tmp_path / "nope"), "-o", str(out)), "nope", "no such folder")
    (tmp_path / "empty").mkdir()
    assert_clean_error(siamcli("train", "faces", str(tmp_path / "empty"), "-o", str(out)), "no identity subfolders")
    write_face_dataset(tmp_path / "one", identities=1, samples=4)
    assert_clean_error(siamcli("train", "faces", str(tmp_path / "one"), "-o", str(out)), "at least 2")
    single = write_face_dataset(tmp_path / "single", identities=5, samples=3)
    for extra in ("2.pgm", "3.pgm"):
        (single / "p4" / extra).unlink()
    assert_clean_error(siamcli("train", "faces", str(single), "-o", str(out)), "'p4' has a single sample", "genuine")
    corrupt = write_face_dataset(tmp_path / "corrupt", identities=5, samples=3)
    (corrupt / "p3" / "2.pgm").write_bytes(b"P5\n92 112\n255\n\x00\x01")
    assert_clean_error(siamcli("train", "faces", str(corrupt), "-o", str(out), "--from-scratch"), "p3/2.pgm", "corrupt")
    assert not out.exists()

    not_model = tmp_path / "x.model"
    not_model.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    assert_clean_error(siamcli("eval", str(not_model), str(unseen)), "x.model", "not a siamcli model")
    assert_clean_error(siamcli("embed", "a.pgm", "--model", str(tmp_path / "missing.model")), "no such model file")
    assert_clean_error(siamcli("embed", str(tmp_path / "gone.pgm"), "--model", str(model)), "gone.pgm", "no such file")
    assert_clean_error(siamcli("pairs", str(tmp_path / "one")), "at least 2")


def test_a_safetensors_file_from_elsewhere_is_refused(tmp_path: Path, trained: tuple[Path, Path, Path]) -> None:
    import torch
    from safetensors.torch import save_file

    foreign = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(3)}, str(foreign), metadata={"format": "pt"})
    _, unseen, _ = trained
    assert_clean_error(siamcli("eval", str(foreign), str(unseen)), "without siamcli metadata")


def test_a_failed_train_leaves_an_existing_model_untouched(trained: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, _, model = trained
    before = model.read_bytes()
    result = siamcli("train", "faces", str(tmp_path / "missing"), "-o", str(model))
    assert result.returncode == 2
    assert model.read_bytes() == before
    assert not list(model.parent.glob(".*.tmp"))


def test_help_is_fast_to_import() -> None:
    code = "import sys, siamcli.cli; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_any_number_of_epochs_trains(tmp_path: Path) -> None:
    """torch's one-cycle schedule divides by zero when its warm-up is exactly one step (at 10 epochs)."""
    import siamcli as api

    data = write_face_dataset(tmp_path / "faces", identities=4, samples=3)
    for epochs in (1, 10):
        card = api.train("faces", data, tmp_path / "m.model", from_scratch=True, epochs=epochs, members=1)
        assert card.training.members[0].epochs_run <= epochs


def test_train_names_the_extra_it_needs_where_torch_is_not_installed(tmp_path: Path) -> None:
    """A verify-only install (`pip install siamcli`, no [train]) says what to install, in one line."""
    people = write_face_dataset(tmp_path / "people", identities=4, samples=2)
    without_torch = (
        "import sys, importlib.util\n"
        "find = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name in ('torch', 'onnx') else find(name, *a)\n"
        "sys.modules['torch'] = None\n"
        "from siamcli.cli import main\n"
        f"sys.argv = ['siamcli', 'train', 'faces', {str(people)!r}, '-o', {str(tmp_path / 'm.model')!r}]\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", without_torch], capture_output=True, text=True, env=ENV)
    assert_clean_error(result, "training needs torch and onnx", "pip install 'siamcli[train]'")
    assert not (tmp_path / "m.model").exists()

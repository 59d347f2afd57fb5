"""Hostile and careless input, one class at a time, each built by the test itself: every failure is
one line on stderr and exit 2, and nothing harmful is stored."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
from PIL import Image
from safetensors.torch import save

import siamcli
from siamcli.errors import SiamcliError, SiamcliWarning
from siamcli.modalities.audio import AudioPreprocessing
from siamcli.modelfile import FORMAT, GRAPH_TENSOR
from siamcli.models import retired_models
from tests.conftest import synthetic_face, synthetic_voice, write_drawn_dataset, write_face_dataset
from tests.helpers import ENV, TINY_CARD, assert_clean_error, json_lines, tiny_model
from tests.helpers import siamcli as run


@pytest.fixture
def faces(tmp_path: Path) -> Path:
    return write_drawn_dataset(tmp_path / "faces", identities=4, samples=3)


# -- 1. one error boundary -------------------------------------------------------------------------

CRASH = """
import sys
import siamcli.usecases.embed as use_case
def crash(*args, **kwargs):
    raise RuntimeError("something nobody foresaw")
use_case.embed = crash
from siamcli.cli import main
sys.argv = ["siamcli", "embed", "x.png"]
main()
"""


def test_an_unforeseen_error_is_one_line_and_exit_2_and_debug_shows_the_traceback() -> None:
    result = subprocess.run([sys.executable, "-c", CRASH], capture_output=True, text=True, env=ENV)
    assert_clean_error(result, "unexpected RuntimeError: something nobody foresaw", "SIAMCLI_DEBUG=1")
    debug_env = {**ENV, "SIAMCLI_DEBUG": "1"}
    debug = subprocess.run([sys.executable, "-c", CRASH], capture_output=True, text=True, env=debug_env)
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "something nobody foresaw" in debug.stderr


def test_a_locked_gallery_is_named(tmp_path: Path, faces: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import siamcli.gallery.sqlite

    gallery = tmp_path / "g.db"
    siamcli.enroll("p1", [faces / "p1" / "1.png"], gallery=gallery)
    monkeypatch.setattr(siamcli.gallery.sqlite, "LOCK_WAIT_SECONDS", 0.1)
    holder = sqlite3.connect(gallery, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(SiamcliError, match=r"g\.db: cannot (write|use) the gallery \(database is locked\)"):
            siamcli.enroll("p2", [faces / "p2" / "1.png"], gallery=gallery)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_values_the_cli_allows_but_the_core_refuses(tmp_path: Path, faces: Path) -> None:
    model = tiny_model(tmp_path / "m.model", seed=1)
    for far in ("0", "1"):
        assert_clean_error(run("calibrate", str(model), str(faces), "--far", far), f"--far {far}:")
    assert_clean_error(run("eval", str(model), str(faces), "--episodes", "100000000"), "--episodes")
    assert_clean_error(run("verify", "x.png", "--threshold", "nan", "-g", str(tmp_path / "none.db")), "--threshold")


# -- 2. bounded resources --------------------------------------------------------------------------


def test_images_over_the_pixel_limit_are_refused_before_decoding(tmp_path: Path, monkeypatch) -> None:
    from siamcli.modalities.image.decode import load_image

    Image.fromarray(synthetic_face(1, 1, size=(100, 100))).save(tmp_path / "big.png")
    monkeypatch.setenv("SIAMCLI_MAX_PIXELS", "5000")
    with pytest.raises(SiamcliError, match=r"big\.png: 100x100 pixels, more than the limit of 5,000"):
        load_image(tmp_path / "big.png", (32, 28))


def test_absurd_sample_rates_and_long_clips_are_refused_from_the_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from siamcli.modalities.audio.features import read_audio

    clip = tmp_path / "one_hertz.wav"
    soundfile.write(clip, synthetic_voice(1, 1, 8000), 8000)
    data = bytearray(clip.read_bytes())
    data[24:28] = (1).to_bytes(4, "little")  # the header now declares 1 sample a second
    clip.write_bytes(bytes(data))
    with pytest.raises(SiamcliError, match="sample rate 1 Hz"):
        read_audio(clip)
    monkeypatch.setenv("SIAMCLI_MAX_AUDIO_SECONDS", "0.5")
    soundfile.write(tmp_path / "long.wav", synthetic_voice(1, 2, 8000), 8000)
    with pytest.raises(SiamcliError, match="more than the limit of 0.5 s"):
        read_audio(tmp_path / "long.wav")


def test_long_recordings_are_read_a_block_at_a_time_and_hear_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import siamcli.modalities.audio.features as features

    rate = 44100
    voice = np.concatenate([synthetic_voice(i, 1, rate) for i in range(8)])
    voice = voice[: voice.size // 441 * 441]  # a whole number of 8 kHz samples, so both ways agree in time
    soundfile.write(tmp_path / "long.wav", np.stack([voice, 0.5 * voice], axis=1), rate)
    preprocessing = AudioPreprocessing()
    whole = features.load_clip(tmp_path / "long.wav", preprocessing)
    # A model that embeds the whole clip at once (the voice model's blocks are checked in test_voices).
    model = siamcli.load_model(retired_models()[0])
    (at_once,) = model.embed([tmp_path / "long.wav"])
    monkeypatch.setattr(features, "STREAM_ABOVE_SECONDS", 4.0)
    monkeypatch.setattr(features, "BLOCK_SECONDS", 2.0)
    blocks = features.load_clip(tmp_path / "long.wav", preprocessing)
    (in_blocks,) = model.embed([tmp_path / "long.wav"])
    assert blocks.shape == whole.shape and np.abs(blocks - whole).max() < 5e-3
    assert np.linalg.norm(in_blocks - at_once) < 1e-2


def test_pipes_are_refused_by_name_never_waited_on(tmp_path: Path, faces: Path) -> None:
    pipe = tmp_path / "probe.png"
    os.mkfifo(pipe)
    model_pipe = tmp_path / "pipe.model"
    os.mkfifo(model_pipe)
    gallery = tmp_path / "g.db"
    assert run("enroll", "p1", str(faces / "p1" / "1.png"), "-g", str(gallery)).returncode == 0
    for args, message in [
        (("embed", str(pipe)), "probe.png: not a regular file"),
        (("embed", str(faces / "p1" / "1.png"), "--model", str(model_pipe)), "pipe.model: not a regular file"),
        (("verify", str(faces / "p1" / "1.png"), "-g", str(model_pipe)), "not a regular file"),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "siamcli", *args], capture_output=True, text=True, env=ENV, timeout=60
        )
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, args


def write_raw_model(path: Path, meta_text: str, graph: bytes = b"") -> Path:
    tensors = {"w": torch.zeros(1), GRAPH_TENSOR: torch.frombuffer(bytearray(graph or b"\x00"), dtype=torch.uint8)}
    path.write_bytes(save(tensors, metadata={"siamcli": meta_text}))
    return path


def test_model_files_too_large_or_nested_too_deeply_are_refused(tmp_path: Path, monkeypatch) -> None:
    deep = '{"format": "siamcli-model", "format_version": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(SiamcliError, match="nested too deeply"):
        siamcli.load_model(write_raw_model(tmp_path / "deep.model", deep))
    huge = json.dumps({"format": FORMAT, "format_version": 1, "padding": "x" * (2 << 20)})
    with pytest.raises(SiamcliError, match="metadata of"):
        siamcli.load_model(write_raw_model(tmp_path / "huge.model", huge))
    model = tiny_model(tmp_path / "tiny.model", seed=0)
    monkeypatch.setenv("SIAMCLI_MAX_MODEL_BYTES", "1000")
    with pytest.raises(SiamcliError, match="more than the limit of 1,000"):
        siamcli.load_model(model)


# -- 3. untrusted model files ----------------------------------------------------------------------


def graph_with(node_op: str = "Identity", domain: str = "", external: bool = False, huge: bool = False) -> bytes:
    pytest.importorskip("onnx", reason="building a hostile ONNX graph needs the onnx package")
    from onnx import TensorProto, helper

    weight = helper.make_tensor("w", TensorProto.FLOAT, [2], [1.0, 2.0])
    if external:
        weight.data_location = TensorProto.EXTERNAL
        weight.external_data.add(key="location", value="secret.txt")
        del weight.float_data[:]
    if huge:  # a shape that would make onnxruntime allocate 40 GB
        weight = helper.make_tensor("w", TensorProto.INT64, [2], [1, 10**10])
    inputs = ["input", "w"] if huge else ["input"]
    node = helper.make_node(node_op, inputs, ["embedding"], domain=domain)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [None, 2])],
        [weight],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


@pytest.mark.parametrize(
    ("graph_args", "message"),
    [
        ({"external": True}, "external data"),
        ({"node_op": "Loop"}, "operator Loop is not one siamcli exports"),
        ({"node_op": "Evil", "domain": "com.example"}, "operator com.example.Evil"),
        ({"node_op": "Expand", "huge": True}, "a shape or index beyond 1,048,576"),
    ],
)
def test_a_graph_siamcli_did_not_make_is_refused(tmp_path: Path, graph_args: dict, message: str) -> None:
    (tmp_path / "secret.txt").write_bytes(b"\x00\x00\x80\x3f" * 2)
    meta = json.dumps({"format": FORMAT, "format_version": 1, **TINY_CARD.to_json()})
    path = write_raw_model(tmp_path / "odd.model", meta, graph_with(**graph_args))
    with pytest.raises(SiamcliError, match="odd.model: refused") as raised:
        siamcli.load_model(path)
    assert message in str(raised.value)


def test_an_embedding_of_another_size_than_declared_is_refused(tmp_path: Path, faces: Path) -> None:
    from dataclasses import replace

    import siamcli.modalities.image.encoders
    from siamcli.core.encoders import build_encoder
    from siamcli.modelfile import write_model
    from tests.helpers import TINY_SPEC

    path = tmp_path / "liar.model"
    write_model(path, build_encoder(TINY_SPEC), replace(TINY_CARD, embedding_dim=99))
    with pytest.raises(SiamcliError, match="embeddings of shape \\(16,\\), its card declares 99"):
        siamcli.load_model(path).embed([faces / "p1" / "1.png"])


# -- 4. nothing harmful stored ---------------------------------------------------------------------


def test_non_finite_and_huge_audio(tmp_path: Path) -> None:
    from siamcli.modalities.audio.features import read_audio

    voice = synthetic_voice(1, 1, 8000)
    broken = voice.copy()
    broken[100] = np.nan
    soundfile.write(tmp_path / "nan.wav", broken, 8000, subtype="FLOAT")
    with pytest.raises(SiamcliError, match="nan.wav: holds samples that are not numbers"):
        read_audio(tmp_path / "nan.wav")
    soundfile.write(tmp_path / "loud.wav", voice * 1e30, 8000, subtype="FLOAT")
    signal, _ = read_audio(tmp_path / "loud.wav")
    assert np.isfinite(signal).all() and np.max(np.abs(signal)) == pytest.approx(1.0)
    (embedding,) = siamcli.load_model("default:audio").embed([tmp_path / "loud.wav"])
    assert np.isfinite(embedding).all()


@pytest.mark.parametrize("pixels", [np.zeros((50, 40)), np.full((50, 40), 255), np.full((1, 1), 128)])
def test_blank_images_are_refused(tmp_path: Path, pixels: np.ndarray) -> None:
    Image.fromarray(pixels.astype(np.uint8)).save(tmp_path / "blank.png")
    result = run("enroll", "x", str(tmp_path / "blank.png"), "-g", str(tmp_path / "g.db"))
    assert_clean_error(result, "blank.png: blank image")
    assert not (tmp_path / "g.db").exists()


def test_json_output_is_strict() -> None:
    from siamcli.files import json_text

    text = json_text({"a": float("nan"), "b": [float("inf"), 1.5, 0.1234567891]})
    assert text == '{"a": null, "b": [null, 1.5, 0.123457]}'


def test_a_near_copy_enrolled_under_another_name_is_flagged(tmp_path: Path, faces: Path) -> None:
    gallery = tmp_path / "g.db"
    siamcli.enroll("p1", [faces / "p1" / "1.png"], gallery=gallery)
    copy = tmp_path / "copy.png"
    Image.open(faces / "p1" / "1.png").save(copy, optimize=True)  # the same picture, other bytes
    with pytest.warns(SiamcliWarning, match="copy.png: nearly identical to a sample of 'p1'"):
        siamcli.enroll("p9", [copy], gallery=gallery)


# -- 5. trust between gallery and model ------------------------------------------------------------


def test_calibrating_through_a_symlink_and_a_changed_threshold(tmp_path: Path, faces: Path) -> None:
    model = tiny_model(tmp_path / "real.model", seed=1)
    link = tmp_path / "link.model"
    link.symlink_to(model)
    gallery = tmp_path / "g.db"
    siamcli.enroll("p1", [faces / "p1" / "1.png"], model=link, gallery=gallery)
    siamcli.calibrate(link, faces, far=0.1)
    assert link.is_symlink() and siamcli.load_model(model).card.threshold.operating_point == "far=0.1"
    result = run("verify", str(faces / "p1" / "2.png"), "--claim", "p1", "-g", str(gallery))
    assert result.returncode in (0, 1)
    (warning,) = result.stderr.strip().splitlines()
    assert "threshold is" in warning and "0.8000 when this gallery was enrolled" in warning


# -- 6. privacy by default -------------------------------------------------------------------------


def test_a_new_gallery_is_private_and_a_readable_one_is_pointed_out(tmp_path: Path, faces: Path) -> None:
    gallery = tmp_path / "new" / "folder" / "g.db"
    siamcli.enroll("p1", [faces / "p1" / "1.png"], gallery=gallery)
    assert gallery.stat().st_mode & 0o777 == 0o600
    assert gallery.parent.stat().st_mode & 0o777 == 0o700 and gallery.parent.parent.stat().st_mode & 0o777 == 0o700
    gallery.chmod(0o644)
    result = run("gallery", "list", "-g", str(gallery))
    assert result.returncode == 0 and "other users of this machine can read this gallery" in result.stderr


# -- 7. names and text shown literally -------------------------------------------------------------


@pytest.mark.parametrize("name", ["ev\u202eil", "zero\u200bwidth", "bell\x07", "two\nlines", "unknown", "  "])
def test_names_that_hide_or_lie_are_refused(tmp_path: Path, faces: Path, name: str) -> None:
    with pytest.raises(SiamcliError, match="not a usable name|reserved"):
        siamcli.enroll(name, [faces / "p1" / "1.png"], gallery=tmp_path / "g.db")
    assert not (tmp_path / "g.db").exists()


def test_markup_in_names_is_shown_as_typed(tmp_path: Path, faces: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from siamcli.cli import app, output

    gallery = tmp_path / "g.db"
    siamcli.enroll("  [bold red]admin[/] [link=http://x]", [faces / "p1" / "1.png"], gallery=gallery)
    monkeypatch.setattr(output, "want_json", lambda flag: flag)
    listed = CliRunner().invoke(app, ["gallery", "list", "-g", str(gallery)], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and "[bold red]admin[/] [link=http://x]" in listed.output


def test_file_names_that_are_not_utf8_work_end_to_end(tmp_path: Path, faces: Path) -> None:
    odd = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.png"))
    odd.write_bytes((faces / "p1" / "1.png").read_bytes())
    gallery = tmp_path / "g.db"
    assert run("enroll", "p1", str(odd), "-g", str(gallery)).returncode == 0
    (verdict,) = json_lines(run("verify", str(odd), "--claim", "p1", "-g", str(gallery)))
    assert verdict["path"].endswith("caf\\xe9.png") and verdict["decision"] == "accept"
    piped = subprocess.run(  # as `find | siamcli verify -` hands it over: bytes that are not UTF-8
        [sys.executable, "-m", "siamcli", "verify", "-", "--claim", "p1", "-g", str(gallery)],
        input=bytes(odd) + b"\n",
        capture_output=True,
        env=ENV,
    )
    assert piped.returncode == 0 and json.loads(piped.stdout)["path"] == verdict["path"]


def test_float_images_with_pixels_that_are_not_numbers(tmp_path: Path) -> None:
    from siamcli.modalities.image.decode import load_image

    pixels = np.linspace(0, 1, 400, dtype=np.float32).reshape(20, 20)
    pixels[3, 4] = np.nan
    Image.fromarray(pixels, mode="F").save(tmp_path / "float.tif")
    with pytest.raises(SiamcliError, match="float.tif: corrupt or truncated image \\(pixels that are not numbers"):
        load_image(tmp_path / "float.tif", (8, 8))


def test_pairs_cells_are_never_spreadsheet_formulas(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for name in ("=2+5+cmd|calc", "@SUM(A1)", "plain"):
        write_face_dataset(data / "tmp", identities=1, samples=2)
        (data / "tmp" / "p1").rename(data / name)
        (data / "tmp").rmdir()
    csv_path = tmp_path / "pairs.csv"
    assert run("pairs", "data", "-o", str(csv_path), cwd=tmp_path).returncode == 0
    cells = [cell for line in csv_path.read_text().splitlines()[1:] for cell in line.split(",")[:2]]
    assert cells and all(not cell.lstrip('"').startswith(("=", "+", "-", "@")) for cell in cells)
    from siamcli.data.pairs import read_pairs

    assert {p.path_a.parent.name for p in read_pairs(csv_path)} <= {"=2+5+cmd|calc", "@SUM(A1)", "plain"}


# -- 8. keep going ---------------------------------------------------------------------------------


def test_embed_and_verify_carry_on_past_bad_files(tmp_path: Path, faces: Path) -> None:
    good = [str(faces / "p1" / "1.png"), str(faces / "p2" / "1.png")]
    (tmp_path / "notes.txt").write_text("hello")
    bad = [str(tmp_path / "gone.png"), str(tmp_path / "notes.txt")]
    result = run("embed", good[0], *bad, good[1])
    assert result.returncode == 2 and [row["path"] for row in json_lines(result)] == good
    assert len(result.stderr.strip().splitlines()) == 2 and "gone.png: no such file" in result.stderr
    gallery = tmp_path / "g.db"
    run("enroll", "p1", good[0], "-g", str(gallery))
    result = run("verify", good[0], *bad, good[1], "-g", str(gallery))
    assert result.returncode == 2 and [row["path"] for row in json_lines(result)] == good
    assert "notes.txt: unsupported file type" in result.stderr


def test_a_reader_that_goes_away_ends_the_output_quietly(faces: Path) -> None:
    files = " ".join(str(p) for p in sorted(faces.rglob("*.png")))
    result = subprocess.run(
        f"{sys.executable} -m siamcli embed {files} | head -1", shell=True, capture_output=True, text=True, env=ENV
    )
    assert result.stdout.count("\n") == 1 and result.stderr == ""


# -- 9. the last rough edges a run of hostile inputs found -----------------------------------------


def test_a_text_file_named_mp3_is_one_line_without_the_decoders_notes(tmp_path: Path) -> None:
    (tmp_path / "song.mp3").write_text("hello, this is not audio\n" * 20)
    result = run("embed", str(tmp_path / "song.mp3"))
    assert_clean_error(result, "song.mp3: not a readable audio file", "not recognised")
    assert "Note:" not in result.stderr and "MPEG" not in result.stderr


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` unwritable meanwhile, for root too (whom file modes do not stop): immutable (chattr +i)."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        yield
        return
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a file read-only for root here (chattr +i refused)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_gallery_is_one_line_and_left_as_it_was(tmp_path: Path, faces: Path) -> None:
    gallery = tmp_path / "g.db"
    siamcli.enroll("p1", [faces / "p1" / "1.png"], gallery=gallery)
    gallery.chmod(0o644)  # readable by others: the warning it earns must not come before the error
    before = gallery.read_bytes()
    with read_only(gallery):
        for args in (["enroll", "p2", str(faces / "p2" / "1.png")], ["gallery", "remove", "p1"]):
            assert_clean_error(run(*args, "-g", str(gallery)), "g.db: cannot write the gallery: it is read-only")
    assert gallery.read_bytes() == before


def with_file_size_limit(limit_bytes: int) -> dict:
    """subprocess arguments under which writing past `limit_bytes` into any file fails as a full disk does."""
    import resource
    import signal

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write (EFBIG) rather than kill the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return {"preexec_fn": limit}


def test_a_full_disk_is_named_and_a_new_gallery_is_not_left_behind(tmp_path: Path, faces: Path) -> None:
    new = tmp_path / "new" / "g.db"
    args = [sys.executable, "-m", "siamcli", "enroll", "p1", str(faces / "p1" / "1.png"), "-g", str(new)]
    result = subprocess.run(args, capture_output=True, text=True, env=ENV, **with_file_size_limit(20_000))
    assert_clean_error(result, "g.db: cannot write the gallery: the disk refused the write (is it full?")
    assert not new.exists() and not (tmp_path / "new").exists()

    existing = tmp_path / "g.db"
    siamcli.enroll("p1", [faces / "p1" / "1.png"], gallery=existing)
    before = existing.read_bytes()
    args = [sys.executable, "-m", "siamcli", "enroll", "p2", *map(str, (faces / "p2").iterdir()), "-g", str(existing)]
    result = subprocess.run(args, capture_output=True, text=True, env=ENV, **with_file_size_limit(4096))
    assert_clean_error(result, "g.db: cannot write the gallery: the disk refused the write (is it full?")
    assert existing.read_bytes() == before


def test_a_gallery_path_that_loops_or_leads_nowhere_says_so(tmp_path: Path) -> None:
    (tmp_path / "a.db").symlink_to(tmp_path / "b.db")
    (tmp_path / "b.db").symlink_to(tmp_path / "a.db")
    (tmp_path / "gone.db").symlink_to(tmp_path / "missing" / "g.db")
    for command in (["gallery", "list"], ["verify", "x.png"]):
        result = run(*command, "-g", str(tmp_path / "a.db"))
        assert_clean_error(result, "a.db: cannot follow the symbolic link (Too many levels of symbolic links)")
    result = run("gallery", "list", "-g", str(tmp_path / "gone.db"))
    assert_clean_error(result, "gone.db: a symbolic link to", "which does not exist")


def with_metadata(source: Path, target: Path, change: Callable[[dict], None]) -> Path:
    """A copy of a model file with its siamcli metadata changed by hand, as an editor would."""
    from safetensors.torch import load_file

    with open(source, "rb") as file:
        size = int.from_bytes(file.read(8), "little")
        meta = json.loads(json.loads(file.read(size))["__metadata__"]["siamcli"])
    change(meta)
    target.write_bytes(save(load_file(source), metadata={"siamcli": json.dumps(meta)}))
    return target


def test_a_model_whose_format_version_is_text_is_damaged_not_newer(tmp_path: Path) -> None:
    model = tiny_model(tmp_path / "m.model", seed=0)
    edited = with_metadata(model, tmp_path / "text.model", lambda meta: meta.update(format_version="1"))
    with pytest.raises(SiamcliError, match=r"text\.model: damaged siamcli model \(format_version \"1\" is not a") as e:
        siamcli.load_model(edited)
    assert "newer" not in str(e.value)


def test_a_threshold_that_would_accept_anyone_decides_nothing(tmp_path: Path, faces: Path) -> None:
    model = tiny_model(tmp_path / "m.model", seed=0)
    gallery = tmp_path / "g.db"
    siamcli.enroll("p1", [faces / "p1" / "1.png"], gallery=gallery, model=model)
    stranger = str(faces / "p3" / "1.png")
    result = run("verify", stranger, "--claim", "p1", "--threshold", "5", "-g", str(gallery))
    assert_clean_error(result, "--threshold: threshold 5 is outside the distances' range (0 to 2)")
    with_metadata(model, model, lambda meta: meta["threshold"].update(value=1e9))
    result = run("verify", stranger, "--claim", "p1", "-m", str(model), "-g", str(gallery))
    assert_clean_error(result, "m.model: damaged siamcli model", "threshold 1e+09 is outside the distances' range")


def test_calibrating_at_an_unmeasurable_rate_says_so_briefly(tmp_path: Path, faces: Path) -> None:
    model = tiny_model(tmp_path / "m.model", seed=0)
    result = run("calibrate", str(model), str(faces), "--far", "1e-300")
    assert_clean_error(result, "cannot measure a false-accept rate of 1e-300 (it needs 1e+300)")
    assert len(result.stderr) < 300


def test_a_report_for_a_model_whose_path_holds_dollars(tmp_path: Path, faces: Path) -> None:
    model = tiny_model(tmp_path / "x$\\alpha_{$b.model", seed=0)
    result = run("eval", str(model), str(faces), "--report", str(tmp_path / "report"))
    assert result.returncode == 0, result.stderr
    assert {p.name for p in (tmp_path / "report").iterdir()} >= {"roc.png", "det.png", "distances.png", "report.html"}


def test_onnxruntime_writes_nothing_in_the_users_home(tmp_path: Path, faces: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {**ENV, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
    env.pop("ORT_DISABLE_TELEMETRY", None)
    result = subprocess.run(
        [sys.executable, "-m", "siamcli", "embed", str(faces / "p1" / "1.png")], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    assert list(home.rglob("*")) == []


def test_eval_where_every_sample_is_left_out_is_one_line(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for person in ("a", "b"):
        (tmp_path / "noise" / person).mkdir(parents=True)
        for sample in range(2):
            noise = (rng.random((96, 96, 3)) * 255).astype(np.uint8)
            Image.fromarray(noise).save(tmp_path / "noise" / person / f"{sample}.png")
    result = run("eval", "default:image", str(tmp_path / "noise"))
    assert_clean_error(result, "noise: 4 of 4 samples left out with nothing to embed (", "no face found and more)")
    assert result.stderr.rstrip().endswith("the 0 left hold no genuine pair to score")


def test_shipped_models_record_their_data_by_name_not_by_a_builders_path() -> None:
    import siamcli.models
    from siamcli.modelfile import read_card

    for path in Path(siamcli.models.__file__).parent.glob("*.model"):
        data = read_card(path).threshold.calibrated_on.data
        assert data is None or ("/" not in data and "\\" not in data), (path.name, data)


def test_help_shows_brackets_as_typed_and_sentences_whole() -> None:
    wide = {**ENV, "COLUMNS": "400"}
    embed = subprocess.run(
        [sys.executable, "-m", "siamcli", "embed", "--help"], capture_output=True, text=True, env=wide
    )
    assert '"box": [left, top, right, bottom]' in embed.stdout and "[[x, y] of the eyes" in embed.stdout
    assert "the others still are; the exit status is then 2." in embed.stdout

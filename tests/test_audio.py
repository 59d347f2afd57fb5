"""Audio: every format and sample rate, mono mixing, silence trimming, bad clips named, features that
match librosa's, and an encoder that embeds clips of any length, in torch and in its ONNX graph alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

import siamcli as siamcli_api
from siamcli.core.encoders import build_encoder
from siamcli.core.registry import Spec
from siamcli.errors import SiamcliError
from siamcli.modalities import modality_of
from siamcli.modalities.audio import AudioPreprocessing
from siamcli.modalities.audio.features import load_clip, mel_filterbank, mel_spectrogram, resample, trim_silence
from siamcli.model import load_model
from siamcli.modelcard import ModelCard, ThresholdRecord
from siamcli.modelfile import write_model
from tests.conftest import synthetic_voice
from tests.helpers import json_lines, siamcli

PRE = AudioPreprocessing()


@pytest.mark.parametrize(
    ("suffix", "rate", "channels"),
    [(".wav", 8000, 1), (".wav", 44100, 2), (".flac", 16000, 1), (".ogg", 22050, 2), (".mp3", 16000, 1)],
)
def test_every_format_and_rate_loads_as_mono_at_the_model_rate(
    tmp_path: Path, suffix: str, rate: int, channels: int
) -> None:
    voice = synthetic_voice(1, 1, rate)
    data = np.stack([voice, 0.5 * voice], axis=1) if channels == 2 else voice
    path = tmp_path / f"clip{suffix}"
    soundfile.write(path, data, rate)
    clip = load_clip(path, PRE)
    expected = (voice.size - 2 * int(0.2 * rate)) / rate  # the silence either side is trimmed
    assert clip.ndim == 1 and clip.dtype == np.float32
    # mp3 adds an encoder delay; the trim works on 10 ms frames: a few frames' slack.
    assert abs(clip.size / PRE.sample_rate - expected) < 0.08
    assert modality_of(path).name == "audio"


def test_resampling_keeps_a_tone_and_its_level() -> None:
    t = np.arange(16000) / 16000
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    down = resample(tone, 16000, 8000)
    assert down.size == 8000
    spectrum = np.abs(np.fft.rfft(down))
    assert np.argmax(spectrum) == 440 and np.sqrt(np.mean(down**2)) == pytest.approx(np.sqrt(0.5), rel=1e-3)


def test_trimming_removes_leading_and_trailing_silence_only() -> None:
    rate = 8000
    tone = np.sin(2 * np.pi * 300 * np.arange(rate) / rate).astype(np.float32)
    gap = np.zeros(rate // 2, np.float32)
    trimmed = trim_silence(np.concatenate([gap, tone, gap, tone, gap]), rate, 40)
    # tone, middle gap, tone: 2.5 s, to within a 25 ms frame and a 10 ms hop
    assert abs(trimmed.size - 5 * rate // 2) <= int(0.035 * rate)


def test_bad_clips_are_named(tmp_path: Path) -> None:
    rate = 8000
    cases = {
        "empty.wav": np.zeros(0, np.float32),
        "silent.wav": np.zeros(rate, np.float32),
        "short.wav": np.concatenate([np.zeros(rate), 0.5 * np.sin(np.arange(400) / 3), np.zeros(rate)]),
    }
    for name, data in cases.items():
        soundfile.write(tmp_path / name, data, rate)
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEnot really")
    expected = {
        "empty.wav": "empty audio file",
        "silent.wav": "silent",
        "short.wav": "too short (0.0",
        "corrupt.wav": "not a readable audio file",
        "missing.wav": "no such file",
    }
    for name, message in expected.items():
        with pytest.raises(SiamcliError, match=message.replace("(", r"\(")) as raised:
            load_clip(tmp_path / name, PRE)
        assert str(raised.value).startswith(str(tmp_path / name))


def test_features_match_librosa() -> None:
    librosa = pytest.importorskip("librosa")
    basis = mel_filterbank(8000, 256, 40, 20.0, 4000.0)
    assert np.abs(basis - librosa.filters.mel(sr=8000, n_fft=256, n_mels=40, fmin=20.0, fmax=4000.0)).max() < 1e-7
    clip = synthetic_voice(2, 3, 8000)
    ours = mel_spectrogram(clip, PRE)
    theirs = librosa.feature.melspectrogram(
        y=clip,
        sr=8000,
        n_fft=256,
        win_length=200,
        hop_length=80,
        n_mels=40,
        fmin=20.0,
        fmax=4000.0,
        center=True,
        pad_mode="constant",
        power=2.0,
    )
    assert ours.shape == theirs.shape
    assert np.abs(ours - np.log(theirs + 1e-6)).max() < 1e-3


def test_a_minute_of_sound_gives_a_frame_every_10_ms() -> None:
    # Its speed (hundreds of times real time) is measured by benchmarks/sounds.py, not asserted here.
    clip = np.random.default_rng(0).normal(0, 0.1, 8000 * 60).astype(np.float32)
    assert mel_spectrogram(clip, PRE).shape == (40, 6001)


def test_the_audio_graph_embeds_any_length_as_torch_does(tmp_path: Path) -> None:
    import siamcli.modalities.audio.encoders  # noqa: F401  (registers the audio networks)

    torch.manual_seed(0)
    spec = Spec("tdnn-xvector", {"embedding_dim": 16, "width": 16})
    encoder = build_encoder(spec).eval()
    path = tmp_path / "voice.model"
    card = ModelCard("audio", spec, 16, PRE, "euclidean", ThresholdRecord(0.8, "eer"))
    write_model(path, encoder, card)
    model = load_model(path)
    for frames in (12, 100, 731):
        spectrogram = np.random.default_rng(frames).normal(size=(1, 40, frames)).astype(np.float32)
        with torch.no_grad():
            direct = encoder(torch.from_numpy(spectrogram)).numpy()
        assert np.abs(model.encoder(spectrogram) - direct).max() < 1e-5


@pytest.fixture(scope="module")
def voice_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A model trained briefly with `siamcli train sounds` on 8 synthetic voices, and 4 other voices."""
    from tests.conftest import write_voice_dataset

    root = tmp_path_factory.mktemp("voices")
    write_voice_dataset(root / "all", identities=12, samples=5)
    train, unseen = root / "train", root / "unseen"
    train.mkdir()
    unseen.mkdir()
    for i in range(1, 13):
        (root / "all" / f"v{i}").rename((train if i <= 8 else unseen) / f"v{i}")
    model = root / "voices.model"
    siamcli_api.train("sounds", train, model, epochs=4, members=1)
    return model, unseen


def test_audio_end_to_end_through_the_same_commands(voice_model: tuple[Path, Path], tmp_path: Path) -> None:

    model, unseen = voice_model
    card = load_model(model).card
    assert card.modality == "audio" and card.preprocessing.sample_rate == 8000 and card.kind == "sounds"
    report = siamcli_api.evaluate([model], unseen, episodes=100).models[0].metrics
    assert report.identities == 4 and report.genuine_pairs == 40 and 0 <= report.eer <= 1
    # 1:N is calibrated for sounds as for faces: nothing in it is of one modality.
    assert card.open_set is not None and card.open_set.calibrated_on.source == card.threshold.calibrated_on.source
    assert {r.identities for r in report.open_set} == {2} and report.open_set[0].at_operating_point is not None

    gallery = str(tmp_path / "g.db")
    first, second = str(unseen / "v9" / "1.wav"), str(unseen / "v9" / "2.wav")
    enrolled = siamcli("enroll", "bob", first, "--model", str(model), "--gallery", gallery)
    assert enrolled.returncode == 0, enrolled.stderr
    # Without --model, the gallery's audio collection brings its own model.
    (verdict,) = json_lines(siamcli("verify", first, "--claim", "bob", "--gallery", gallery))
    assert verdict["decision"] == "accept" and verdict["distance"] < 1e-3
    (verdict,) = json_lines(siamcli("verify", second, "--gallery", gallery, "--threshold", "1.999"))
    assert verdict["identity"] == "bob"
    (verdict,) = json_lines(siamcli("verify", second, "--gallery", gallery))
    assert verdict["operating_point"] == "fpir=0.01 at 1 identity" and verdict["threshold_source"] == "model"

    mixed = siamcli("verify", first, str(tmp_path / "face.png"), "--gallery", gallery)
    assert mixed.returncode == 2 and "mix audio and image" in mixed.stderr
    # A gallery without an audio collection: the shipped voice model, as for faces.
    shipped = siamcli("enroll", "carol", first, "--gallery", str(tmp_path / "other.db"))
    assert shipped.returncode == 0 and "with default:audio" in shipped.stderr


def test_speakers_never_heard_in_training(tmp_path: Path) -> None:
    """The real run: train on fsdd_speakers and five LibriSpeech readers, evaluate on the other five."""
    from tests.conftest import shared_dataset

    fsdd, libri = shared_dataset("fsdd_speakers"), shared_dataset("librispeech_10spk")
    readers = sorted(p for p in libri.iterdir() if p.is_dir())
    train, test = tmp_path / "train", tmp_path / "test"
    for folder, members in ((train, sorted(fsdd.iterdir()) + readers[:5]), (test, readers[5:])):
        folder.mkdir()
        for member in members:
            (folder / member.name).symlink_to(member.resolve(), target_is_directory=True)
    model = tmp_path / "speakers.model"
    siamcli_api.train("sounds", train, model)
    report = siamcli_api.evaluate([model], test).models[0].metrics
    # Measured 2026-11-28: EER 28.4%, ROC AUC 0.786 (benchmarks/sounds.py). The target (EER 10%)
    # is not met; these bounds guard what is reached, with room for numeric noise.
    assert report.identities == 5 and report.samples == 50
    assert report.eer <= 0.33 and report.roc_auc >= 0.74

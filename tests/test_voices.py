"""Voices: the pretrained GE2E encoder as the shipped voice model, speech found by voice activity
detection, long recordings window by window, `train voices` fine-tuning that never ends worse than
its start, `train sounds` for the rest, and galleries of the retired voice model still working."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

import siamcli as siamcli_api
from siamcli.gallery import Gallery, NewSample
from siamcli.modalities.audio import features
from siamcli.modalities.base import embed_all
from siamcli.model import load_model
from siamcli.modelfile import load_torch_encoder, read_card
from siamcli.models import retired_models, shipped_model
from siamcli.recipes import VOICE_PREPROCESSING, recipe_for
from siamcli.usecases.choice import model_ref
from tests.conftest import synthetic_voice, write_voice_dataset
from tests.helpers import assert_clean_error, json_lines, siamcli

RATE = 16000


def speech_burst(seconds: float, pitch: float) -> np.ndarray:
    """A voiced stretch: a harmonic tone with a slight vibrato, in syllables of a quarter second."""
    t = np.arange(int(seconds * RATE)) / RATE
    phase = 2 * np.pi * np.cumsum(pitch * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))) / RATE
    tone = sum(np.sin(k * phase) / k for k in range(1, 25) if k * pitch < 4000)
    syllables = 0.5 - 0.5 * np.cos(2 * np.pi * 4 * t)
    return (0.3 * tone * syllables / np.max(np.abs(tone))).astype(np.float32)


def test_voice_activity_detection_keeps_the_speech_inside_silence_and_noise() -> None:
    rng = np.random.default_rng(0)
    silence = np.zeros(RATE, np.float32)
    hiss = (0.003 * rng.standard_normal(RATE)).astype(np.float32)
    clip = np.concatenate([silence, speech_burst(0.8, 130), hiss, speech_burst(0.8, 130), silence, hiss])
    kept, found = features.speech(clip, RATE)
    # 1.6 s of speech in 5.6 s: kept with its edges (a pause of up to 0.18 s around each stretch), and
    # none of the 4 s of silence and hiss beyond that.
    assert 1.6 <= kept.size / RATE <= 2.4 and 1.2 <= found <= 1.8
    assert features.speech(np.concatenate([hiss, silence, hiss]), RATE)[0].size == 0


def test_a_clip_with_too_little_speech_is_refused_by_name(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    soundfile.write(tmp_path / "hiss.wav", 0.01 * rng.standard_normal(3 * RATE), RATE)
    result = siamcli("embed", str(tmp_path / "hiss.wav"))
    assert_clean_error(result, "hiss.wav: too little speech (0.00 s found by voice activity detection")
    gallery = tmp_path / "g.db"
    result = siamcli("enroll", "bob", str(tmp_path / "hiss.wav"), "--gallery", str(gallery))
    assert_clean_error(result, "hiss.wav: too little speech")
    assert not gallery.exists()


def test_the_shipped_voice_model_is_the_converted_pretrained_encoder() -> None:
    card = read_card(shipped_model("audio"))
    assert card.kind == "voices" and card.encoder.name == "ge2e-lstm" and card.embedding_dim == 256
    assert card.preprocessing == VOICE_PREPROCESSING
    assert card.pretrained is not None and card.pretrained.package == "resemblyzer 0.1.4 (PyPI)"
    assert card.pretrained.licence == "Apache-2.0" and len(card.pretrained.sha256) == 64
    assert card.threshold.calibrated_on.data is not None and card.threshold.calibrated_on.data.endswith(
        "speechocean_train"
    )
    assert card.threshold.calibrated_on.identities == 100 and 0.5 < card.threshold.value < 1.2


@pytest.mark.parametrize("frames", [25, 160, 417])
def test_the_inference_graph_embeds_as_torch_does_at_any_length(frames: int) -> None:
    path = shipped_model("audio")
    encoder, model = load_torch_encoder(path), load_model(path)
    mels = np.random.default_rng(frames).gamma(1.0, 0.05, size=(2, 40, frames)).astype(np.float32)
    with torch.no_grad():
        direct = encoder(torch.from_numpy(mels)).numpy()
    assert np.abs(model.encoder(mels) - direct).max() < 1e-5


def test_windows_cover_the_clip_and_are_averaged() -> None:
    model = load_model("default:audio")
    rng = np.random.default_rng(2)
    clips = [rng.gamma(1.0, 0.05, size=(40, n)).astype(np.float32) for n in (100, 160, 400)]
    decoded = features_decoded(clips)
    batches = list(decoded.inference_batches(256))
    # The short clip whole on its own; the others as 160-frame windows, the last ending at the end.
    assert [b.shape for b, _ in batches] == [(1, 40, 100), (1, 40, 160), (3, 40, 160)]
    assert batches[2][1].tolist() == [2, 2, 2]
    np.testing.assert_array_equal(batches[2][0][2], clips[2][:, 240:])
    pooled = embed_all(decoded, model.encoder)  # what Model.embed pools each clip's windows with
    windows = model.encoder(batches[2][0])
    mean = windows.mean(axis=0)
    np.testing.assert_allclose(pooled[2], mean / np.linalg.norm(mean), atol=1e-6)
    np.testing.assert_allclose(pooled[0], model.encoder(clips[0][None])[0], atol=1e-6)


def features_decoded(clips: list[np.ndarray]) -> object:
    from siamcli.modalities.audio import DecodedClips

    step = VOICE_PREPROCESSING.window_step
    return DecodedClips(clips, np.zeros(len(clips), np.int64), VOICE_PREPROCESSING.window_frames, step)


def test_long_recordings_are_embedded_in_bounded_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Block by block, a recording never has more than a block of its samples in memory: with blocks
    of 5 s, the peak stays a fraction of what the whole signal alone would take (benchmarks/voices.py
    measures an hour with the real 30 s blocks), and the embedding barely moves."""
    rate = 48000
    voice = np.concatenate([speech_burst(1.5, 110 + 15 * (i % 5)) for i in range(40)])  # a minute
    voice = np.resize(np.resize(voice, voice.size), 2 * voice.size)  # two minutes
    soundfile.write(tmp_path / "long.wav", np.resize(voice, voice.size * rate // RATE), rate)
    whole_signal_bytes = 120 * rate * 8  # what resampling the whole file at once would hold, in float64
    model = load_model("default:audio")
    monkeypatch.setattr(features, "STREAM_ABOVE_SECONDS", 10.0)
    monkeypatch.setattr(features, "BLOCK_SECONDS", 5.0)
    tracemalloc.start()
    (in_blocks,) = model.embed([tmp_path / "long.wav"])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 0.3 * whole_signal_bytes
    monkeypatch.setattr(features, "STREAM_ABOVE_SECONDS", 1e9)
    (at_once,) = model.embed([tmp_path / "long.wav"])
    assert float(in_blocks @ at_once) > 0.999


def test_train_sounds_is_the_from_scratch_recipe_and_audio_its_old_name() -> None:
    sounds = recipe_for("sounds").training
    assert sounds.encoder.name == "tdnn-xvector" and sounds.start_from is None
    with pytest.warns(UserWarning, match="'audio' is now 'sounds'"):
        assert recipe_for("audio") is recipe_for("sounds")
    voices = recipe_for("voices")
    assert voices.training.start_from == "default:audio" and voices.preprocessing == VOICE_PREPROCESSING


@pytest.fixture(scope="module")
def speakers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("speakers")
    return write_voice_dataset(root / "all", identities=8, samples=5)


def test_fine_tuning_never_ends_worse_than_its_start(speakers: Path, tmp_path: Path) -> None:
    """A learning rate that can only wreck the adapted projection: every epoch is worse on the
    held-out speakers than the pretrained start, so the start is kept: the adapted projection is
    still the pretrained one's copy, and every distance is the pretrained model's."""
    model = tmp_path / "wrecked.model"
    card = siamcli_api.train("voices", speakers, model, epochs=2, lr=5.0, seed=0)
    assert card.training is not None and card.pretrained is not None
    (member,) = card.training.members
    assert member.best_epoch == 0 and member.start_val_eer is not None
    assert member.val_eer == member.start_val_eer
    assert all(eer is None or eer >= member.start_val_eer for eer in member.val_eer_per_epoch)
    start, kept = load_torch_encoder(shipped_model("audio")).state_dict(), load_torch_encoder(model).state_dict()
    assert all(torch.equal(start[name], kept[name]) for name in start)
    assert all(torch.equal(kept[f"linear.{part}"], kept[f"adapted.{part}"]) for part in ("weight", "bias"))
    clips = sorted(speakers.rglob("*.wav"))[:6]
    pretrained, wrecked = load_model("default:audio").embed(clips), load_model(model).embed(clips)
    distances = [np.linalg.norm(e[:, None] - e[None], axis=2) for e in (pretrained, wrecked)]
    np.testing.assert_allclose(distances[0], distances[1], atol=1e-5)


def test_fine_tuning_adapts_its_own_projection_only(speakers: Path, tmp_path: Path) -> None:
    model = tmp_path / "tuned.model"
    card = siamcli_api.train("voices", speakers, model, epochs=3, seed=0)
    (member,) = card.training.members if card.training else []
    assert member.val_eer is not None and member.start_val_eer is not None
    assert member.val_eer <= member.start_val_eer
    start, tuned = load_torch_encoder(shipped_model("audio")).state_dict(), load_torch_encoder(model).state_dict()
    assert all(torch.equal(start[name], tuned[name]) for name in start)  # the LSTMs and the pretrained projection
    assert card.embedding_dim == 512 and card.encoder.params["adapted"] is True
    assert card.training is not None and card.training.config["start_from"] == "default:audio"
    result = siamcli("train", "voices", str(speakers), "-o", str(tmp_path / "x.model"), "--embedding-dim", "64")
    assert_clean_error(result, "train voices: fine-tunes default:audio")


def test_galleries_of_the_retired_voice_model_keep_working(tmp_path: Path) -> None:
    (retired_path,) = [path for path in retired_models() if "voices" in path.name]
    retired = load_model(retired_path)
    assert retired.card.encoder.params["member"]["name"] in ("tdnn-xvector", "audio-cnn")
    clip = tmp_path / "bob.wav"
    soundfile.write(clip, synthetic_voice(3, 1, RATE), RATE)
    gallery = tmp_path / "old.db"
    with Gallery.open(gallery, create=True) as opened:  # as the previous shipped model enrolled bob
        opened.enroll(
            model_ref(retired, "default:audio"), "bob", [NewSample(str(clip), "0" * 64, retired.embed([clip])[0])]
        )
    (verdict,) = json_lines(siamcli("verify", str(clip), "--claim", "bob", "--gallery", str(gallery), "--json"))
    assert verdict["decision"] == "accept" and verdict["distance"] < 1e-4


def test_a_missing_speech_detector_setting_reads_as_before(tmp_path: Path) -> None:
    """Cards written before voice activity detection existed keep their trimming and whole clips."""
    card = read_card(Path(__file__).parent / "fixtures" / "voices-0.1.0.model")
    assert card.preprocessing.keep == "trim-ends" and card.preprocessing.window_frames == 0
    with pytest.raises(ValueError, match="keep .silero. not supported"):
        type(card.preprocessing)(keep="silero")

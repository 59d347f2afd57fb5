"""The shipped voice model against the package its weights were converted from: Resemblyzer 0.1.4.

Skipped where Resemblyzer is not installed (`pip install --no-deps resemblyzer==0.1.4`; .ci/run
installs it). Its own code computes the reference: its VoiceEncoder on the same mel windows, its
mel spectrogram on the same audio, and its whole pipeline on real LibriSpeech readers."""

from __future__ import annotations

import hashlib
import importlib.util

import numpy as np
import pytest

from siamcli.modalities.audio.features import mel_spectrogram
from siamcli.model import load_model
from siamcli.recipes import VOICE_PREPROCESSING
from tests.test_voices import speech_burst

if importlib.util.find_spec("resemblyzer") is None:
    pytest.skip(
        "resemblyzer is not installed (pip install --no-deps resemblyzer==0.1.4): nothing to compare with",
        allow_module_level=True,
    )

import torch
from resemblyzer import VoiceEncoder, audio, preprocess_wav


@pytest.fixture(scope="module")
def reference() -> VoiceEncoder:
    return VoiceEncoder(device="cpu", verbose=False)


def test_the_weights_are_the_packages_own(reference: VoiceEncoder) -> None:
    card = load_model("default:audio").card
    weights = importlib.util.find_spec("resemblyzer").submodule_search_locations[0] + "/pretrained.pt"
    with open(weights, "rb") as file:
        assert card.pretrained is not None and card.pretrained.sha256 == hashlib.sha256(file.read()).hexdigest()


def test_same_windows_same_embeddings(reference: VoiceEncoder) -> None:
    """The converted ONNX graph and Resemblyzer's torch network on the same mel windows."""
    model = load_model("default:audio")
    rng = np.random.default_rng(0)
    signal = np.concatenate([speech_burst(1.0, pitch) for pitch in (110, 140, 190, 230)])
    signal += 0.01 * rng.standard_normal(signal.size).astype(np.float32)
    mel = audio.wav_to_mel_spectrogram(signal)  # (frames, 40), Resemblyzer's own features
    windows = np.stack([mel[start : start + 160] for start in range(0, mel.shape[0] - 160, 40)])
    with torch.no_grad():
        expected = reference(torch.from_numpy(windows)).numpy()
    ours = model.encoder(np.ascontiguousarray(windows.transpose(0, 2, 1)))
    cosines = np.sum(ours * expected, axis=1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(expected, axis=1)
    assert len(windows) >= 5 and cosines.min() > 0.99999


def test_same_audio_same_mel_spectrogram() -> None:
    signal = np.concatenate([speech_burst(0.7, 120), speech_burst(0.9, 210)])
    expected = audio.wav_to_mel_spectrogram(signal).T
    ours = mel_spectrogram(signal, VOICE_PREPROCESSING)
    assert ours.shape == expected.shape
    assert np.abs(ours - expected).max() <= 1e-5 * expected.max()


def test_real_readers_embed_as_resemblyzer_embeds_them(reference: VoiceEncoder) -> None:
    """Whole pipelines on real speech: resampling, loudness, VAD and windows differ in details (our
    detector smooths over 3 frames, not 8; our windows sit side by side), the voice does not."""
    from tests.conftest import shared_dataset

    readers = shared_dataset("librispeech_10spk")
    paths = sorted(readers.rglob("*.flac"))[::7]
    ours = load_model("default:audio").embed(paths)
    theirs = np.stack([reference.embed_utterance(preprocess_wav(path)) for path in paths])
    cosines = np.sum(ours * theirs, axis=1)
    # Measured 2026-12-01: median 0.990, lowest 0.972 of 15 utterances.
    assert np.median(cosines) > 0.98 and cosines.min() > 0.9

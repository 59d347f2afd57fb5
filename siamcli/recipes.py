"""Recipes: what `siamcli train KIND` means. One entry per kind names its modality, encoder,
preprocessing, augmentation, loss, miner and training defaults; the command line's kinds, their help
and their defaults all come from this table. Adding a kind is one `register_recipe` call.

Defaults here are the ones measured in benchmarks/; options on the command line override them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from siamcli.core.registry import Spec
from siamcli.errors import SiamcliError, SiamcliWarning
from siamcli.modalities.audio import AudioPreprocessing, SpectrogramAugmentation
from siamcli.modalities.image import ImageAugmentation, ImagePreprocessing
from siamcli.trainconfig import TrainConfig


@dataclass(frozen=True)
class Recipe:
    kind: str
    summary: str  # what the samples are, for --help
    modality: str
    preprocessing: Any  # the modality's preprocessing dataclass
    # Encoder, augmentation, loss, miner, distance and every default of the run; a pretrained start
    # (`start_from`, a shipped model default:<modality>) is never ended worse than on the held-out identities.
    training: TrainConfig
    hold_out_validation: bool = True  # by default, a fifth of the identities watch over training
    from_scratch: Recipe | None = None  # what `train KIND --from-scratch` trains instead

    def scratch(self) -> Recipe:
        if self.from_scratch is None:
            raise SiamcliError(f"train {self.kind}: --from-scratch is for kinds that start from a pretrained encoder")
        return self.from_scratch


RECIPES: dict[str, Recipe] = {}
RENAMED = {"audio": "sounds"}  # kinds of earlier versions: `train audio` is today's `train sounds`


def register_recipe(recipe: Recipe) -> Recipe:
    RECIPES[recipe.kind] = recipe
    return recipe


def recipe_for(kind: str) -> Recipe:
    if kind in RENAMED:
        warnings.warn(f"kind '{kind}' is now '{RENAMED[kind]}'", SiamcliWarning, stacklevel=2)
        kind = RENAMED[kind]
    try:
        return RECIPES[kind]
    except KeyError:
        raise SiamcliError(f"unknown kind '{kind}' (known: {', '.join(RECIPES)})") from None


# Fine-tuning a pretrained encoder: one member, the whole schedule (chosen for voices, see below).
FINE_TUNING = {"members": 1, "epochs": 20, "patience": 20, "lr": 1e-3, "samples_per_identity": 4}
SMALL_FACES = Recipe(
    kind="faces",
    summary="face photos, tightly cropped (grey, 32x28, mirrored in training)",
    modality="image",
    # Small on purpose. Trained on 20 ORL people and measured on 10 others (never on the test
    # people), a CNN at 32x28 beat the same CNN at 48x40 and 64x52: fewer pixels, less to memorise.
    preprocessing=ImagePreprocessing(size=(32, 28)),
    training=TrainConfig(Spec("small-vgg", {"embedding_dim": 64, "width": 16, "dropout": 0.3}), ImageAugmentation()),
)
DLIB_RESNET = Spec("dlib-resnet", {"embedding_dim": 128})  # the shipped one
FACE_PREPROCESSING = ImagePreprocessing(
    size=(150, 150), colour="rgb", fit="face-chip", normalise="dlib-mean", mirror_average=True
)
register_recipe(
    Recipe(
        kind="faces",
        summary="faces in photos (found, aligned; dlib's pretrained face encoder, fine-tuned)",
        modality="image",
        preprocessing=FACE_PREPROCESSING,
        # As for voices: a second projection beside the pretrained one, one member, the whole schedule.
        training=TrainConfig(
            DLIB_RESNET.with_params(adapted=True),
            # Chips are aligned already: small warps only, and mirror images (faces are nearly symmetric).
            ImageAugmentation(max_rotation_deg=5.0, scale_range=(0.95, 1.05), max_shift=0.03),
            start_from="default:image",
            **FINE_TUNING,
        ),
        from_scratch=SMALL_FACES,
    )
)
register_recipe(
    Recipe(
        kind="images",
        summary="characters, signatures, logos: anything but faces (grey 32x32, trimmed to the drawing, not mirrored)",
        modality="image",
        # Trimmed to the drawing and letterboxed, never cropped: a glyph's ends or a logo's edge are part
        # of what it is, and where it sits on the page is not.
        preprocessing=ImagePreprocessing(size=(32, 32), fit="content"),
        training=TrainConfig(
            # Mirror images are other characters (b and d): no mirroring in training or inference.
            Spec(
                "small-vgg", {"embedding_dim": 128, "width": 32, "blocks": 3, "dropout": 0.1, "mirror_average": False}
            ),
            ImageAugmentation(
                max_rotation_deg=10.0,
                scale_range=(0.85, 1.15),
                max_shift=0.08,
                mirror=False,
                max_gamma=1.3,
                stroke=True,
                turns_as_identities=True,
            ),
            # Every pair of the batch in one softmax: on benchmarks/omniglot.py's split, 10 epochs, 20-way
            # within unseen alphabets went from 81.0% (the contrastive loss over hard impostors) to 90.1%.
            loss=Spec("supervised-contrastive", {"temperature": 0.1}),
            miner=Spec("all-pairs"),
            # 11 epochs: all 30 of Omniglot's background alphabets (964 characters) train in 12.8 min on
            # a 2-core CPU, inside the 15 aimed at; 14 took 11.8 min on 24 of them but would take 16 on all.
            members=1,
            epochs=11,
            patience=11,
            lr=3e-3,
            batch_size=128,
            samples_per_identity=4,
            mixed_precision=True,
        ),
    )
)
GE2E = Spec("ge2e-lstm", {"n_mels": 40, "hidden": 256, "layers": 3, "embedding_dim": 256})  # the shipped one
VOICE_PREPROCESSING = AudioPreprocessing(
    # GE2E's front end, as Resemblyzer trained it: 16 kHz, 25 ms windows every 10 ms, 40 mel bands of
    # power (not log), quiet clips raised to -30 dBFS. 8 kHz telephone audio is upsampled: the bands
    # above 4 kHz stay empty; benchmarks/voices.py measures what that costs (LibriSpeech at 8 kHz).
    sample_rate=16000,
    features="mel",
    n_fft=400,
    win_length=400,
    hop_length=160,
    n_mels=40,
    fmin=0.0,
    fmax=8000.0,
    keep="webrtc-vad",
    loudness_dbfs=-30.0,
    # Of speech as the detector judged it, three of its frames: 2 of fsdd_speakers' 3,000 spoken digits
    # have less (at 0.15 s, 22 would).
    min_seconds=0.09,
    # 1.6 s, the length it was trained on, side by side: on librispeech_10spk and speechocean_train,
    # windows 0.4, 0.77 (Resemblyzer's) or 0.8 s apart were no better, and two to four times slower.
    window_frames=160,
    window_step=160,
)
register_recipe(
    Recipe(
        kind="voices",
        summary="who is speaking (GE2E's pretrained speaker encoder, fine-tuned)",
        modality="audio",
        preprocessing=VOICE_PREPROCESSING,
        # Fine-tuning trains a second projection beside the pretrained one (`adapted`), one member, the
        # whole schedule. Chosen on speechocean_train's 80 training speakers only (the benchmark's 20
        # test speakers never looked at), in 5 folds of 16 kept out of training, EER on each fold:
        # - the pair, lr 1e-3, 20 epochs: lower in all 5 (5.87 -> 5.55, 7.22 -> 6.67, 5.15 -> 4.83,
        #   3.47 -> 2.74, 7.05 -> 6.11%);
        # - the pretrained projection itself tuned instead: lower in 3, the start kept in 1, higher in 1;
        #   at lr 3e-4, or stopped after 6 epochs without progress (the first epochs at the peak rate
        #   are worse than the start), nothing beat the start; the LSTMs tuned too (lr 1e-4): worse.
        training=TrainConfig(
            GE2E.with_params(adapted=True),
            SpectrogramAugmentation(crop_frames=(160, 160), max_bands=0, max_time_fraction=0.0),
            start_from="default:audio",
            **FINE_TUNING,
        ),
    )
)
register_recipe(
    Recipe(
        kind="sounds",
        summary="other sounds: barks, meows, machines (log-mel at 8 kHz, any length, trained from scratch)",
        modality="audio",
        preprocessing=AudioPreprocessing(),
        training=TrainConfig(
            Spec("tdnn-xvector", {"embedding_dim": 64, "width": 64, "dropout": 0.2}),
            SpectrogramAugmentation(),
            members=4,
            epochs=60,
            samples_per_identity=8,
        ),
        # Measured on speakers kept out of training: two held-out speakers of half-second digits gave a
        # validation EER near 45% whatever the epoch, so early stopping chose at random and the
        # threshold calibrated on them accepted almost every impostor. The full schedule, no held-out
        # speakers, and `siamcli calibrate` on your own speakers did far better.
        hold_out_validation=False,
    )
)


def default_text(name: str) -> str:
    """A setting's default for --help: one value, or one per kind where the kinds differ."""

    def text(value: Any) -> str:
        return "none" if value is None else f"{value:g}"

    values = {kind: getattr(recipe.training, name) for kind, recipe in RECIPES.items()}
    if len(set(values.values())) == 1:
        return text(next(iter(values.values())))
    return ", ".join(f"{kind} {text(v)}" for kind, v in values.items())


# Held-out identities rank epochs and calibrate the threshold; a hundred (thousands of pairs' scores)
# do both, and every identity beyond them is better spent training (Omniglot: 770 characters).
MOST_VAL_IDENTITIES = 100


def default_val_identities(recipe: Recipe, n_identities: int) -> int:
    """A fifth of the identities (at least 2, at most 100) watch over training; below 4 identities,
    none can be spared."""
    if not recipe.hold_out_validation or n_identities < 4:
        return 0
    return min(max(2, round(0.2 * n_identities)), MOST_VAL_IDENTITIES)

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from siamcli.recipes import RECIPES, default_text
from siamcli.trainconfig import UserSetting, user_settings

KINDS = "; ".join(f"{kind}: {recipe.summary}" for kind, recipe in RECIPES.items())
LIVENESS = "liveness: adapt the liveness model to your camera (DATA_DIR holds live/ and spoof/ frames)"
LIVENESS_SETTINGS = ("epochs", "lr", "batch_size", "seed")


def _setting_option(setting: UserSetting) -> inspect.Parameter:
    """A `siamcli train --NAME` option for a training setting, its default shown as each kind has it."""
    default = "the recipe's" if setting.name == "embedding_dim" else default_text(setting.name)
    if setting.name == "far" and default == "none":
        default = "equal-error point"
    option = typer.Option(min=setting.low, max=setting.high, help=f"{setting.help[:-1]} \\[default: {default}].")
    return inspect.Parameter(
        setting.name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[setting.type], option]
    )


def train_command(
    kind: Annotated[
        str,
        typer.Argument(help=f"What the samples are: {KINDS}; {LIVENESS}.", metavar="|".join([*RECIPES, "liveness"])),
    ],
    data_dir: Annotated[
        Path, typer.Argument(help="Folder with one subfolder per identity (liveness: live/ and spoof/).")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Model file to write (safetensors).")],
    *,
    val_identities: Annotated[
        Optional[int],
        typer.Option(
            min=0,
            help="Identities held out for early stopping and calibration \\[default: "
            + ", ".join(f"{k} {'a fifth, 2 to 100' if r.hold_out_validation else 'none'}" for k, r in RECIPES.items())
            + "].",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Processes training side by side on this machine (torch.distributed; across machines, start "
            "siamcli with torchrun instead).",
        ),
    ] = 1,
    device: Annotated[
        str, typer.Option(help="cpu, cuda, or auto: a GPU when torch sees one.", metavar="auto|cpu|cuda")
    ] = "auto",
    from_scratch: Annotated[
        bool,
        typer.Option(
            "--from-scratch",
            help="faces: train the small grey CNN from random weights instead of fine-tuning the pretrained "
            "encoder (fast; no face detection: for tight crops).",
        ),
    ] = False,
    **settings: Any,
) -> None:
    """Train a shared-weight encoder with the contrastive loss and write it, calibrated, to one model file.

    Identities are split, never samples: those held out for validation are never trained on.

    liveness fine-tunes the liveness model on DATA_DIR/live and DATA_DIR/spoof (frames, or one subfolder
    per subject), holding out whole subjects (--val-identities, default a quarter) to keep epochs and set
    its threshold; use the result with --liveness-model.
    """
    if kind == "liveness":
        if from_scratch or workers != 1 or device == "cuda":
            raise _liveness_refuses("--from-scratch, --workers or --device cuda")
        given = [name for name, value in settings.items() if value is not None and name not in LIVENESS_SETTINGS]
        if given:
            raise _liveness_refuses(f"--{given[0].replace('_', '-')}")
        _train_liveness(data_dir, output, val_identities, {k: v for k, v in settings.items() if v is not None})
        return
    from siamcli.cli.output import note
    from siamcli.cli.progress import EpochProgress
    from siamcli.usecases.fit import fit

    with EpochProgress() as progress:
        card = fit(
            kind,
            data_dir,
            output,
            val_identities=val_identities,
            from_scratch=from_scratch,
            workers=workers,
            device=device,
            on_epoch=progress.update,
            **settings,
        )
    if card is None:  # a torchrun worker other than rank 0, which writes the model and says so
        return
    training, threshold = card.training, card.threshold
    assert training is not None
    epochs_run = ", ".join(f"{m.best_epoch}/{m.epochs_run}" for m in training.members)
    val = "" if training.val_eer is None else f"validation EER {training.val_eer:.2%}, "
    note(
        f"wrote {output}: {len(training.members)} member(s), best/run epochs {epochs_run}, {val}"
        f"threshold {threshold.value:.4f} at {threshold.operating_point}, {training.wall_seconds:.0f} s"
    )
    if card.open_set is None:
        note(
            "1:N not calibrated: too few held-out identities to draw galleries and strangers from, so verify "
            f"without --claim uses the 1:1 threshold (siamcli calibrate {output} MORE_PEOPLE)"
        )
    else:
        largest = max(point.identities for point in card.open_set.points)
        note(f"1:N thresholds at FPIR {card.open_set.fpir:.0%} calibrated for galleries of up to {largest} identities")
    if training.config.get("start_from") is not None and all(m.best_epoch == 0 for m in training.members):
        note(
            "fine-tuning did not beat the pretrained encoder on the held-out identities: "
            f"{output} keeps it as it was (validation EER {training.val_eer:.2%})"
        )
    if not training.val_identities:
        note(
            "the threshold was calibrated on the training identities, which the model separates better than "
            f"strangers: calibrate it on people it never saw (siamcli calibrate {output} OTHER_PEOPLE)"
        )


def _liveness_refuses(option: str) -> Exception:
    from siamcli.errors import SiamcliError

    allowed = ", ".join(f"--{name.replace('_', '-')}" for name in LIVENESS_SETTINGS)
    return SiamcliError(f"train liveness: {option} is not one of its options ({allowed}, --val-identities)")


def _train_liveness(data_dir: Path, output: Path, held_out: int | None, settings: dict[str, Any]) -> None:
    from siamcli.cli.output import note
    from siamcli.usecases.liveness import train_liveness

    def on_epoch(report: Any) -> None:
        kept = "kept" if report.kept else "not better"
        note(
            f"{report.network} epoch {report.epoch}: training loss {report.train_loss:.4f}, "
            f"held-out loss {report.held_out_loss:.4f} ({kept})"
        )

    done = train_liveness(data_dir, output, held_out=held_out, on_epoch=on_epoch, **settings)
    if done.left_out:
        note(f"{done.left_out} frames without a face were left out")
    split = "subjects " + ", ".join(done.held_out_subjects) if done.by_subject else "a fifth of the frames"
    start = "kept the networks it started from: " if done.kept_start else ""
    note(
        f"wrote {done.output}: {start}held-out ({split}) ACER {done.acer:.2%} (APCER {done.apcer:.2%}, "
        f"BPCER {done.bpcer:.2%}) at threshold {done.threshold:.4f}, from {done.start_acer:.2%} before; "
        f"{done.frames} frames, {done.seconds:.0f} s"
    )


# typer reads a command's options from its signature: the training settings' come from TrainConfig, one
# option each, so that a new setting needs no line here.
def _with_setting_options(command: Callable[..., None]) -> None:
    fixed = inspect.signature(command, eval_str=True).parameters.values()
    parameters = [p for p in fixed if p.kind != inspect.Parameter.VAR_KEYWORD] + [
        _setting_option(setting) for setting in user_settings()
    ]
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}


_with_setting_options(train_command)

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from siamcli.recipes import RECIPES, default_text

KINDS = "; ".join(f"{kind}: {recipe.summary}" for kind, recipe in RECIPES.items())


def train_command(
    kind: Annotated[str, typer.Argument(help=f"What the samples are: {KINDS}.", metavar="|".join(RECIPES))],
    data_dir: Annotated[Path, typer.Argument(help="Folder with one subfolder per identity.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Model file to write (safetensors).")],
    epochs: Annotated[
        Optional[int], typer.Option(min=1, help=f"Most epochs to run \\[default: {default_text('epochs')}].")
    ] = None,
    patience: Annotated[
        Optional[int],
        typer.Option(
            min=1,
            help="Stop after this many epochs without a better validation EER "
            f"\\[default: {default_text('patience')}].",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the identity split, batches, augmentation and weights.")] = 0,
    batch_size: Annotated[
        Optional[int], typer.Option(min=4, help=f"Samples per batch \\[default: {default_text('batch_size')}].")
    ] = None,
    samples_per_identity: Annotated[
        Optional[int],
        typer.Option(
            min=2, help=f"Samples of each identity in a batch \\[default: {default_text('samples_per_identity')}]."
        ),
    ] = None,
    lr: Annotated[
        Optional[float], typer.Option(min=0.0, help=f"Peak learning rate \\[default: {default_text('lr')}].")
    ] = None,
    members: Annotated[
        Optional[int],
        typer.Option(
            min=1, help=f"Networks trained from their own seeds, then ensembled \\[default: {default_text('members')}]."
        ),
    ] = None,
    margin: Annotated[
        Optional[float], typer.Option(min=0.0, help=f"Contrastive margin \\[default: {default_text('margin')}].")
    ] = None,
    embedding_dim: Annotated[
        Optional[int], typer.Option(min=2, help="Size of each member's embedding \\[default: the recipe's].")
    ] = None,
    val_identities: Annotated[
        Optional[int],
        typer.Option(
            min=0,
            help="Identities held out for early stopping and calibration \\[default: "
            + ", ".join(f"{k} {'a fifth, 2 to 100' if r.hold_out_validation else 'none'}" for k, r in RECIPES.items())
            + "].",
        ),
    ] = None,
    far: Annotated[
        Optional[float],
        typer.Option(
            min=0.0, max=0.5, help="Calibrate the threshold at this false-accept rate \\[default: equal-error point]."
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
) -> None:
    """Train a shared-weight encoder with the contrastive loss and write it, calibrated, to one model file.

    Identities are split, never samples: those held out for validation are never trained on.
    """
    from siamcli.cli.output import note
    from siamcli.cli.progress import EpochProgress
    from siamcli.trainconfig import TrainSettings
    from siamcli.usecases.fit import fit

    settings = TrainSettings(
        seed=seed,
        epochs=epochs,
        patience=patience,
        batch_size=batch_size,
        samples_per_identity=samples_per_identity,
        lr=lr,
        members=members,
        margin=margin,
        embedding_dim=embedding_dim,
        far=far,
    )
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

"""Train a model on a folder of identities and write the model file: `siamcli train KIND DATA -o MODEL`."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from siamcli.data.dataset import Dataset, require_pairs_possible, scan_dataset, split_identities
from siamcli.errors import SiamcliError
from siamcli.modalities import Decoded, get_modality
from siamcli.modelcard import CalibratedOn, ModelCard, ThresholdRecord, TrainingRecord, now
from siamcli.recipes import Recipe, default_val_identities, recipe_for


def fit(
    kind: str,
    data_dir: Path,
    output: Path,
    *,
    seed: int = 0,
    epochs: int | None = None,
    patience: int | None = None,
    batch_size: int | None = None,
    samples_per_identity: int | None = None,
    lr: float | None = None,
    members: int | None = None,
    margin: float | None = None,
    embedding_dim: int | None = None,
    val_identities: int | None = None,
    far: float | None = None,
    on_epoch: Callable[[Any], None] = lambda report: None,
) -> ModelCard:
    """Train the recipe of `kind` on DATA_DIR's identities and write the model file to `output`.

    None leaves a setting at the recipe's default. Identities are split, never samples: those held
    out (`val_identities`) pick each member's epoch and calibrate the threshold. Nothing is written
    if anything fails. `on_epoch` receives a training.EpochReport after each epoch of each member.
    """
    from siamcli.modelfile import write_model
    from siamcli.training import train

    recipe = recipe_for(kind)
    _check_output(Path(output))
    dataset = scan_dataset(Path(data_dir), get_modality(recipe.modality).suffixes)
    require_pairs_possible(dataset)
    n_val = default_val_identities(recipe, len(dataset.identities)) if val_identities is None else val_identities
    if len(dataset.identities) - n_val < 2:
        raise SiamcliError(
            f"{data_dir}: {len(dataset.identities)} identities leave fewer than 2 for training "
            f"after holding out {n_val} for validation; lower --val-identities"
        )
    config = recipe.config(
        seed=seed,
        margin=margin,
        embedding_dim=embedding_dim,
        target_far=far,
        epochs=epochs,
        patience=patience,
        batch_size=batch_size,
        samples_per_identity=samples_per_identity,
        lr=lr,
        members=members,
    )
    train_names, val_names = split_identities(dataset.names, n_val, seed)

    started = time.perf_counter()
    train_set = _decode(recipe, dataset, train_names)
    val_set = _decode(recipe, dataset, val_names) if val_names else None
    result = train(config, train_set, val_set, on_epoch)

    source = "validation identities" if val_names else "training identities (none held out)"
    card = ModelCard(
        modality=recipe.modality,
        kind=recipe.kind,
        encoder=result.encoder_spec,
        embedding_dim=result.embedding_dim,
        preprocessing=recipe.preprocessing,
        distance=config.distance,
        threshold=ThresholdRecord.of(result.threshold, CalibratedOn(source, calibrated=now())),
        training=TrainingRecord(
            data=str(Path(data_dir).resolve()),
            identities=len(dataset.identities),
            samples=dataset.n_samples,
            train_identities=train_names,
            val_identities=val_names,
            config=config.settings(),
            loss=config.loss,
            miner=config.miner,
            augmentation=config.augmentation,
            val_eer=result.val_eer,
            seconds=round(result.seconds, 1),
            members=result.member_records(),
            wall_seconds=round(time.perf_counter() - started, 1),
        ),
        created=now(),
    )
    write_model(Path(output), result.encoder, card)
    return card


def _check_output(output: Path) -> None:
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise SiamcliError(f"{output}: folder {folder} does not exist")
    if output.is_dir():
        raise SiamcliError(f"{output}: is a folder; give a file name for the model")


def _decode(recipe: Recipe, dataset: Dataset, names: list[str]) -> Decoded:
    paths, labels = dataset.subset(names).samples()
    return get_modality(recipe.modality).decode(paths, labels, recipe.preprocessing)

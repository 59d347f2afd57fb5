"""Train a model on a folder of identities and write the model file: `siamcli train KIND DATA -o MODEL`."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from siamcli.core.openset import DEFAULT_FPIR
from siamcli.core.registry import Spec
from siamcli.cpus import sleep_while_waiting
from siamcli.data.dataset import (
    Dataset,
    require_pairs_left,
    require_pairs_possible,
    scan_dataset,
    split_identities,
)
from siamcli.errors import SiamcliError
from siamcli.modalities import Decoded, get_modality
from siamcli.modalities.base import warn_left_out
from siamcli.modelcard import CalibratedOn, ModelCard, OpenSetRecord, ThresholdRecord, TrainingRecord, now
from siamcli.modelfile import read_torch_weights
from siamcli.models import model_location
from siamcli.recipes import Recipe, default_val_identities, recipe_for

if TYPE_CHECKING:
    from siamcli.training import EpochReport


def fit(
    kind: str,
    data_dir: Path | str,
    output: Path | str,
    *,
    val_identities: int | None = None,
    from_scratch: bool = False,
    workers: int = 1,
    device: str = "auto",
    on_epoch: Callable[[EpochReport], None] = lambda report: None,
    **settings: Any,
) -> ModelCard | None:
    """Train the recipe of `kind` on DATA_DIR's identities and write the model file to `output`.

    `settings` change the recipe's defaults, by `siamcli train`'s names (trainconfig.user_settings:
    seed, epochs, patience, batch_size, samples_per_identity, lr, members, far, margin, embedding_dim);
    None leaves one as it is. Identities are split,
    never samples: those held out (`val_identities`, default: the recipe's) pick each member's epoch
    and calibrate the threshold. `from_scratch`: the kind's recipe without a pretrained encoder (faces:
    the small grey CNN). Nothing is written if anything fails. `on_epoch` receives a
    training.EpochReport after each epoch of each member.

    `workers` processes train side by side on this machine (torch.distributed, gloo on CPU, NCCL on
    GPUs); under torchrun, its processes do, and every one but rank 0 returns None without writing.
    `device`: cpu, cuda, or auto (a GPU when torch sees one).
    """
    _require_training_packages()
    sleep_while_waiting()  # before torch loads
    from siamcli.distributed import choose_device
    from siamcli.modelfile import write_model
    from siamcli.training import Parts, loss_and_miner, train

    recipe = recipe_for(kind)
    if from_scratch:
        recipe = recipe.scratch()
    if workers < 1:
        raise SiamcliError(f"--workers {workers}: at least 1")
    choose_device(device)  # refused before any sample is decoded
    try:
        config = recipe.training.with_settings(**settings)
        loss, miner = loss_and_miner(config)
    except (TypeError, ValueError) as error:  # a setting out of range, or one the recipe does not know
        raise SiamcliError(f"train {kind}: {error}") from None
    _check_output(Path(output))
    start, start_weights = _starting_point(kind, config.start_from, config.encoder)
    dataset = scan_dataset(Path(data_dir), get_modality(recipe.modality).suffixes)
    require_pairs_possible(dataset)
    n_val = default_val_identities(recipe, len(dataset.identities)) if val_identities is None else val_identities
    if len(dataset.identities) - n_val < 2:
        raise SiamcliError(
            f"{data_dir}: {len(dataset.identities)} identities leave fewer than 2 for training "
            f"after holding out {n_val} for validation; lower --val-identities"
        )
    train_names, val_names = split_identities(dataset.names, n_val, config.seed)

    started = time.perf_counter()
    train_set = _decode(recipe, dataset, train_names)
    val_set = _decode(recipe, dataset, val_names) if val_names else None
    parts = Parts(loss, miner, start_weights)
    result = train(config, train_set, val_set, on_epoch, workers=workers, device=device, parts=parts)
    if result is None:  # a torchrun worker other than rank 0: rank 0 writes the model
        return None

    source = "validation identities" if val_names else "training identities (none held out)"
    calibrated_on = CalibratedOn(source, calibrated=now())
    card = ModelCard(
        modality=recipe.modality,
        kind=recipe.kind,
        encoder=result.encoder_spec,
        embedding_dim=result.embedding_dim,
        preprocessing=recipe.preprocessing,
        distance=config.distance,
        threshold=ThresholdRecord.of(result.threshold, calibrated_on, result.claim_points),
        open_set=OpenSetRecord(DEFAULT_FPIR, result.open_set, calibrated_on) if result.open_set else None,
        training=TrainingRecord(
            data=str(Path(data_dir).resolve()),
            identities=len(dataset.identities),
            samples=dataset.n_samples,
            train_identities=train_names,
            val_identities=val_names,
            config={**config.settings(), "workers": result.workers, "device": result.device},
            loss=config.loss,
            miner=config.miner,
            augmentation=config.augmentation,
            val_eer=result.val_eer,
            seconds=round(result.seconds, 1),
            members=result.member_records(),
            wall_seconds=round(time.perf_counter() - started, 1),
        ),
        created=now(),
        pretrained=None if start is None else start.pretrained,
    )
    write_model(Path(output), result.encoder, card)
    return card


def _require_training_packages() -> None:
    """Training needs PyTorch (and onnx, for the graph every model file carries); inference needs neither,
    so a verify-only install leaves them out."""
    missing = [name for name in ("torch", "onnx") if importlib.util.find_spec(name) is None]
    if missing:
        raise SiamcliError(
            f"training needs {' and '.join(missing)}, which this install of siamcli leaves out: "
            "pip install 'siamcli[train]'"
        )


def _starting_point(kind: str, start_from: str | None, encoder: Spec) -> tuple[ModelCard | None, dict[str, Any] | None]:
    """The card and torch weights of the model training starts from (its file read once), checked to
    have the network being trained; (None, None) from random weights."""
    if start_from is None:
        return None, None
    card, weights = read_torch_weights(model_location(start_from))
    shape = {name: value for name, value in encoder.params.items() if name != "adapted"}
    started = {name: value for name, value in card.encoder.params.items() if name != "adapted"}
    if card.encoder.name != encoder.name or shape != started:
        raise SiamcliError(
            f"train {kind}: fine-tunes {start_from} ({card.encoder.name}, {started}); "
            f"its network cannot become {encoder.name} {shape} (leave --embedding-dim out)"
        )
    return card, weights


def _check_output(output: Path) -> None:
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise SiamcliError(f"{output}: folder {folder} does not exist")
    if output.is_dir():
        raise SiamcliError(f"{output}: is a folder; give a file name for the model")


def _decode(recipe: Recipe, dataset: Dataset, names: list[str]) -> Decoded:
    paths, labels = dataset.subset(names).samples()
    decoded = get_modality(recipe.modality).decode(paths, labels, recipe.preprocessing, skip_empty=True)
    require_pairs_left(dataset.root, decoded.labels, decoded.left_out, len(paths))
    warn_left_out(decoded.left_out, len(paths))
    return decoded

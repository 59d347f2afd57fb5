"""The training loop: PK batches, augmentation, a mined loss (contrastive by default), early stopping
on held-out identities, an ensemble of independently trained members, and a threshold calibrated on
the held-out identities. Reads top to bottom."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from siamcli.core.distances import get_distance
from siamcli.core.encoders import Ensemble, build_encoder
from siamcli.core.losses import LOSSES
from siamcli.core.miners import MINERS
from siamcli.core.openset import DEFAULT_FPIR, ClaimPoint, OperatingPoint, calibrate_claims, calibrate_open_set
from siamcli.core.registry import Spec
from siamcli.core.sampling import identity_batches
from siamcli.core.thresholds import Threshold, calibrate, equal_error_rate
from siamcli.core.trials import Trials
from siamcli.distributed import Group, training_group
from siamcli.errors import SiamcliError
from siamcli.modalities import Decoded, import_encoders
from siamcli.modalities.base import embed_all
from siamcli.modelcard import MemberRecord
from siamcli.trainconfig import TrainConfig


@dataclass
class EpochReport:
    member: int  # 0-based, among `members`
    members: int
    epoch: int  # 1-based, among `epochs`
    epochs: int
    loss: float
    val_eer: float | None
    best_epoch: int
    seconds: float


@dataclass
class MemberResult:
    encoder: torch.nn.Module
    best_epoch: int  # 0: the starting weights, which no epoch beat
    val_eer: float | None
    history: list[EpochReport]
    start_val_eer: float | None = None  # of the pretrained weights it started from


@dataclass
class TrainResult:
    encoder: torch.nn.Module
    encoder_spec: Spec  # rebuilds `encoder`
    embedding_dim: int
    threshold: Threshold
    claim_points: list[ClaimPoint]  # 1:1 thresholds for claims of several samples, at the threshold's FAR
    open_set: list[OperatingPoint]  # 1:N thresholds at DEFAULT_FPIR; empty where too few identities
    val_eer: float | None  # of the final (ensembled) encoder
    seconds: float
    members: list[MemberResult]
    workers: int = 1  # processes that trained it
    device: str = "cpu"

    def member_records(self) -> list[MemberRecord]:
        return [
            MemberRecord(
                best_epoch=m.best_epoch,
                epochs_run=len(m.history),
                val_eer=m.val_eer,
                loss_per_epoch=[round(r.loss, 5) for r in m.history],
                val_eer_per_epoch=[None if r.val_eer is None else round(r.val_eer, 5) for r in m.history],
                start_val_eer=None if m.start_val_eer is None else round(m.start_val_eer, 5),
            )
            for m in self.members
        ]


@torch.no_grad()
def embed_decoded(encoder: torch.nn.Module, decoded: Decoded, batch_size: int = 256) -> np.ndarray:
    encoder.eval()
    device = next(encoder.parameters()).device
    return embed_all(decoded, lambda batch: encoder(torch.from_numpy(batch).to(device)).cpu().numpy(), batch_size)


def all_trials(encoder: torch.nn.Module, decoded: Decoded, distance: str) -> Trials:
    return Trials.all_pairs(embed_decoded(encoder, decoded), decoded.labels, get_distance(distance))


def validation_eer(encoder: torch.nn.Module, val_set: Decoded, distance: str) -> float:
    return equal_error_rate(all_trials(encoder, val_set, distance))[0]


def bfloat16_is_native(device: torch.device) -> bool:
    """Whether `device` computes bfloat16 in hardware: elsewhere torch emulates it, slower than float32."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:  # AVX512-BF16 or AMX, as oneDNN sees them; a build without oneDNN has no such check
        return torch.backends.mkldnn.is_available() and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def forward_precision(config: TrainConfig, device: torch.device) -> torch.autocast:
    """The training forward pass's precision: bfloat16 where the recipe asks for it and the device has it."""
    native = config.mixed_precision and bfloat16_is_native(device)
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=native)


def training_step(
    encoder: torch.nn.Module,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    loss_fn: Any,
    miner: Any,
    optimizer: torch.optim.Optimizer,
    precision: torch.autocast,
) -> float:
    """One step on one batch: embed, mine, the loss, the update; its loss."""
    with precision:  # the loss, its mining and the weights' update stay in float32
        embeddings = encoder(inputs)
    embeddings = embeddings.float()
    loss = loss_fn(embeddings, labels, miner(embeddings, labels))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()


def loss_and_miner(config: TrainConfig) -> tuple[Any, Any]:
    """The configured loss and miner; ValueError when their parameters are out of range."""
    distance = get_distance(config.distance)
    return LOSSES.build(config.loss, distance=distance), MINERS.build(config.miner, distance=distance)


@dataclass(frozen=True)
class Parts:
    """What every member of a run is built from, made once: the loss, its miner, and the weights
    training starts from (None: random)."""

    loss: Any
    miner: Any
    start_weights: dict[str, torch.Tensor] | None = None


def train_member(
    config: TrainConfig,
    member: int,
    train_set: Decoded,
    val_set: Decoded | None,
    on_epoch: Callable[[EpochReport], None],
    group: Group,
    parts: Parts,
) -> MemberResult:
    """One encoder, from its own seed: the loop of every Siamese network, over mined pairs of PK batches.
    Several workers (`group`) each take their share of every epoch's batches and average gradients."""
    seed = config.seed * 1000 + member
    torch.manual_seed(seed)  # the same starting weights in every worker
    rng = np.random.default_rng(seed)  # the same batches drawn in every worker, each taking its share
    generator = torch.Generator().manual_seed(seed + 7919 * group.rank)  # augmented each its own way

    encoder = build_encoder(config.encoder)
    if parts.start_weights is not None:  # an encoder may know how to take in a pretrained network's weights
        getattr(encoder, "load_pretrained", encoder.load_state_dict)(parts.start_weights)
    # Convolutions train about a third faster on the CPU with their weights channels last (small-vgg,
    # batches of 128 images of 28x28; they lay out what they compute so too); other layers are left as they are.
    encoder.to(group.device, memory_format=torch.channels_last)
    replica = group.replica(encoder)
    precision = forward_precision(config, group.device)
    optimizer = torch.optim.AdamW(encoder.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    # A tenth of the schedule warms up; torch divides by zero when that is exactly one step (10 epochs).
    warm_up = 0.1 if config.epochs != 10 else 0.11
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=config.epochs, pct_start=warm_up
    )
    # Never more identities per batch than there are: a batch waiting for a 12th of 11 would never fill.
    n_identities = len(np.unique(train_set.labels))
    identities_per_batch = max(2, min(config.batch_size // config.samples_per_identity, n_identities))

    # Checkpoints are eligible from half-way through the one-cycle schedule: before that, a barely
    # trained network's near-random features can win on a few validation people by luck (seen on ORL:
    # an epoch-7 network "won" on 6 people and was far worse on everyone else). A pretrained start is
    # no such luck: it is epoch 0, and the run only keeps an epoch that does better on the held-out
    # identities, so fine-tuning never ends worse than it started.
    first_eligible = 1 if config.start_from is not None else max(1, config.epochs // 2)
    start = time.perf_counter()
    best_state: dict[str, Any] = {}
    best_eer, best_epoch, start_eer = float("inf"), 0, None
    if config.start_from is not None and val_set is not None:
        best_state = copy.deepcopy(encoder.state_dict())
        best_eer = start_eer = group.from_leader(lambda: validation_eer(encoder, val_set, config.distance))
    history: list[EpochReport] = []
    for epoch in range(1, config.epochs + 1):
        replica.train()
        losses = []
        batches = list(identity_batches(train_set.labels, identities_per_batch, config.samples_per_identity, rng))
        for batch in group.share(batches):
            inputs = train_set.training_batch(batch, generator, config.augmentation).to(group.device)
            labels = torch.from_numpy(train_set.labels[batch]).to(group.device)
            losses.append(training_step(replica, inputs, labels, parts.loss, parts.miner, optimizer, precision))
        scheduler.step()  # one step per epoch: the schedule spans the epoch budget

        val_eer = None
        if val_set is not None:
            val_eer = group.from_leader(lambda: validation_eer(encoder, val_set, config.distance))
        eligible = epoch >= first_eligible
        # Ties go to the later, better-trained epoch; without validation the last epoch is kept.
        if eligible and (val_eer is None or val_eer < best_eer or (val_eer == best_eer and best_epoch > 0)):
            best_state, best_epoch = copy.deepcopy(encoder.state_dict()), epoch
            best_eer = best_eer if val_eer is None else val_eer
        epoch_loss = group.mean(float(np.mean(losses)))  # every worker sees the same, and stops alike
        if not math.isfinite(epoch_loss):
            raise SiamcliError(
                f"training diverged (member {member + 1}, epoch {epoch}: the loss is {epoch_loss}); "
                f"nothing was written: lower --lr (now {config.lr:g})"
            )
        history.append(
            EpochReport(
                member,
                config.members,
                epoch,
                config.epochs,
                epoch_loss,
                val_eer,
                best_epoch,
                time.perf_counter() - start,
            )
        )
        on_epoch(history[-1])
        if eligible and epoch - best_epoch >= config.patience:
            break

    encoder.load_state_dict(best_state)
    encoder.to(memory_format=torch.contiguous_format)
    return MemberResult(encoder.eval(), best_epoch, None if val_set is None else best_eer, history, start_eer)


def train(
    config: TrainConfig,
    train_set: Decoded,
    val_set: Decoded | None,
    on_epoch: Callable[[EpochReport], None] = lambda report: None,
    *,
    workers: int = 1,
    device: str = "cpu",
    parts: Parts | None = None,
) -> TrainResult | None:
    """Train and calibrate the configured encoder. `workers` local processes train it side by side
    (torch.distributed); under torchrun, torchrun's processes do, and every one but rank 0 gets None.
    `device`: cpu, cuda, or auto (a GPU when torch sees one). `parts`: the loss, the miner and the
    starting weights, when the caller made them already (else the loss and miner here, from random weights)."""
    parts = parts if parts is not None else Parts(*loss_and_miner(config))
    with training_group(workers, device, _follow, (config, train_set, val_set, parts)) as group:
        return _train(config, train_set, val_set, on_epoch, group, parts)


def _follow(group: Group, config: TrainConfig, train_set: Decoded, val_set: Decoded | None, parts: Parts) -> None:
    _train(config, train_set, val_set, lambda report: None, group, parts)


def _train(
    config: TrainConfig,
    train_set: Decoded,
    val_set: Decoded | None,
    on_epoch: Callable[[EpochReport], None],
    group: Group,
    parts: Parts,
) -> TrainResult | None:
    import_encoders()
    start = time.perf_counter()
    report = on_epoch if group.leader else lambda report: None
    drawn_from = train_set.training_identities(config.augmentation)
    members = [train_member(config, m, drawn_from, val_set, report, group, parts) for m in range(config.members)]
    if not group.leader:
        return None
    for member in members:
        member.encoder.cpu()
    if config.members == 1:
        encoder, spec = members[0].encoder, config.encoder
    else:
        member = {"name": config.encoder.name, "params": config.encoder.params}
        spec = Spec("ensemble", {"member": member, "members": config.members})
        encoder = Ensemble(**spec.params)
        for slot, member in zip(encoder.members, members):
            slot.load_state_dict(member.encoder.state_dict())

    # Calibrate on identities the encoder never trained on; without them, on the training identities.
    calibration = val_set if val_set is not None else train_set
    embeddings = embed_decoded(encoder, calibration)
    distance = get_distance(config.distance)
    trials = Trials.all_pairs(embeddings, calibration.labels, distance)
    threshold = calibrate(trials, config.far)
    claim_points = calibrate_claims(embeddings, calibration.labels, distance, max(threshold.far, 1e-9), config.seed)
    try:
        open_set = calibrate_open_set(embeddings, calibration.labels, distance, DEFAULT_FPIR, config.seed)
    except ValueError:  # too few identities to hold a gallery and strangers
        open_set = []
    return TrainResult(
        encoder=encoder.eval(),
        encoder_spec=spec,
        embedding_dim=int(embeddings.shape[1]),
        threshold=threshold,
        claim_points=claim_points,
        open_set=open_set,
        val_eer=None if val_set is None else equal_error_rate(trials)[0],
        seconds=time.perf_counter() - start,
        members=members,
        workers=group.world,
        device=group.device.type,
    )

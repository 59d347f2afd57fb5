"""The training loop: PK batches, augmentation, mined contrastive loss, early stopping on held-out
identities, and a threshold calibrated on them. Reads top to bottom."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from siamcli.core.distances import get_distance
from siamcli.core.encoders import build_encoder
from siamcli.core.losses import ContrastiveLoss
from siamcli.core.miners import PairMiner
from siamcli.core.sampling import identity_batches
from siamcli.core.thresholds import Threshold, calibrate, equal_error_rate
from siamcli.modalities.base import Samples
from siamcli.trainconfig import TrainConfig


@dataclass
class EpochReport:
    epoch: int
    loss: float
    val_eer: float | None
    best_epoch: int
    seconds: float


@dataclass
class TrainResult:
    encoder: torch.nn.Module
    threshold: Threshold
    best_epoch: int
    epochs_run: int
    val_eer: float | None
    seconds: float
    history: list[EpochReport]

    def summary(self) -> dict[str, Any]:
        return {
            "best_epoch": self.best_epoch,
            "epochs_run": self.epochs_run,
            "val_eer": self.val_eer,
            "seconds": round(self.seconds, 1),
            "loss_per_epoch": [round(r.loss, 5) for r in self.history],
            "val_eer_per_epoch": [None if r.val_eer is None else round(r.val_eer, 5) for r in self.history],
        }


@torch.no_grad()
def embed_samples(encoder: torch.nn.Module, samples: Samples, batch_size: int = 256) -> np.ndarray:
    encoder.eval()
    outputs = [encoder(torch.from_numpy(batch)).numpy() for batch in samples.inference_batches(batch_size)]
    return np.concatenate(outputs) if outputs else np.zeros((0, 0), np.float32)


def all_pairs(embeddings: np.ndarray, labels: np.ndarray, distance_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Distances and same-identity flags of every unordered pair of samples."""
    distances = get_distance(distance_name).pairwise(embeddings, embeddings)
    upper = np.triu_indices(len(labels), k=1)
    return distances[upper], (labels[:, None] == labels[None, :])[upper]


def train(
    config: TrainConfig,
    train_samples: Samples,
    val_samples: Samples | None,
    on_epoch: Callable[[EpochReport], None] = lambda report: None,
) -> TrainResult:
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    generator = torch.Generator().manual_seed(config.seed)

    encoder = build_encoder(config.encoder, config.encoder_params)
    distance = get_distance(config.distance)
    miner = PairMiner(distance, config.margin)
    loss_fn = ContrastiveLoss(config.margin)
    optimizer = torch.optim.AdamW(encoder.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=config.epochs, pct_start=0.1
    )
    identities_per_batch = max(2, config.batch_size // config.samples_per_identity)
    # An exponential moving average of the weights is what gets validated and saved: with few
    # training identities, single checkpoints swing widely on unseen people, and the average does not.
    averaged = torch.optim.swa_utils.AveragedModel(
        encoder, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(config.ema_decay), use_buffers=True
    )

    start = time.perf_counter()
    best_state, best_eer, best_epoch = copy.deepcopy(averaged.module.state_dict()), float("inf"), 0
    history: list[EpochReport] = []
    for epoch in range(1, config.epochs + 1):
        encoder.train()
        losses = []
        for batch in identity_batches(train_samples.labels, identities_per_batch, config.samples_per_identity, rng):
            embeddings = encoder(train_samples.training_batch(batch, generator))
            distances, same = miner(embeddings, torch.from_numpy(train_samples.labels[batch]))
            loss = loss_fn(distances, same)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            averaged.update_parameters(encoder)
            losses.append(loss.item())
        scheduler.step()  # one step per epoch: the schedule spans the epoch budget

        val_eer = None
        if val_samples is not None:
            val_pairs = all_pairs(embed_samples(averaged.module, val_samples), val_samples.labels, config.distance)
            val_eer, _ = equal_error_rate(*val_pairs)
            if val_eer <= best_eer:  # ties go to the later, better-trained epoch
                best_state, best_eer, best_epoch = copy.deepcopy(averaged.module.state_dict()), val_eer, epoch
        else:
            best_state, best_epoch = copy.deepcopy(averaged.module.state_dict()), epoch
        history.append(EpochReport(epoch, float(np.mean(losses)), val_eer, best_epoch, time.perf_counter() - start))
        on_epoch(history[-1])
        if epoch - best_epoch >= config.patience:
            break
        if config.time_limit_s is not None and time.perf_counter() - start > config.time_limit_s:
            break

    encoder = averaged.module
    encoder.load_state_dict(best_state)
    # Calibrate on identities the encoder never trained on; without them, on the training identities.
    calibration = val_samples if val_samples is not None else train_samples
    distances, same = all_pairs(embed_samples(encoder, calibration), calibration.labels, config.distance)
    threshold = calibrate(distances, same, config.target_far)
    return TrainResult(
        encoder=encoder.eval(),
        threshold=threshold,
        best_epoch=best_epoch,
        epochs_run=len(history),
        val_eer=None if val_samples is None else best_eer,
        seconds=time.perf_counter() - start,
        history=history,
    )

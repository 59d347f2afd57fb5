"""Fine-tuning a liveness model on the user's own camera, printer and room, top to bottom.

Anti-spoofing networks carry poorly from one camera to another, so the shipped networks are adapted to
the user's recordings: each frame's face is found once and cropped as each network sees it; whole
subjects are held out; each network's head (HEAD) is trained with a class-balanced cross-entropy on
"real or not", the body and batch norm's statistics frozen (a few hundred frames of a few people would
only narrow what millions taught it), and an epoch is kept only when it lowers the held-out subjects'
loss, so that the result is never worse than the start on them.
The threshold is then set on the held-out subjects' scores.
"""

from __future__ import annotations

import copy
import random
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from siamcli.core.encoders import build_encoder
from siamcli.core.registry import Spec
from siamcli.data.liveness import Frame
from siamcli.errors import SiamcliWarning
from siamcli.inference import export_onnx
from siamcli.modalities.base import load_each
from siamcli.modalities.image import liveness_net  # noqa: F401  (registers minifasnet)
from siamcli.modalities.image.liveness import LivenessFile, Network, acer_threshold, frame_crops


@dataclass
class FrameCrops:
    """The faces found in a liveness folder's frames, cropped as each network sees them."""

    frames: list[Frame]  # those with a face, in order
    crops: list[np.ndarray]  # per network: (N, 3, side, side) uint8
    left_out: list[str]  # one line per frame without a face

    @property
    def live(self) -> np.ndarray:
        return np.array([frame.live for frame in self.frames])


def crop_frames(frames: Sequence[Frame], networks: list[Network], workers: int = 2) -> FrameCrops:
    """Each frame's largest face, as each network sees it; the frames without a face left out. A
    second face (a poster behind, a detector's mistake) is not worth a line per frame here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SiamcliWarning)
        loaded, kept, left_out = load_each(
            [f.path for f in frames], lambda p: frame_crops(p, networks)[0], True, workers
        )
    shape = [(0, 3, n.side, n.side) for n in networks]
    crops = [np.stack([c[i] for c in loaded]) if loaded else np.zeros(shape[i], np.uint8) for i in range(len(networks))]
    return FrameCrops([frames[i] for i in kept], crops, left_out)


# What fine-tuning trains: the last projection, its normalisation and the classifier. On nuaa_liveness,
# leaving one subject out of 8 (benchmarks/liveness.py), this scored ACER 0.00% where training every
# layer scored 1.90% (sharper on the subjects it saw, a threshold that refused a new one's live frames).
HEAD = ("linear", "bn", "prob")


@dataclass
class EpochReport:
    network: str
    epoch: int
    train_loss: float
    held_out_loss: float
    kept: bool


def networks_of(file: LivenessFile) -> list[torch.nn.Module]:
    nets = []
    for network in file.card.networks:
        net = build_encoder(Spec("minifasnet", network.architecture))
        net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in file.weights[network.name].items()}, strict=True)
        nets.append(net.eval())
    return nets


def logits_of(net: torch.nn.Module, crops: np.ndarray, batch: int = 128) -> torch.Tensor:
    with torch.no_grad():
        parts = [net(torch.from_numpy(crops[i : i + batch]).float()) for i in range(0, len(crops), batch)]
    return torch.cat(parts) if parts else torch.zeros(0, 3)


def real_probabilities(net: torch.nn.Module, crops: np.ndarray) -> np.ndarray:
    return torch.softmax(logits_of(net, crops), 1)[:, 1].numpy()


def scores_of(nets: Sequence[torch.nn.Module], crops: Sequence[np.ndarray]) -> np.ndarray:
    """The liveness score of each crop: the networks' mean probability of a real face, as inference gives."""
    return np.mean([real_probabilities(net, network_crops) for net, network_crops in zip(nets, crops)], axis=0)


def balanced_loss(logits: torch.Tensor, live: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of "real" (class 1) against the attack classes together, each sample weighted so
    that both classes count alike."""
    log_all = torch.logsumexp(logits, dim=1)
    log_real = logits[:, 1] - log_all
    log_attack = torch.logsumexp(logits[:, [0, 2]], dim=1) - log_all
    return -(weights * torch.where(live, log_real, log_attack)).sum() / weights.sum()


def class_weights(live: np.ndarray) -> np.ndarray:
    count_live, count_spoof = max(int(live.sum()), 1), max(int((~live).sum()), 1)
    return np.where(live, 0.5 / count_live, 0.5 / count_spoof).astype(np.float32)


def augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A mirror image half the time, brightness and contrast within 20%, a shift of up to 4 pixels."""
    n = len(batch)
    flip = torch.rand(n, generator=generator) < 0.5
    batch = torch.where(flip[:, None, None, None], batch.flip(3), batch)
    gain = 0.8 + 0.4 * torch.rand(n, 1, 1, 1, generator=generator)
    mean = batch.mean(dim=(1, 2, 3), keepdim=True)
    offset = 25.5 * (2 * torch.rand(n, 1, 1, 1, generator=generator) - 1)
    batch = ((batch - mean) * gain + mean + offset).clamp(0, 255)
    dx, dy = (int(v) for v in torch.randint(-4, 5, (2,), generator=generator))
    padded = torch.nn.functional.pad(batch, (4, 4, 4, 4), mode="replicate")
    side = batch.shape[-1]
    return padded[:, :, 4 + dy : 4 + dy + side, 4 + dx : 4 + dx + side]


def fine_tune_network(
    net: torch.nn.Module,
    name: str,
    train: tuple[np.ndarray, np.ndarray],
    held_out: tuple[np.ndarray, np.ndarray],
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    on_epoch: Callable[[EpochReport], None],
) -> torch.nn.Module:
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    crops, live = torch.from_numpy(train[0]).float(), torch.from_numpy(train[1])
    weights = torch.from_numpy(class_weights(train[1]))
    held_crops, held_live = held_out
    held_weights = torch.from_numpy(class_weights(held_live))

    def held_out_loss() -> float:
        return float(balanced_loss(logits_of(net, held_crops), torch.from_numpy(held_live), held_weights))

    net.eval()  # batch norm keeps the statistics of the millions of faces it was trained on
    for key, parameter in net.named_parameters():
        parameter.requires_grad = key.split(".")[0] in HEAD
    optimiser = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=lr, weight_decay=1e-4)
    best_loss, best_state = held_out_loss(), copy.deepcopy(net.state_dict())
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(crops), generator=generator)
        total = 0.0
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            loss = balanced_loss(net(augment(crops[batch], generator)), live[batch], weights[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
        loss_now = held_out_loss()
        kept = loss_now < best_loss
        if kept:
            best_loss, best_state = loss_now, copy.deepcopy(net.state_dict())
        on_epoch(EpochReport(name, epoch, total / len(order), loss_now, kept))
    net.load_state_dict(best_state)
    return net.eval()


def held_out_subjects(frames: Sequence[Frame], count: int, seed: int) -> list[str]:
    """`count` subjects, drawn with the seed, among those with both live and spoof frames."""
    both = sorted({f.subject for f in frames if f.live} & {f.subject for f in frames if not f.live})
    return sorted(random.Random(seed).sample(both, min(count, len(both))))


def fine_tune(
    file: LivenessFile,
    data: FrameCrops,
    held_out: Sequence[str],
    *,
    epochs: int = 6,
    lr: float = 1e-3,
    batch_size: int = 32,
    seed: int = 0,
    on_epoch: Callable[[EpochReport], None] = lambda report: None,
) -> tuple[LivenessFile, dict[str, float]]:
    """`file`'s networks fine-tuned on the frames of every subject but `held_out`, each epoch kept
    only if the held-out subjects' loss falls, and the threshold set on the held-out subjects' scores.
    Returns the new file (its card's `fine_tuned` and `calibrated_on` not yet filled) and the
    held-out error rates before and after."""
    live, held_subjects = data.live, set(held_out)
    held = np.array([frame.subject in held_subjects for frame in data.frames])
    nets = networks_of(file)
    before = scores_of(nets, [crops[held] for crops in data.crops])
    graphs, weights, after = {}, {}, []
    for index, (network, net, crops) in enumerate(zip(file.card.networks, nets, data.crops)):
        net = fine_tune_network(
            net,
            network.name,
            (crops[~held], live[~held]),
            (crops[held], live[held]),
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            seed=seed + index,
            on_epoch=on_epoch,
        )
        after.append(real_probabilities(net, crops[held]))
        graphs[network.name] = export_onnx(net, np.zeros((1, 3, network.side, network.side), np.float32), {0: "batch"})
        weights[network.name] = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    threshold, apcer, bpcer = acer_threshold(np.mean(after, axis=0), live[held])
    start_threshold, start_apcer, start_bpcer = acer_threshold(before, live[held])
    rates = {"acer": (apcer + bpcer) / 2, "apcer": apcer, "bpcer": bpcer, "start_acer": (start_apcer + start_bpcer) / 2}
    if rates["acer"] > rates["start_acer"]:  # a lower loss, yet more errors: keep the start
        rates.update(acer=rates["start_acer"], apcer=start_apcer, bpcer=start_bpcer, kept_start=1.0)
        return LivenessFile(replace(file.card, threshold=start_threshold), file.graphs, file.weights), rates
    return LivenessFile(replace(file.card, threshold=threshold), graphs, weights), rates

"""Training across processes with torch.distributed: local workers (`train --workers N`) or torchrun's.

Every process trains a replica of the encoder; DistributedDataParallel averages their gradients
after each step (gloo on CPU, NCCL on GPUs), so the replicas stay one model. Every process draws
the same epoch of identity batches from the same seed and takes its own share of them (rank r the
r-th of every N): no two workers see the same batch. Rank 0 is the process the user started (or
torchrun's first): it alone validates, reports and writes the model.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from siamcli.cpus import available_cpus
from siamcli.errors import SiamcliError

T = TypeVar("T")
DEVICES = ("auto", "cpu", "cuda")
TIMEOUT = timedelta(minutes=30)  # a worker waiting this long for the others gives up


@dataclass(frozen=True)
class Group:
    """This process's place among the training processes."""

    rank: int
    world: int
    device: torch.device

    @property
    def leader(self) -> bool:
        return self.rank == 0

    def replica(self, encoder: torch.nn.Module) -> torch.nn.Module:
        """What training steps go through: the encoder, or (several workers) its gradient-averaging replica."""
        if self.world == 1:
            return encoder
        ids = [self.device.index] if self.device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(encoder, device_ids=ids)

    def share(self, batches: Sequence[T]) -> list[T]:
        """This worker's batches of an epoch: every world-th, as many for each (the rest wait for next epoch)."""
        usable = len(batches) - len(batches) % self.world
        if usable == 0:
            raise SiamcliError(
                f"--workers {self.world}: an epoch has {len(batches)} batch(es) of identities, fewer than the "
                "workers; use fewer workers or a smaller --batch-size"
            )
        return list(batches[self.rank : usable : self.world])

    def mean(self, value: float) -> float:
        """`value` averaged over the workers (the epoch's loss)."""
        if self.world == 1:
            return value
        tensor = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return float(tensor.item()) / self.world

    def from_leader(self, compute: Callable[[], float]) -> float:
        """What rank 0 computes (the validation EER), known to every worker: they keep the same epochs."""
        if self.world == 1:
            return compute()
        tensor = torch.tensor([compute() if self.leader else 0.0], dtype=torch.float64, device=self.device)
        dist.broadcast(tensor, src=0)
        return float(tensor.item())


def choose_device(name: str, local_rank: int = 0) -> torch.device:
    if name not in DEVICES:
        raise SiamcliError(f"--device {name}: unknown (known: {', '.join(DEVICES)})")
    if name == "cuda" and not torch.cuda.is_available():
        raise SiamcliError("--device cuda: torch sees no CUDA GPU here (a CPU build of torch, or no driver)")
    if name == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda", local_rank % torch.cuda.device_count())


def under_torchrun() -> bool:
    return "TORCHELASTIC_RUN_ID" in os.environ or ("RANK" in os.environ and "WORLD_SIZE" in os.environ)


@contextmanager
def training_group(workers: int, device: str, follower: Callable[..., Any], args: tuple[Any, ...]) -> Iterator[Group]:
    """This process's group: alone; the first of `workers` local processes, the others started here to
    run `follower(group, *args)`; or, under torchrun, the place torchrun gave it."""
    if under_torchrun():
        if workers != 1:
            raise SiamcliError("under torchrun, the workers are torchrun's (--nproc-per-node): leave --workers out")
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        chosen = choose_device(device, local_rank)
        _join(chosen, init_method="env://")
        group = Group(dist.get_rank(), dist.get_world_size(), chosen)
        try:
            yield group
            dist.barrier()  # every rank done before any tears its connections down
        finally:
            dist.destroy_process_group()
        return
    chosen = choose_device(device)
    if workers == 1:
        threads = torch.get_num_threads()
        torch.set_num_threads(_threads_each(1))
        try:
            yield Group(0, 1, chosen)
        finally:
            torch.set_num_threads(threads)
        return
    with _local_workers(workers, chosen, follower, args) as group:
        yield group


@contextmanager
def _local_workers(
    workers: int, device: torch.device, follower: Callable[..., Any], args: tuple[Any, ...]
) -> Iterator[Group]:
    address = f"tcp://127.0.0.1:{_free_port()}"
    context = torch.multiprocessing.get_context("spawn")
    others = [
        context.Process(target=_follow, args=(rank, workers, address, device, follower, args), daemon=True)
        for rank in range(1, workers)
    ]
    threads = torch.get_num_threads()
    torch.set_num_threads(_threads_each(workers))
    for process in others:
        process.start()
    try:
        _join(device, init_method=address, rank=0, world_size=workers)
        yield Group(0, workers, device)
        dist.barrier()  # every rank done before any tears its connections down
        for process in others:
            process.join()
        failed = [rank for rank, process in enumerate(others, start=1) if process.exitcode != 0]
        if failed:
            raise SiamcliError(f"training worker(s) {', '.join(map(str, failed))} failed (see above)")
    finally:
        for process in others:
            if process.is_alive():
                process.terminate()
        if dist.is_initialized():
            dist.destroy_process_group()
        torch.set_num_threads(threads)


def _follow(
    rank: int, world: int, address: str, device: torch.device, follower: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    torch.set_num_threads(_threads_each(world))
    if device.type == "cuda":
        device = torch.device("cuda", rank % torch.cuda.device_count())
    _join(device, init_method=address, rank=rank, world_size=world)
    try:
        follower(Group(rank, world, device), *args)
        dist.barrier()
    except SiamcliError:
        raise SystemExit(2) from None  # rank 0 meets the same problem and says it, once
    finally:
        dist.destroy_process_group()
    # Skip the interpreter's teardown: native threads (gloo's, OpenMP's) torn down at exit can abort a
    # worker whose work is done ("terminate called without an active exception").
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _join(device: torch.device, **how: Any) -> None:
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=TIMEOUT, **how)


def _threads_each(workers: int) -> int:
    """The CPUs this process may use, shared out: N workers on N cores each take one, not N (which would
    thrash); one process takes them all (not the machine's count, where a container or a mask allows fewer)."""
    return max(1, available_cpus() // workers)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

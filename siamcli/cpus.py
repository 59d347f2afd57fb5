"""The CPUs training may use, and OpenMP threads that sleep while they wait (torch-free).

torch's OpenMP threads spin by default while they wait for work: beside another busy process on the
same cores, the spinning threads take its turns and every parallel region waits for the slowest
thread, so training slowed far more than its share of the CPU (benchmarks/training_beside_work.py).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

# cgroup v2's one file, and v1's pair: a container's CPU quota, which the affinity mask does not show
CGROUP_V2 = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1 = (Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us"))


def sleep_while_waiting() -> None:
    """Before torch (and its OpenMP runtime) loads: waiting threads sleep instead of spinning. A policy
    the user set in the environment is kept."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def available_cpus() -> int:
    """The CPUs this process may run on: its affinity mask, within its container's CPU quota."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    quota = _cgroup_quota()
    return max(1, min(cpus, math.ceil(quota)) if quota is not None else cpus)


def _cgroup_quota() -> float | None:
    """CPUs' worth of time the container may use in each period; None where there is no limit."""
    try:
        if CGROUP_V2.exists():
            quota, period = CGROUP_V2.read_text().split()[:2]
            return None if quota == "max" else int(quota) / int(period)
        quota_us, period_us = (int(path.read_text()) for path in CGROUP_V1)
        return None if quota_us <= 0 else quota_us / period_us
    except (OSError, ValueError):
        return None

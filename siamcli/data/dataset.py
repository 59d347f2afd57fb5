"""A dataset is a folder with one subfolder per identity, each holding that identity's samples."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from siamcli.errors import SiamcliError


@dataclass(frozen=True)
class Identity:
    name: str
    files: tuple[Path, ...]


@dataclass(frozen=True)
class Dataset:
    root: Path
    identities: tuple[Identity, ...]

    @property
    def names(self) -> list[str]:
        return [identity.name for identity in self.identities]

    @property
    def n_samples(self) -> int:
        return sum(len(identity.files) for identity in self.identities)

    def samples(self) -> tuple[list[Path], list[int]]:
        """All files with the index of their identity, in a stable order."""
        paths: list[Path] = []
        labels: list[int] = []
        for label, identity in enumerate(self.identities):
            paths.extend(identity.files)
            labels.extend([label] * len(identity.files))
        return paths, labels

    def subset(self, names: Iterable[str]) -> Dataset:
        wanted = set(names)
        return Dataset(self.root, tuple(i for i in self.identities if i.name in wanted))


def _natural_key(path: Path) -> tuple:
    # s2 before s10, 2.pgm before 10.pgm: what a person expects when reading a listing.
    parts: list = []
    digits = ""
    for char in path.name:
        if char.isdigit():
            digits += char
            continue
        if digits:
            parts.append((0, int(digits), ""))
            digits = ""
        parts.append((1, 0, char))
    if digits:
        parts.append((0, int(digits), ""))
    return tuple(parts)


def scan_dataset(root: Path, suffixes: frozenset[str]) -> Dataset:
    """Read the folder layout, keeping files with these suffixes; no sample is opened here."""
    root = Path(root)
    if not root.exists():
        raise SiamcliError(f"{root}: no such folder")
    if not root.is_dir():
        raise SiamcliError(f"{root}: not a folder (expected one subfolder per identity)")
    identities = []
    for folder in sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), key=_natural_key):
        files = sorted((f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in suffixes), key=_natural_key)
        if files:
            identities.append(Identity(folder.name, tuple(files)))
    if not identities:
        kinds = ", ".join(sorted(s.lstrip(".") for s in suffixes))
        raise SiamcliError(f"{root}: no identity subfolders with samples ({kinds}) found")
    return Dataset(root, tuple(identities))


def require_pairs_possible(dataset: Dataset) -> None:
    """Verification needs impostor pairs (two identities) and genuine pairs (two samples of one)."""
    if len(dataset.identities) < 2:
        raise SiamcliError(
            f"{dataset.root}: found {len(dataset.identities)} identity; at least 2 are needed to make impostor pairs"
        )
    for identity in dataset.identities:
        if len(identity.files) < 2:
            raise SiamcliError(
                f"{dataset.root / identity.name}: identity '{identity.name}' has a single sample "
                f"({identity.files[0].name}); no genuine pair can be made, add a second sample or remove the folder"
            )


def require_pairs_left(root: Path | str, labels: np.ndarray, left_out: Sequence[str], total: int) -> None:
    """After samples with nothing to embed were left out (no face in a photo), a genuine pair and an
    impostor pair must still be there to score or train on; else one line saying why, the first left out named."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64)) if len(labels) else np.zeros(0, dtype=np.int64)
    identities, with_pairs = int(np.count_nonzero(counts)), int(np.count_nonzero(counts >= 2))
    if identities >= 2 and with_pairs >= 1:
        return
    first = f" ({left_out[0]}{' and more' if len(left_out) > 1 else ''})" if left_out else ""
    raise SiamcliError(
        f"{root}: {len(left_out)} of {total} samples left out with nothing to embed{first}; the {len(labels)} "
        f"left hold {'no genuine pair' if with_pairs < 1 else 'no impostor pair'} to score"
    )


def split_identities(names: Sequence[str], n_holdout: int, seed: int) -> tuple[list[str], list[str]]:
    """Split by identity, never by sample, so a held-out person is never seen in training."""
    if not 0 <= n_holdout <= len(names):
        raise SiamcliError(f"cannot hold out {n_holdout} of {len(names)} identities")
    shuffled = list(names)
    random.Random(seed).shuffle(shuffled)
    held_out = set(shuffled[:n_holdout])
    return [n for n in names if n not in held_out], [n for n in names if n in held_out]

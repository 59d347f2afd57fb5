"""Genuine and impostor pairs of a dataset, and the CSV file that carries them (path_a,path_b,label)."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import TextIO

from siamcli.data.dataset import Dataset, require_pairs_possible
from siamcli.errors import SiamcliError, path_text

HEADER = ["path_a", "path_b", "label"]


@dataclass(frozen=True)
class Pair:
    path_a: Path
    path_b: Path
    same: bool


def count_pairs(dataset: Dataset) -> tuple[int, int]:
    """How many distinct genuine and impostor pairs the dataset holds."""
    sizes = [len(identity.files) for identity in dataset.identities]
    total = sum(sizes)
    genuine = sum(n * (n - 1) // 2 for n in sizes)
    return genuine, total * (total - 1) // 2 - genuine


def make_pairs(
    dataset: Dataset, n_genuine: int | None = None, n_impostor: int | None = None, seed: int = 0
) -> list[Pair]:
    """Distinct pairs drawn without replacement; by default every genuine pair and as many impostors."""
    require_pairs_possible(dataset)
    available_genuine, available_impostor = count_pairs(dataset)
    n_genuine = available_genuine if n_genuine is None else n_genuine
    n_impostor = n_genuine if n_impostor is None else n_impostor
    if n_genuine > available_genuine:
        raise SiamcliError(f"{dataset.root}: asked for {n_genuine} genuine pairs, only {available_genuine} exist")
    if n_impostor > available_impostor:
        raise SiamcliError(f"{dataset.root}: asked for {n_impostor} impostor pairs, only {available_impostor} exist")
    rng = random.Random(seed)
    genuine = [Pair(a, b, True) for identity in dataset.identities for a, b in combinations(identity.files, 2)]
    pairs = rng.sample(genuine, n_genuine) + _sample_impostors(dataset, n_impostor, available_impostor, rng)
    rng.shuffle(pairs)
    return pairs


def _sample_impostors(dataset: Dataset, count: int, available: int, rng: random.Random) -> list[Pair]:
    paths, labels = dataset.samples()
    if count > available // 2:
        every = [(i, j) for i, j in combinations(range(len(paths)), 2) if labels[i] != labels[j]]
        chosen = rng.sample(every, count)
    else:  # rejection sampling: cheap when at most half of the impostor pairs are wanted
        seen: set[tuple[int, int]] = set()
        chosen = []
        while len(chosen) < count:
            i, j = sorted(rng.sample(range(len(paths)), 2))
            if labels[i] != labels[j] and (i, j) not in seen:
                seen.add((i, j))
                chosen.append((i, j))
    return [Pair(paths[i], paths[j], False) for i, j in chosen]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet would run as a formula


def _cell(path: Path) -> str:
    """A path as a CSV cell a spreadsheet shows as text: one that would start a formula gets a leading
    apostrophe (read_pairs takes it off again)."""
    text = path_text(path)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _uncell(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def write_pairs(pairs: list[Pair], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for pair in pairs:
        writer.writerow([_cell(pair.path_a), _cell(pair.path_b), int(pair.same)])


def _resolve(value: str, csv_folder: Path) -> Path:
    # Paths are written as the user named the data folder; from another working directory they are
    # still found next to the CSV file.
    path = Path(value)
    if path.is_absolute() or path.exists():
        return path
    beside = csv_folder / path
    return beside if beside.exists() else path


def read_pairs(path: Path) -> list[Pair]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SiamcliError(f"{path}: no such pairs file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SiamcliError(f"{path}: cannot read pairs file ({error})") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [cell.strip() for cell in rows[0]] != HEADER:
        raise SiamcliError(f"{path}: not a pairs file (expected the header line '{','.join(HEADER)}')")
    pairs = []
    for line_number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != 3 or row[2].strip() not in ("0", "1"):
            raise SiamcliError(f"{path}:{line_number}: expected path_a,path_b,label with label 0 or 1")
        first, second = (_resolve(_uncell(cell), path.parent) for cell in row[:2])
        pairs.append(Pair(first, second, row[2].strip() == "1"))
    if not any(p.same for p in pairs) or all(p.same for p in pairs):
        raise SiamcliError(f"{path}: needs at least one genuine (1) and one impostor (0) pair")
    return pairs

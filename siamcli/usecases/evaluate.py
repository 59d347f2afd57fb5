"""Measure models on identities they never saw: `siamcli eval MODEL... DATA [--report DIR]`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from siamcli.core.metrics import check_p_target
from siamcli.data.dataset import scan_dataset
from siamcli.data.pairs import read_pairs
from siamcli.errors import SiamcliError
from siamcli.evaluation import metrics, on_dataset, on_pairs
from siamcli.model import Model, load_model
from siamcli.report import ModelMetrics

MAX_EPISODES = 1_000_000  # beyond, more episodes change nothing but the time taken


@dataclass
class Evaluation:
    """What `siamcli eval` measured: each model's metrics on the data, and the report files written."""

    data: str
    models: list[ModelMetrics]  # in the order given
    report_files: list[Path] = field(default_factory=list)


def evaluate(
    models: Sequence[Path | str | Model],
    data: Path,
    *,
    episodes: int = 2000,
    seed: int = 0,
    p_target: float = 0.01,
    report: Path | None = None,
    groups: str | None = None,
) -> Evaluation:
    """Every model on the same trials of DATA: a folder (every pair of its samples) or a pairs CSV
    from `siamcli pairs` (exactly its pairs). With `report`, curves, histograms, report.html and
    metrics.json are written into that folder. With `groups` (a separator), identities are grouped
    by their name up to its last separator, and one-shot accuracy is also measured within groups."""
    if not models:
        raise SiamcliError("give at least one model file, then the data (a folder or a pairs CSV)")
    try:
        check_p_target(p_target)
    except ValueError:
        raise SiamcliError("--p-target must be between 0 and 1") from None
    if not 1 <= episodes <= MAX_EPISODES:
        raise SiamcliError(f"--episodes {episodes}: from 1 to {MAX_EPISODES:,}")
    if groups is not None and not groups:
        raise SiamcliError("--groups: give the separator that ends a group's part of a name (e.g. _)")
    data = Path(data)
    loaded = [m if isinstance(m, Model) else load_model(m) for m in models]  # every model checked before any work
    pairs = read_pairs(data) if data.is_file() else None
    results = []
    for given, model in zip(models, loaded):
        if pairs is not None:
            scored = on_pairs(model, pairs)
        else:
            scored = on_dataset(model, scan_dataset(data, model.modality.suffixes), seed)
        label = str(model.path) if isinstance(given, Model) else str(given)
        results.append(
            ModelMetrics(label, metrics(model, scored, episodes, seed, p_target, group_separator=groups), scored)
        )
    evaluation = Evaluation(str(data), results)
    if report is not None:
        from siamcli.report import write_report

        evaluation.report_files = write_report(Path(report), results, str(data))
    return evaluation

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer


def eval_command(
    model: Annotated[Path, typer.Argument(help="Model file made by `siamcli train`.")],
    data: Annotated[
        Path,
        typer.Argument(help="Folder with one subfolder per identity (all pairs), or a pairs CSV from `siamcli pairs`."),
    ],
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object, even on a terminal.")] = False,
    episodes: Annotated[int, typer.Option(min=1, help="One-shot identification episodes per N.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the one-shot episodes.")] = 0,
) -> None:
    """Verification and one-shot identification metrics on the identities given (use people not seen in training)."""
    from siamcli.cli.output import print_json, want_json
    from siamcli.data.dataset import scan_dataset
    from siamcli.data.pairs import read_pairs
    from siamcli.evaluation import metrics, scores_on_dataset, scores_on_pairs
    from siamcli.model import load_model

    loaded = load_model(model)
    if data.is_file():
        scores = scores_on_pairs(loaded, read_pairs(data))
    else:
        scores = scores_on_dataset(loaded, scan_dataset(data, loaded.modality.suffixes))
    result = {"model": str(model), "data": str(data), **metrics(loaded, scores, episodes, seed)}
    if want_json(json_output):
        print_json(result)
    else:
        _print_table(result)


def _percent(value: float | None) -> str:
    return "n/a (too few impostor pairs)" if value is None else f"{value:.2%}"


def _print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    threshold = result["threshold"]
    at = result["at_threshold"]
    table = Table(title=f"{result['model']} on {result['data']}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("identities / samples", f"{result['identities']} / {result['samples']}")
    table.add_row("genuine / impostor pairs", f"{result['genuine_pairs']} / {result['impostor_pairs']}")
    table.add_row("ROC AUC", f"{result['roc_auc']:.4f}")
    table.add_row("EER", f"{result['eer']:.2%} (at distance {result['eer_threshold']:.4f})")
    for far, tar in result["tar_at_far"].items():
        table.add_row(f"TAR at FAR {float(far):.1%}", _percent(tar))
    table.add_row(
        f"at stored threshold {threshold['value']:.4f} ({threshold['operating_point']})",
        f"accuracy {at['accuracy']:.2%}, balanced {at['balanced_accuracy']:.2%}, "
        f"FAR {at['far']:.2%}, FRR {at['frr']:.2%}",
    )
    for n_way, accuracy in result["one_shot"].items():
        table.add_row(f"one-shot {n_way} accuracy", f"{accuracy:.2%} ({result['episodes']} episodes)")
    Console().print(table)

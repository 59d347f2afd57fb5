from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer


def eval_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="One or more model files, then DATA: a folder with one subfolder per identity (all pairs), "
            "or a pairs CSV from `siamcli pairs` (exactly its pairs).",
            metavar="MODEL... DATA",
        ),
    ],
    json_output: Annotated[bool, typer.Option("--json", help="JSON, one line per model, even on a terminal.")] = False,
    report: Annotated[
        Optional[Path], typer.Option(help="Write ROC/DET curves, histograms, report.html and metrics.json here.")
    ] = None,
    p_target: Annotated[
        float, typer.Option("--p-target", min=0.0, max=1.0, help="Prior of a genuine trial, for minDCF.")
    ] = 0.01,
    episodes: Annotated[int, typer.Option(min=1, help="One-shot identification episodes per N.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the one-shot episodes and of the bootstrap.")] = 0,
) -> None:
    """Verification and one-shot identification metrics on the identities given (use people not seen in
    training), with 95% intervals from resampling identities. Several models are compared side by side."""
    from siamcli.cli.output import note, print_json, want_json
    from siamcli.data.dataset import scan_dataset
    from siamcli.data.pairs import read_pairs
    from siamcli.errors import SiamcliError
    from siamcli.evaluation import metrics, scores_on_dataset, scores_on_pairs
    from siamcli.model import load_model
    from siamcli.report import Evaluated

    if len(paths) < 2:
        raise SiamcliError("give at least one model file, then the data (a folder or a pairs CSV)")
    *model_paths, data = paths
    if not 0 < p_target < 1:
        raise SiamcliError("--p-target must be between 0 and 1")
    models = [load_model(path) for path in model_paths]  # every model is checked before any work
    evaluated = []
    for path, model in zip(model_paths, models):
        if data.is_file():
            scores = scores_on_pairs(model, read_pairs(data))
        else:
            scores = scores_on_dataset(model, scan_dataset(data, model.modality.suffixes))
        evaluated.append(Evaluated(str(path), metrics(model, scores, episodes, seed, p_target), scores))
    if want_json(json_output):
        for item in evaluated:
            print_json({"model": item.label, "data": str(data), **item.metrics})
    else:
        _print_table(evaluated, str(data))
    if report is not None:
        from siamcli.report import write_report

        for written in write_report(report, evaluated, str(data)):
            note(f"wrote {written}")


def _print_table(evaluated: list[Any], data: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from siamcli.report import summary_rows

    table = Table(title=f"on {data} (95% intervals over identities in brackets)", title_justify="left")
    table.add_column("")
    for item in evaluated:
        table.add_column(item.label, justify="right")
    summaries = [summary_rows(item.metrics) for item in evaluated]
    for r, (label, _) in enumerate(summaries[0]):
        table.add_row(label, *(summary[r][1] for summary in summaries))
    Console().print(table)

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
    groups: Annotated[
        Optional[str],
        typer.Option(
            help="Group identities by their name up to its last SEPARATOR (Omniglot's Latin_character01: Latin) "
            "and also measure one-shot accuracy with each episode's identities drawn from one group.",
            metavar="SEPARATOR",
        ),
    ] = None,
) -> None:
    """Verification and one-shot identification metrics on the identities given (use people not seen in
    training), with 95% intervals from resampling identities. Several models are compared side by side."""
    from siamcli.cli.output import note, print_json, want_json
    from siamcli.errors import SiamcliError
    from siamcli.usecases.evaluate import evaluate

    if len(paths) < 2:
        raise SiamcliError("give at least one model file, then the data (a folder or a pairs CSV)")
    *models, data = paths
    evaluation = evaluate(models, data, episodes=episodes, seed=seed, p_target=p_target, report=report, groups=groups)
    if want_json(json_output):
        for item in evaluation.models:
            print_json(item.to_json(evaluation.data))
    else:
        _print_table(evaluation.models, evaluation.data)
    for written in evaluation.report_files:
        note(f"wrote {written}")


def _print_table(evaluated: list[Any], data: str) -> None:
    from siamcli.cli.output import print_table
    from siamcli.report import summary_rows

    summaries = [summary_rows(item.metrics) for item in evaluated]
    rows = [[label, *(summary[r][1] for summary in summaries)] for r, (label, _) in enumerate(summaries[0])]
    labels = [item.label for item in evaluated]
    print_table(f"on {data} (95% intervals over identities in brackets)", ["", *labels], rows, right=tuple(labels))

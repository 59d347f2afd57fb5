"""A training progress bar on stderr: epoch, loss, validation EER."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from siamcli.cli.output import stderr


class EpochProgress:
    """Starts drawing at the first epoch, so an error while loading data stays a single line."""

    def __init__(self, epochs: int, members: int = 1) -> None:
        self.epochs = epochs
        self.members = members
        self.progress = Progress(
            TextColumn("training"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=stderr,
            transient=False,
        )
        self.task = self.progress.add_task("train", total=epochs * members, status="")

    def __enter__(self) -> EpochProgress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self.progress.live.is_started:
            self.progress.stop()

    def update(self, report: Any) -> None:
        status = f"member {report.member + 1}/{self.members}  loss {report.loss:.4f}"
        if report.val_eer is not None:
            status += f"  val EER {report.val_eer:.2%} (best epoch {report.best_epoch})"
        if not self.progress.live.is_started:
            self.progress.start()
        self.progress.update(self.task, completed=report.member * self.epochs + report.epoch, status=status)

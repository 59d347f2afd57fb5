"""A training progress bar on stderr: member, epoch, loss, validation EER."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from siamcli.cli.output import stderr


class EpochProgress:
    """Starts drawing at the first epoch's report (which says how many there will be), so an error
    while loading data stays a single line."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("training"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=stderr,
            transient=False,
        )
        self.task: Any = None

    def __enter__(self) -> EpochProgress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self.progress.live.is_started:
            self.progress.stop()

    def update(self, report: Any) -> None:
        status = f"member {report.member + 1}/{report.members}  loss {report.loss:.4f}"
        if report.val_eer is not None:
            status += f"  val EER {report.val_eer:.2%} (best epoch {report.best_epoch})"
        if self.task is None:
            self.task = self.progress.add_task("train", total=report.epochs * report.members, status="")
            self.progress.start()
        self.progress.update(self.task, completed=report.member * report.epochs + report.epoch, status=status)


class FileProgress:
    """Files done of all, on stderr; drawn once there is something to count."""

    def __init__(self, label: str) -> None:
        self.progress = Progress(
            TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=stderr
        )
        self.task: Any = None

    def __enter__(self) -> FileProgress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self.progress.live.is_started:
            self.progress.stop()

    def update(self, done: int, total: int) -> None:
        if self.task is None:
            self.task = self.progress.add_task("files", total=total)
            self.progress.start()
        self.progress.update(self.task, completed=done)

"""Progress bars on stderr: training (member, epoch, loss, validation EER) and files done."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn

from siamcli.cli.output import stderr


class _Bar:
    """A bar that starts drawing at the first report (which says how many steps there will be), so an
    error while loading data stays a single line."""

    def __init__(self, label: str, *extra: ProgressColumn) -> None:
        self.progress = Progress(
            TextColumn(label), BarColumn(), MofNCompleteColumn(), *extra, TimeElapsedColumn(), console=stderr
        )
        self.task: Any = None

    def __enter__(self) -> Any:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self.progress.live.is_started:
            self.progress.stop()

    def _show(self, done: int, total: int, **fields: Any) -> None:
        if self.task is None:
            self.task = self.progress.add_task("", total=total, **fields)
            self.progress.start()
        self.progress.update(self.task, completed=done, **fields)


class EpochProgress(_Bar):
    def __init__(self) -> None:
        super().__init__("training", TextColumn("{task.fields[status]}"))

    def update(self, report: Any) -> None:
        status = f"member {report.member + 1}/{report.members}  loss {report.loss:.4f}"
        if report.val_eer is not None:
            status += f"  val EER {report.val_eer:.2%} (best epoch {report.best_epoch})"
        self._show(report.member * report.epochs + report.epoch, report.epochs * report.members, status=status)


class FileProgress(_Bar):
    """Files done of all."""

    def update(self, done: int, total: int) -> None:
        self._show(done, total)

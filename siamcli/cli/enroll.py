from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from siamcli.cli.options import (
    GalleryOption,
    LivenessModelOption,
    LivenessOption,
    LivenessThresholdOption,
    ModelOption,
    liveness_settings,
)

SHOWN_REFUSALS = 10  # refused files named one per line; beyond, a count


def enroll_command(
    name: Annotated[Optional[str], typer.Argument(help="Who the samples are of.")] = None,
    files: Annotated[
        Optional[list[str]], typer.Argument(help="Sample files; '-' reads one path per line from stdin.")
    ] = None,
    folders: Annotated[
        Optional[Path],
        typer.Option(
            "--folders",
            help="Enroll every subfolder of this folder as one identity (the folder's name), its files as "
            "samples: progress on stderr, resumable (content already enrolled is skipped), committed in batches.",
        ),
    ] = None,
    model: ModelOption = None,
    gallery: GalleryOption = None,
    liveness: LivenessOption = False,
    liveness_model: LivenessModelOption = None,
    liveness_threshold: LivenessThresholdOption = None,
) -> None:
    """Embed reference samples of NAME and store them in the gallery (the same file twice is stored once);
    or, with --folders DIR, those of every identity in DIR.

    With --liveness, a face judged not live is not enrolled: NAME FILE... enrolls nothing, --folders
    refuses that file."""
    from siamcli.cli.inputs import expand_paths
    from siamcli.cli.output import note
    from siamcli.errors import SiamcliError
    from siamcli.gallery import gallery_path
    from siamcli.usecases.enroll import enroll

    path = gallery_path(gallery)
    live = liveness_settings(liveness, liveness_model, liveness_threshold)
    if folders is not None:
        if name is not None or files:
            raise SiamcliError("enroll: give NAME FILE... or --folders DIR, not both")
        enroll_folders_command(folders, model, path, live)
        return
    if name is None or not files:
        raise SiamcliError("enroll: give NAME and at least one FILE (or --folders DIR)")
    report = enroll(name, expand_paths(files), model=model, gallery=path, liveness=live)
    already = f" ({report.already} already enrolled)" if report.already else ""
    added = f"{report.added} sample{'s' * (report.added != 1)}"
    note(f"{name.strip()}: {added} enrolled{already} in {path} with {report.collection.model}")


def enroll_folders_command(folders: Path, model: Path | None, gallery: Path, liveness: Any) -> None:
    from siamcli.cli.output import note
    from siamcli.cli.progress import FileProgress
    from siamcli.usecases.enroll import enroll_folders

    with FileProgress("enrolling") as progress:
        report = enroll_folders(folders, model=model, gallery=gallery, on_progress=progress.update, liveness=liveness)
    for refusal in report.refused[:SHOWN_REFUSALS]:
        note(f"siamcli: {refusal.problem}")
    if len(report.refused) > SHOWN_REFUSALS:
        note(f"siamcli: and {len(report.refused) - SHOWN_REFUSALS} more files refused")
    note(
        f"{report.enrolled} samples enrolled, {report.skipped} already enrolled, {len(report.refused)} refused; "
        f"{report.identities} identities in {report.gallery} with {report.model}"
    )
    if report.refused:
        raise typer.Exit(2)

from __future__ import annotations

from typing import Annotated

import typer

from siamcli.cli.options import GalleryOption, ModelOption


def enroll_command(
    name: Annotated[str, typer.Argument(help="Who the samples are of.")],
    files: Annotated[list[str], typer.Argument(help="Sample files; '-' reads one path per line from stdin.")],
    model: ModelOption = None,
    gallery: GalleryOption = None,
) -> None:
    """Embed reference samples of NAME and store them in the gallery (the same file twice is stored once)."""
    from siamcli.cli.inputs import expand_paths
    from siamcli.cli.output import note
    from siamcli.gallery import gallery_path
    from siamcli.usecases.enroll import enroll

    path = gallery_path(gallery)
    report = enroll(name, expand_paths(files), model=model, gallery=path)
    already = f" ({report.already} already enrolled)" if report.already else ""
    added = f"{report.added} sample{'s' * (report.added != 1)}"
    note(f"{name.strip()}: {added} enrolled{already} in {path} with {report.collection.model}")

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
    from siamcli.cli.options import gallery_path
    from siamcli.cli.output import note
    from siamcli.gallery import Gallery
    from siamcli.verification import check_identity_name, choose_model, enroll_files

    check_identity_name(name)
    paths = expand_paths(files)
    with Gallery.open(gallery_path(gallery), create=True) as opened:
        loaded, ref = choose_model(opened, paths, model)
        report = enroll_files(opened, loaded, ref, name, paths)
    already = f" ({report.already} already enrolled)" if report.already else ""
    note(
        f"{name}: {report.added} sample{'s' * (report.added != 1)} enrolled{already} in {opened.path} with {ref.model}"
    )

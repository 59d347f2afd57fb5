"""`siamcli gallery ...`: see and manage who is enrolled."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from siamcli.cli.options import GalleryOption, JsonOption

if TYPE_CHECKING:
    from siamcli.gallery import Collection, Gallery

app = typer.Typer(help="List, show, remove and export enrolled identities.", no_args_is_help=True)

ModelFilter = Annotated[
    Optional[str],
    typer.Option("--model", "-m", help="Only the collection of this model (a path, or default:image)."),
]


def _open(gallery: GalleryOption) -> Gallery:
    from siamcli.gallery import open_gallery

    return open_gallery(gallery)


def _collection(opened: Gallery, model: str | None) -> Collection | None:
    if model is None:
        return None
    from pathlib import Path

    from siamcli.errors import SiamcliError

    for collection in opened.collections():
        if collection.model in (model, str(Path(model).resolve())):
            return collection
    known = ", ".join(c.model for c in opened.collections()) or "none"
    raise SiamcliError(f"{opened.path}: no collection for model {model} (collections: {known})")


@app.command("list")
def list_command(model: ModelFilter = None, gallery: GalleryOption = None, json_output: JsonOption = False) -> None:
    """Every enrolled identity, with its number of samples, per collection."""
    from siamcli.cli.output import print_json, want_json

    with _open(gallery) as opened:
        rows = opened.identities(_collection(opened, model))
    if want_json(json_output):
        for collection, name, count in rows:
            print_json({"identity": name, "samples": count, "model": collection.model, "modality": collection.modality})
        return
    from siamcli.cli.output import print_table

    cells = [[name, count, collection.modality, collection.model] for collection, name, count in rows]
    print_table(str(opened.path), ["identity", "samples", "modality", "model"], cells, right=("samples",))


@app.command("show")
def show_command(name: str, gallery: GalleryOption = None, json_output: JsonOption = False) -> None:
    """NAME's enrolled samples: source file, content hash, when, and with which model."""
    from siamcli.cli.output import print_json, want_json
    from siamcli.errors import SiamcliError

    with _open(gallery) as opened:
        samples = list(opened.samples(name))
    if not samples:
        raise SiamcliError(f"{opened.path}: nobody named '{name}' is enrolled")
    if want_json(json_output):
        for s in samples:
            row = {"identity": name, "path": s.path, "sha256": s.sha256, "enrolled": s.enrolled}
            print_json({**row, "model": s.collection.model})
        return
    from siamcli.cli.output import print_table

    cells = [[s.path, s.sha256[:12], s.enrolled, s.collection.model] for s in samples]
    print_table(name, ["path", "sha256", "enrolled", "model"], cells)


@app.command("remove")
def remove_command(name: str, model: ModelFilter = None, gallery: GalleryOption = None) -> None:
    """Remove NAME and all their samples (from every collection, or from --model's)."""
    from siamcli.cli.output import note
    from siamcli.errors import SiamcliError
    from siamcli.gallery.index import refresh

    with _open(gallery) as opened:
        chosen = _collection(opened, model)
        removed = opened.remove(name, chosen)
        for collection in [chosen] if chosen else opened.collections():
            refresh(opened, collection)
    if not removed:
        raise SiamcliError(f"{opened.path}: nobody named '{name}' is enrolled")
    note(f"{name}: {removed} sample{'s' * (removed != 1)} removed from {opened.path}")


@app.command("export")
def export_command(model: ModelFilter = None, gallery: GalleryOption = None) -> None:
    """Every enrolled sample as JSON lines, embeddings included."""
    from siamcli.cli.output import print_json

    with _open(gallery) as opened:
        only = _collection(opened, model)
        for s in opened.samples():
            if only is None or s.collection.id == only.id:
                print_json(
                    {
                        "identity": s.identity,
                        "path": s.path,
                        "sha256": s.sha256,
                        "enrolled": s.enrolled,
                        "model": s.collection.model,
                        "fingerprint": s.collection.fingerprint,
                        "modality": s.collection.modality,
                        "embedding": [float(v) for v in s.embedding],
                    }
                )

"""`siamcli gallery ...`: see and manage who is enrolled."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from siamcli.cli.options import GalleryOption, JsonOption

app = typer.Typer(help="List, show, remove and export enrolled identities.", no_args_is_help=True)

ModelFilter = Annotated[
    Optional[str],
    typer.Option("--model", "-m", help="Only the collection of this model (a path, or default:image)."),
]


@app.command("list")
def list_command(model: ModelFilter = None, gallery: GalleryOption = None, json_output: JsonOption = False) -> None:
    """Every enrolled identity, with its number of samples, per collection."""
    from siamcli.cli.output import print_json, want_json
    from siamcli.usecases.gallery import list_identities

    path, rows = list_identities(gallery, model)
    if want_json(json_output):
        for row in rows:
            c = row.collection
            print_json({"identity": row.identity, "samples": row.samples, "model": c.model, "modality": c.modality})
        return
    from siamcli.cli.output import print_table

    cells = [[row.identity, row.samples, row.collection.modality, row.collection.model] for row in rows]
    print_table(str(path), ["identity", "samples", "modality", "model"], cells, right=("samples",))


@app.command("show")
def show_command(name: str, gallery: GalleryOption = None, json_output: JsonOption = False) -> None:
    """NAME's enrolled samples: source file, content hash, when, and with which model."""
    from siamcli.cli.output import print_json, want_json
    from siamcli.usecases.gallery import show

    samples = show(name, gallery)
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
    from siamcli.usecases.gallery import remove

    path, removed = remove(name, gallery, model)
    note(f"{name}: {removed} sample{'s' * (removed != 1)} removed from {path}")


@app.command("export")
def export_command(model: ModelFilter = None, gallery: GalleryOption = None) -> None:
    """Every enrolled sample as JSON lines, embeddings included."""
    from siamcli.cli.output import print_json
    from siamcli.usecases.gallery import export

    for s in export(gallery, model):
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

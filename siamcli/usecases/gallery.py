"""See and manage who is enrolled: `siamcli gallery list | show NAME | remove NAME | export`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from siamcli.errors import SiamcliError
from siamcli.gallery import Collection, EnrolledSample, Gallery, IdentityCount, open_gallery
from siamcli.gallery.index import refresh


def list_identities(gallery: Path | None = None, model: str | None = None) -> tuple[Path, list[IdentityCount]]:
    """Every enrolled identity with its number of samples, per collection (only `model`'s if given);
    and the gallery's path."""
    with open_gallery(gallery) as opened:
        return opened.path, opened.identities(collection_of_model(opened, model))


def show(name: str, gallery: Path | None = None) -> list[EnrolledSample]:
    """NAME's enrolled samples, in every collection."""
    with open_gallery(gallery) as opened:
        samples = list(opened.samples(name))
    if not samples:
        raise SiamcliError(f"{opened.path}: nobody named '{name}' is enrolled")
    return samples


def remove(name: str, gallery: Path | None = None, model: str | None = None) -> tuple[Path, int]:
    """Remove NAME's samples (from every collection, or `model`'s): the gallery's path, and how many."""
    with open_gallery(gallery) as opened:
        chosen = collection_of_model(opened, model)
        removed = opened.remove(name, chosen)
        for collection in [chosen] if chosen else opened.collections():
            refresh(opened, collection)  # every writer keeps the search index current, here as in enroll
    if not removed:
        raise SiamcliError(f"{opened.path}: nobody named '{name}' is enrolled")
    return opened.path, removed


def export(gallery: Path | None = None, model: str | None = None) -> Iterator[EnrolledSample]:
    """Every enrolled sample (of `model`'s collection, if given), embeddings included."""
    with open_gallery(gallery) as opened:
        only = collection_of_model(opened, model)
        for sample in opened.samples():
            if only is None or sample.collection.id == only.id:
                yield sample


def collection_of_model(opened: Gallery, model: str | None) -> Collection | None:
    """The collection of `model` (a path, or default:<modality>); None when no model is given."""
    if model is None:
        return None
    for collection in opened.collections():
        if collection.model in (model, str(Path(model).resolve())):
            return collection
    known = ", ".join(c.model for c in opened.collections()) or "none"
    raise SiamcliError(f"{opened.path}: no collection for model {model} (collections: {known})")

"""Which model a command uses: the one given; else the one the gallery's collection for these files was
made with; else the shipped one for their kind."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from siamcli.errors import SiamcliError
from siamcli.gallery import Gallery, ModelRef
from siamcli.modalities import all_suffixes, modality_of
from siamcli.model import Model, load_model
from siamcli.models import REF_PREFIX, retired_models


def modality_of_files(paths: Sequence[Path]) -> str:
    """The modality of the files; files of no known type are left for the model to refuse one by one,
    unless no file has a known type."""
    if not paths:
        raise SiamcliError("no input files (give paths, or '-' to read them from stdin)")
    known = [path for path in paths if path.suffix.lower() in all_suffixes()]
    names = {modality_of(path).name for path in known or paths[:1]}
    if len(names) > 1:
        raise SiamcliError(f"the files mix {' and '.join(sorted(names))}: give one kind at a time, or pass --model")
    return names.pop()


def choose_model(gallery: Gallery | None, paths: Sequence[Path], model: Path | str | None) -> tuple[Model, ModelRef]:
    """The model given; else the one the gallery's collection for these files was made with; else the
    shipped one. With the reference a gallery's collection records of it."""
    if model is not None:
        given = str(model)
        loaded = load_model(given)
        return loaded, model_ref(loaded, given if given.startswith(REF_PREFIX) else str(Path(given).resolve()))
    modality = modality_of_files(paths)
    collections = gallery.collections(modality) if gallery is not None else []
    if gallery is not None and len(collections) > 1:
        models = ", ".join(c.model for c in collections)
        raise SiamcliError(f"{gallery.path}: several {modality} collections (models {models}); choose one with --model")
    if not collections:
        shipped = load_model(REF_PREFIX + modality)
        return shipped, model_ref(shipped, REF_PREFIX + modality)
    collection = collections[0]
    loaded = load_model(collection.model)
    if loaded.fingerprint != collection.fingerprint and collection.model.startswith(REF_PREFIX):
        loaded = next(
            (model for model in map(load_model, retired_models()) if model.fingerprint == collection.fingerprint),
            loaded,
        )
    if loaded.fingerprint != collection.fingerprint:
        raise SiamcliError(
            f"{gallery.path}: its {modality} collection was enrolled with another version of {collection.model}; "
            "pass --model with the model it was made with, or remove and re-enroll its identities"
        )
    return loaded, collection


def model_ref(model: Model, location: str) -> ModelRef:
    card = model.card
    return ModelRef(model.fingerprint, location, card.modality, card.embedding_dim, card.distance, model.threshold)

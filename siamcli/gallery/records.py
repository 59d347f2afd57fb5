"""What a gallery holds and returns, whatever stores it: named records, never positional tuples."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

from siamcli.errors import SiamcliError, printable
from siamcli.modelcard import OpenSetRecord, ThresholdRecord


@dataclass(frozen=True)
class ModelRef:
    """What a collection records of its model."""

    fingerprint: str
    model: str  # where to find it again: a path, or "default:<modality>" for a shipped model
    modality: str
    embedding_dim: int
    distance: str
    model_threshold: float | None  # the model's own threshold when the collection was made (None: not known)


@dataclass(frozen=True)
class Collection(ModelRef):
    id: int
    threshold: ThresholdRecord | None  # calibrated on the user's own data; None: the model's
    created: str
    open_set: OpenSetRecord | None = None  # the 1:N operating point calibrated on the user's data; None: the model's


@dataclass(frozen=True)
class NewSample:
    path: str
    sha256: str
    embedding: np.ndarray


@dataclass(frozen=True)
class EnrolledSample:
    collection: Collection
    identity: str
    path: str
    sha256: str
    enrolled: str
    embedding: np.ndarray


@dataclass(frozen=True)
class EnrolReport:
    collection: Collection
    added: int
    already: int  # the same content was enrolled for this identity before


@dataclass(frozen=True)
class IdentityCount:
    """An identity of a collection, and how many samples it has there."""

    collection: Collection
    identity: str
    samples: int


@dataclass(frozen=True)
class Change:
    """One entry of the journal of changes: a sample added (or removed) at a position."""

    position: int
    sample_id: int
    added: bool


@dataclass(frozen=True)
class Rows:
    """Samples read back by id: their ids, identities and embeddings, row for row."""

    ids: np.ndarray
    identities: list[str]
    embeddings: np.ndarray


@dataclass(frozen=True)
class Snapshot:
    """Every sample of a collection, and the journal position they are at."""

    position: int
    ids: np.ndarray
    embeddings: np.ndarray


RESERVED_NAMES = frozenset({"unknown"})  # what verify answers for nobody


def check_identity_name(identity: str) -> str:
    """The name as it will be stored: trimmed, 1 to 200 characters of printable text. Control, format
    (bidi overrides, zero-width) and line-separator characters are refused: a name must show as what
    it is, on one line."""
    name = identity.strip()
    hidden = [ch for ch in name if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")]
    if not name or len(name) > 200 or hidden:
        why = f"it holds the character {printable(hidden[0])}" if hidden else "1 to 200 printable characters"
        raise SiamcliError(f"'{printable(identity)}': not a usable name ({why})")
    if name.lower() in RESERVED_NAMES:
        raise SiamcliError(f"'{name}': reserved (verify answers 'unknown' for nobody enrolled); choose another name")
    return name

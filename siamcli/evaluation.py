"""Evaluation of a model on identities it was not trained on: verification and one-shot identification,
with intervals from resampling identities. Every metric reads one `Trials`, sorted once.

Up to EXACT_PAIRS pairs of samples (about 2,000 samples) every pair is scored. Beyond, every genuine
pair is, with IMPOSTOR_SAMPLE impostor pairs drawn within each pair of identities in proportion
(seeded, and said in the output): memory and time then grow with the samples, not with their square.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

import numpy as np

from siamcli.core.distances import Distance
from siamcli.core.metrics import bootstrap_interval, min_dcf, one_shot_episodes, rates_at, roc_auc, tar_at_far
from siamcli.core.openset import OpenSetRates, open_set_rates
from siamcli.core.thresholds import accepts, equal_error_rate
from siamcli.core.trials import (
    Trials,
    genuine_pairs,
    impostor_pair_count,
    paired_distances,
    stratified_impostor_pairs,
)
from siamcli.data.dataset import Dataset, require_pairs_left, require_pairs_possible
from siamcli.data.pairs import Pair
from siamcli.errors import SiamcliError
from siamcli.modalities.base import warn_left_out
from siamcli.model import Model
from siamcli.modelcard import ThresholdRecord

N_WAYS = (5, 10, 20)
FAR_TARGETS = (1e-2, 1e-3, 1e-4)
WORST_SHOWN = 10
EXACT_PAIRS = 2_000_000
IMPOSTOR_SAMPLE = 1_000_000


@dataclass
class ScoredPairs:
    """One model's trials on the data (pairs of samples and their distances), and the samples'
    embeddings, which one-shot episodes draw from."""

    trials: Trials
    embeddings: np.ndarray
    labels: np.ndarray  # identity index of each sample
    names: list[str]  # identity names, by index
    distance: Distance
    impostors_in_data: int  # impostor pairs the data holds: more than the trials when they were sampled
    seed: int = 0  # of the impostor draw

    @property
    def impostor_sampling(self) -> dict[str, Any] | None:
        scored = int(self.trials.impostor.size)
        if scored >= self.impostors_in_data:
            return None
        return {
            "scored": scored,
            "in_data": self.impostors_in_data,
            "stratified_by": "pair of identities",
            "seed": self.seed,
        }


def on_dataset(model: Model, dataset: Dataset, seed: int = 0) -> ScoredPairs:
    """Every genuine pair of the dataset, and every impostor pair (or, above EXACT_PAIRS pairs, a
    stratified draw of IMPOSTOR_SAMPLE of them, seeded)."""
    require_pairs_possible(dataset)
    paths, labels = dataset.samples()
    label_of = dict(zip(paths, labels))
    rows, kept, left_out = [], [], []
    for chunk in model.embed_each(paths):
        for unusable in chunk.unusable:
            if not unusable.nothing_found:  # a corrupt file is an error; a photo without a face is left out
                raise SiamcliError(unusable.problem)
            left_out.append(unusable.problem)
        rows.append(chunk.embeddings)
        kept += [label_of[path] for path in chunk.paths]
    require_pairs_left(dataset.root, np.asarray(kept, dtype=np.int64), left_out, len(paths))
    warn_left_out(left_out, len(paths))
    return score_all_pairs(np.concatenate(rows), np.asarray(kept), dataset.names, model.distance, seed)


def score_all_pairs(
    embeddings: np.ndarray,
    labels: np.ndarray,
    names: list[str],
    distance: Distance,
    seed: int = 0,
    exact_pairs: int = EXACT_PAIRS,
    impostor_sample: int = IMPOSTOR_SAMPLE,
) -> ScoredPairs:
    """Every pair of the samples, or above `exact_pairs` pairs every genuine one and a stratified draw
    of `impostor_sample` impostor ones."""
    n = len(labels)
    impostors = impostor_pair_count(labels)
    if n * (n - 1) // 2 <= exact_pairs:
        trials = Trials.all_pairs(embeddings, labels, distance)
    else:
        same_first, same_second = genuine_pairs(labels)
        other_first, other_second = stratified_impostor_pairs(labels, impostor_sample, np.random.default_rng(seed))
        first, second = np.concatenate([same_first, other_first]), np.concatenate([same_second, other_second])
        trials = Trials.of(
            paired_distances(embeddings, first, second, distance),
            labels[first] == labels[second],
            np.stack([labels[first], labels[second]], axis=1),
        )
    return ScoredPairs(trials, embeddings, labels, names, distance, impostors, seed)


def on_pairs(model: Model, pairs: list[Pair]) -> ScoredPairs:
    """Exactly the listed pairs. A file's identity is its folder's name."""
    files = sorted({p for pair in pairs for p in (pair.path_a, pair.path_b)}, key=str)
    index = {path: i for i, path in enumerate(files)}
    embeddings = model.embed(files)
    a = np.array([index[pair.path_a] for pair in pairs])
    b = np.array([index[pair.path_b] for pair in pairs])
    folders = sorted({path.parent.name for path in files})
    labels = np.array([folders.index(path.parent.name) for path in files])
    same = np.array([pair.same for pair in pairs])
    distances = paired_distances(embeddings, a, b, model.distance)
    trials = Trials.of(distances, same, np.stack([labels[a], labels[b]], axis=1))
    return ScoredPairs(trials, embeddings, labels, folders, model.distance, int(np.sum(~same)))


@dataclass(frozen=True)
class Rates:
    """What the accept rule does at one threshold."""

    accuracy: float
    balanced_accuracy: float
    far: float
    frr: float


@dataclass(frozen=True)
class MinDcf:
    p_target: float
    value: float
    threshold: float


@dataclass(frozen=True)
class IdentityRates:
    """One identity's rates at the stored threshold: its genuine trials rejected, and the impostor
    trials it is in accepted (None where it has none)."""

    identity: str
    samples: int
    genuine_pairs: int
    frr: float | None
    far: float | None


@dataclass(frozen=True)
class Groups:
    separator: str
    count: int


@dataclass(frozen=True)
class Intervals:
    """How the 95% intervals were made: identities resampled with replacement."""

    level: float
    rounds: int
    over: str
    seed: int


@dataclass(frozen=True)
class Metrics:
    """Every metric of one model on one set of trials: what the table, the report and the JSON all read."""

    identities: int
    samples: int
    genuine_pairs: int
    impostor_pairs: int
    impostor_sampling: dict[str, Any] | None  # None: every impostor pair was scored
    roc_auc: float
    eer: float
    eer_interval: tuple[float, float]
    eer_threshold: float
    min_dcf: MinDcf
    tar_at_far: dict[str, float | None]  # None where there are fewer than 1/FAR impostor pairs: a guess
    threshold: ThresholdRecord  # the model's stored one
    at_threshold: Rates
    one_shot: dict[str, float]  # "5-way": accuracy, for each N with enough identities
    one_shot_interval: dict[str, tuple[float, float]]
    intervals: Intervals
    episodes: int
    seed: int
    per_identity: list[IdentityRates]  # worst false-reject rate first
    open_set: list[OpenSetRates] = field(default_factory=list)  # 1:N on drawn galleries, where the data holds them
    groups: Groups | None = None  # with --groups: one-shot accuracy within groups of identities too
    one_shot_within_groups: dict[str, float] | None = None
    one_shot_within_groups_interval: dict[str, tuple[float, float]] | None = None

    def to_json(self) -> dict[str, Any]:
        """As `eval --json` prints it and metrics.json keeps it; the group keys only where measured."""
        document = {f.name: _plain(getattr(self, f.name)) for f in fields(self)}
        document["threshold"] = self.threshold.to_json()
        if self.groups is None:
            for name in ("groups", "one_shot_within_groups", "one_shot_within_groups_interval"):
                del document[name]
        return document


def _plain(value: Any) -> Any:
    """A metric as JSON holds it: dataclasses as objects, intervals as [low, high]."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def per_identity(evaluated: ScoredPairs, threshold: float) -> list[IdentityRates]:
    """Each identity's false-reject rate (its genuine trials) and false-accept rate (impostor trials it
    is in) at the threshold, worst false-reject rate first."""
    trials, n = evaluated.trials, len(evaluated.names)
    accepted = accepts(trials.distances, threshold)
    first, second = trials.identities[:, 0], trials.identities[:, 1]

    def per_side(mask: np.ndarray, both_sides: bool) -> np.ndarray:
        counts = np.bincount(first[mask], minlength=n)
        return counts + np.bincount(second[mask], minlength=n) if both_sides else counts

    genuine, impostor = per_side(trials.same, False), per_side(~trials.same, True)
    rejected, let_in = per_side(trials.same & ~accepted, False), per_side(~trials.same & accepted, True)
    samples = np.bincount(evaluated.labels, minlength=n)
    rows = [
        IdentityRates(
            identity=name,
            samples=int(samples[i]),
            genuine_pairs=int(genuine[i]),
            frr=float(rejected[i] / genuine[i]) if genuine[i] else None,
            far=float(let_in[i] / impostor[i]) if impostor[i] else None,
        )
        for i, name in enumerate(evaluated.names)
    ]
    return sorted(rows, key=lambda row: (-1 if row.frr is None else -row.frr, row.identity))


def metrics(
    model: Model,
    evaluated: ScoredPairs,
    episodes: int = 2000,
    seed: int = 0,
    p_target: float = 0.01,
    rounds: int = 200,
    group_separator: str | None = None,
) -> Metrics:
    """Every metric of the model on `evaluated`. With `group_separator`, identities are grouped by their
    name up to its last separator (Omniglot's `Latin_character01`: `Latin`), and one-shot accuracy
    is also reported with every episode drawn within one group."""
    trials = evaluated.trials
    n_identities = len(evaluated.names)
    eer, eer_threshold = equal_error_rate(trials)
    dcf, dcf_threshold = min_dcf(trials, p_target)
    identifiable = int(np.sum(np.bincount(evaluated.labels, minlength=n_identities) >= 2))

    def eer_of(multiplicity: np.ndarray) -> float:
        return equal_error_rate(trials, trials.weights(multiplicity))[0]

    def one_shot(within: np.ndarray | None) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
        accuracy: dict[str, float] = {}
        interval: dict[str, tuple[float, float]] = {}
        for n_way in (n for n in N_WAYS if n <= identifiable):
            rng = np.random.default_rng(seed)
            try:
                correct, target = one_shot_episodes(
                    evaluated.embeddings, evaluated.labels, n_way, episodes, rng, evaluated.distance, within
                )
            except ValueError:  # within groups: none holds n_way identities
                continue
            accuracy[f"{n_way}-way"] = float(correct.mean())

            def accuracy_of(
                multiplicity: np.ndarray, correct: np.ndarray = correct, target: np.ndarray = target
            ) -> float:
                weights = multiplicity[target]  # each episode counts as often as its query's identity was drawn
                if not weights.any():
                    raise ValueError("no episode's identity was drawn")
                return float(np.average(correct, weights=weights))

            interval[f"{n_way}-way"] = bootstrap_interval(accuracy_of, n_identities, rounds, seed)
        return accuracy, interval

    grouped: dict[str, Any] = {}
    if group_separator is not None:
        names = [name.rsplit(group_separator, 1)[0] for name in evaluated.names]
        _, within = np.unique(names, return_inverse=True)
        accuracy, within_interval = one_shot(within)
        grouped = {
            "groups": Groups(group_separator, len(set(names))),
            "one_shot_within_groups": accuracy,
            "one_shot_within_groups_interval": within_interval,
        }
    accuracy, accuracy_interval = one_shot(None)
    return Metrics(
        identities=n_identities,
        samples=len(evaluated.labels),
        genuine_pairs=int(trials.genuine.size),
        impostor_pairs=int(trials.impostor.size),
        impostor_sampling=evaluated.impostor_sampling,
        roc_auc=roc_auc(trials),
        eer=eer,
        eer_interval=bootstrap_interval(eer_of, n_identities, rounds, seed),
        eer_threshold=eer_threshold,
        min_dcf=MinDcf(p_target, dcf, dcf_threshold),
        tar_at_far={f"{far:g}": tar_at_far(trials, far) for far in FAR_TARGETS},
        threshold=model.card.threshold,
        at_threshold=Rates(**rates_at(trials, model.threshold)),
        one_shot=accuracy,
        one_shot_interval=accuracy_interval,
        intervals=Intervals(0.95, rounds, "identities", seed),
        episodes=episodes,
        seed=seed,
        per_identity=per_identity(evaluated, model.threshold),
        open_set=open_set_rates(
            evaluated.embeddings,
            evaluated.labels,
            evaluated.distance,
            None if model.card.open_set is None else model.card.open_set.threshold,
            seed,
        ),
        **grouped,
    )

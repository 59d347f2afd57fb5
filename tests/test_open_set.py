"""Open-set identification (1:N): strangers come back "unknown" at default settings, the threshold
follows the gallery's size, eval's DIR and FPIR are what a direct count gives, and `calibrate --fpir`
sets the operating point that the next `verify` uses."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from siamcli.core.distances import get_distance
from siamcli.core.encoders import build_encoder
from siamcli.core.openset import (
    ClaimPoint,
    OperatingPoint,
    calibrate_claims,
    calibrate_open_set,
    draw_galleries,
    extrapolated,
    identity_groups,
    open_set_rates,
    score_galleries,
    threshold_for_size,
)
from siamcli.core.registry import Spec
from siamcli.gallery import Gallery, NewSample
from siamcli.model import load_model
from siamcli.modelcard import CalibratedOn, OpenSetRecord, ThresholdRecord
from siamcli.modelfile import write_model
from siamcli.usecases.choice import model_ref
from siamcli.usecases.verify import Verdict, Verifier
from tests.conftest import write_face_dataset
from tests.helpers import TINY_CARD, assert_clean_error, json_lines, siamcli, tiny_model

DIM = 64
ONE_TO_ONE = 0.9
POINTS = [  # 1:N thresholds on the open-set score: stricter as the gallery grows, and with 3 samples each
    OperatingPoint(1, 1, 0.9, 0.9),
    OperatingPoint(10, 1, 0.5, 0.8),
    OperatingPoint(100, 1, 0.3, 0.7),
    OperatingPoint(10, 3, 0.4, 0.9),
    OperatingPoint(100, 3, 0.2, 0.8),
]


def test_the_threshold_follows_the_gallery_size_in_log_n_and_the_samples_enrolled() -> None:
    assert threshold_for_size(POINTS, 1) == 0.9 and threshold_for_size(POINTS, 10) == 0.5
    assert threshold_for_size(POINTS, 100) == pytest.approx(0.3)
    assert threshold_for_size(POINTS, round(math.sqrt(1000))) == pytest.approx(0.4, abs=0.002)  # halfway in log N
    # Beyond the largest size calibrated, the last segment's slope continues, and the gallery says so.
    assert threshold_for_size(POINTS, 1000) == pytest.approx(0.1) and extrapolated(POINTS, 1000)
    assert not extrapolated(POINTS, 100)
    # Between 1 and 3 samples each, linearly; beyond 3, as with 3 (more samples were not measured).
    assert threshold_for_size(POINTS, 100, 2.0) == pytest.approx(0.25)
    assert threshold_for_size(POINTS, 100, 5.0) == pytest.approx(0.2)
    # Below the smallest size a row has, that size's threshold.
    assert threshold_for_size(POINTS, 5, 3.0) == 0.4


def in_order(points: list[OperatingPoint]) -> list[OperatingPoint]:
    return sorted(points, key=lambda p: (p.samples_each, p.identities))


def test_an_open_set_record_refuses_what_no_calibration_writes() -> None:
    with pytest.raises(ValueError, match="fpir"):
        OpenSetRecord(1.5, POINTS)
    with pytest.raises(ValueError, match="no calibrated"):
        OpenSetRecord(0.01, [])
    with pytest.raises(ValueError, match="in order"):
        OpenSetRecord(0.01, list(reversed(POINTS)))
    record = OpenSetRecord(0.01, in_order(POINTS))
    assert OpenSetRecord.from_json(json.loads(json.dumps(record.to_json()))) == record


def unit(vector: np.ndarray) -> np.ndarray:
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def basis(i: int) -> np.ndarray:
    vector = np.zeros(DIM, dtype=np.float32)
    vector[i] = 1.0
    return vector


def equidistant(near: list[int], away: int, distance: float) -> np.ndarray:
    """A unit vector at `distance` from each of the unit vectors `near`: their sum, tilted toward `away`."""
    cos = 1 - distance**2 / 2  # |a - b|^2 = 2 - 2 a.b for unit vectors
    tilt = math.sqrt(max(1 / cos**2 - len(near), 0.0))  # so that a.e_i / |a| = cos
    return unit(sum(basis(i) for i in near) + tilt * basis(away))


def composed_model(path: Path) -> Path:
    """A model file whose card holds a 1:1 threshold of 0.9 and the 1:N points above; its network is
    never run: the probes below are embeddings composed by hand."""
    import siamcli.modalities.image.encoders  # noqa: F401  (registers the image networks)

    spec = Spec("small-vgg", {"embedding_dim": DIM, "width": 4, "blocks": 2})
    card = dataclasses.replace(
        TINY_CARD,
        encoder=spec,
        embedding_dim=DIM,
        threshold=ThresholdRecord(ONE_TO_ONE, "far=0.001"),
        open_set=OpenSetRecord(
            0.01, sorted(POINTS, key=lambda p: (p.samples_each, p.identities)), CalibratedOn("test")
        ),
    )
    torch.manual_seed(0)
    write_model(path, build_encoder(spec), card)
    return path


def identify(gallery_path: Path, model_path: Path, probes: np.ndarray, threshold: float | None = None) -> list[Verdict]:
    model = load_model(model_path)
    with Gallery.open(gallery_path) as gallery:
        verifier = Verifier.for_collection(gallery, model, model_ref(model, str(model_path)), None, threshold)
        return list(verifier.decide([Path(f"probe{i}") for i in range(len(probes))], probes))


def enroll_basis(gallery_path: Path, model_path: Path, identities: range) -> None:
    ref = model_ref(load_model(model_path), str(model_path))
    with Gallery.open(gallery_path, create=True) as gallery:
        for i in identities:
            gallery.enroll(ref, f"person{i}", [NewSample(f"/e/{i}", f"{i:064d}", basis(i))])


def test_strangers_near_several_enrolled_people_come_back_unknown(tmp_path: Path) -> None:
    model, gallery = composed_model(tmp_path / "m.model"), tmp_path / "g.db"
    enroll_basis(gallery, model, range(10))
    # Strangers as near to two or three enrolled people as the 1:1 threshold, just inside it or just outside.
    strangers = np.stack(
        [
            equidistant(near, 40 + n, distance)
            for n, (near, distance) in enumerate(
                [([0, 1], 0.8), ([2, 3], 0.85), ([4, 5], 0.88), ([6, 7, 8], 0.92), ([1, 5, 9], 0.95), ([3, 4], 1.0)]
            )
        ]
    )
    for stranger, nearest in zip(strangers, [0.8, 0.85, 0.88, 0.92, 0.95, 1.0]):
        assert np.sort(np.linalg.norm(np.stack([basis(i) for i in range(10)]) - stranger, axis=1))[0] == pytest.approx(
            nearest, abs=1e-5
        )
    verdicts = identify(gallery, model, strangers)
    assert [v.decision for v in verdicts] == ["unknown"] * len(strangers)
    assert all(
        v.threshold == pytest.approx(0.5) and v.operating_point == "fpir=0.01 at 10 identities" for v in verdicts
    )
    # The 1:1 threshold alone (the old rule) would have named the first three.
    named_by_distance = identify(gallery, model, strangers, threshold=ONE_TO_ONE)
    assert [v.decision for v in named_by_distance][:3] == ["identified"] * 3
    # Enrolled people's own probes, nearer to them than to anyone else, are named.
    rng = np.random.default_rng(0)
    genuine = np.stack([unit(basis(i) + 0.15 * unit(rng.normal(size=DIM))) for i in range(10)])
    named = identify(gallery, model, genuine)
    assert [(v.decision, v.identity) for v in named] == [("identified", f"person{i}") for i in range(10)]


def test_the_verdict_uses_the_threshold_for_the_number_enrolled(tmp_path: Path) -> None:
    model, gallery = composed_model(tmp_path / "m.model"), tmp_path / "g.db"
    enroll_basis(gallery, model, range(10))
    # One probe between person0 and everyone else: its score (2*d1 - d2) is about 0.45.
    probe = unit(basis(0) + 0.47 * basis(1) + basis(60))
    (at_ten,) = identify(gallery, model, probe[None])
    assert at_ten.decision == "identified" and at_ten.threshold == pytest.approx(0.5)
    enroll_basis(gallery, model, range(10, 40))  # 40 enrolled: the threshold tightens, as documented
    (at_forty,) = identify(gallery, model, probe[None])
    assert at_forty.threshold == pytest.approx(threshold_for_size(POINTS, 40))
    assert at_forty.threshold < at_forty.score < at_ten.threshold and at_forty.decision == "unknown"


def test_eval_dir_and_fpir_equal_a_direct_count(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(12, 8))
    embeddings = np.concatenate([centres[i] + 0.7 * rng.normal(size=(5, 8)) for i in range(12)]).astype(np.float32)
    labels = np.repeat(np.arange(12), 5)
    distance = get_distance("euclidean")
    threshold = 1.2
    rates = open_set_rates(embeddings, labels, distance, lambda identities, samples_each: threshold, seed=7)
    assert [(r.identities, r.samples_each) for r in rates] == [(9, 1), (9, 3)]
    for measured in rates:
        # The same galleries drawn again, every probe scored by hand: centroid distances, 2*d1 - d2.
        draws = np.random.default_rng([7, measured.identities, measured.samples_each])
        genuine = correct = strangers = named = 0
        for drawn in draw_galleries(
            embeddings, identity_groups(labels), measured.identities, measured.samples_each, measured.rounds, draws
        ):
            starts = [*drawn.enrolled.starts, len(drawn.enrolled.embeddings)]
            centroids = [drawn.enrolled.embeddings[a:b].mean(axis=0) for a, b in itertools.pairwise(starts)]
            for rows, identities in ((drawn.genuine, drawn.genuine_identity), (drawn.strangers, None)):
                for n, row in enumerate(rows):
                    d = [float(np.sqrt(((embeddings[row] - c) ** 2).sum())) for c in centroids]
                    order = sorted(range(len(d)), key=d.__getitem__)
                    accepted = 2 * d[order[0]] - d[order[1]] <= threshold
                    if identities is None:
                        strangers, named = strangers + 1, named + accepted
                    else:
                        genuine, correct = genuine + 1, correct + (accepted and order[0] == identities[n])
        assert (measured.genuine_probes, measured.stranger_probes) == (genuine, strangers)
        assert measured.at_operating_point is not None
        assert measured.at_operating_point.dir == pytest.approx(correct / genuine, abs=1e-12)
        assert measured.at_operating_point.fpir == pytest.approx(named / strangers, abs=1e-12)
        assert 0 < named < strangers and 0 < correct < genuine  # a threshold that decides something
        dirs = [measured.dir_at_fpir[key] for key in ("0.01", "0.05", "0.1")]
        assert dirs == sorted(dirs)


def clusters(identities: int, samples: int, spread: float) -> tuple[np.ndarray, np.ndarray]:
    """Identities as clusters of 16-d embeddings around random centres."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(identities, 16))
    embeddings = np.concatenate([c + spread * rng.normal(size=(samples, 16)) for c in centres]).astype(np.float32)
    return embeddings, np.repeat(np.arange(identities), samples)


def test_calibration_names_at_most_the_share_of_strangers_asked_for_on_held_out_identities() -> None:
    embeddings, labels = clusters(160, 4, spread=0.6)
    distance = get_distance("euclidean")
    points = calibrate_open_set(embeddings[: 80 * 4], labels[: 80 * 4], distance, 0.05)
    assert max(p.identities for p in points) == 80 - 16 and {p.samples_each for p in points} == {1, 2, 3}
    largest = [p for p in points if p.samples_each == 1][-1].identities
    rates = open_set_rates(
        embeddings[80 * 4 :],
        labels[80 * 4 :],
        distance,
        lambda identities, samples_each: threshold_for_size(points, identities, samples_each),
    )
    (held_out,) = [r for r in rates if (r.identities, r.samples_each) == (largest, 1)]
    assert held_out.at_operating_point is not None
    assert 0.02 <= held_out.at_operating_point.fpir <= 0.08 and held_out.at_operating_point.dir > 0.5


def test_a_claim_of_several_samples_is_decided_at_the_threshold_calibrated_for_their_centroid(tmp_path: Path) -> None:
    model_path = composed_model(tmp_path / "m.model")
    card = load_model(model_path).card
    by_samples = [ClaimPoint(2, 0.8, 0.1), ClaimPoint(3, 0.7, 0.05)]
    write_model(
        model_path,
        build_encoder(card.encoder),
        dataclasses.replace(card, threshold=dataclasses.replace(card.threshold, by_samples=by_samples)),
    )
    model, gallery = load_model(model_path), tmp_path / "g.db"
    enroll_basis(gallery, model_path, range(4))
    rng = np.random.default_rng(1)
    with Gallery.open(gallery) as opened:  # person0 gains two more samples: three in all
        extra = [unit(basis(0) + 0.3 * unit(rng.normal(size=DIM))) for _ in range(2)]
        opened.enroll(
            model_ref(model, str(model_path)),
            "person0",
            [NewSample(f"/x/{i}", f"{i + 90:064d}", e) for i, e in enumerate(extra)],
        )
    probe = unit(basis(0) + 0.4 * unit(rng.normal(size=DIM)))[None]

    def claim(name: str, score: str = "centroid") -> Verdict:
        with Gallery.open(gallery) as opened:
            verifier = Verifier.for_collection(opened, model, model_ref(model, str(model_path)), name, None, score)
            (verdict,) = verifier.decide([Path("probe")], probe)
            return verdict

    three, one, nearest = claim("person0"), claim("person1"), claim("person0", "nearest")
    assert (three.threshold, three.operating_point) == (0.7, "far=0.001 at 3 samples")
    assert (one.threshold, one.operating_point) == (ONE_TO_ONE, "far=0.001")
    assert nearest.threshold == ONE_TO_ONE  # calibrated for centroids only
    assert card.threshold.for_samples(2) == ONE_TO_ONE  # a card without them keeps one threshold
    with pytest.raises(ValueError, match="by_samples"):
        dataclasses.replace(card.threshold, by_samples=[ClaimPoint(3, 0.7, 0.1), ClaimPoint(2, 0.8, 0.1)])


def test_claims_of_several_samples_keep_the_false_accept_rate_on_held_out_identities() -> None:
    embeddings, labels = clusters(160, 6, spread=0.8)
    distance = get_distance("euclidean")
    calibration, held_out = labels < 80, labels >= 80
    points = calibrate_claims(embeddings[calibration], labels[calibration], distance, 0.01)
    assert [p.samples_each for p in points] == [2, 3, 5]
    single = np.sort(
        np.asarray(distance.pairwise(embeddings[calibration], embeddings[calibration]))[
            labels[calibration][:, None] != labels[calibration][None]
        ]
    )
    pairs = float(single[int(0.01 * single.size)])
    assert all(p.threshold < pairs for p in points)  # a centroid is nearer to everyone: stricter
    for point in points:
        measured = score_galleries(embeddings[held_out], labels[held_out], distance, 1, point.samples_each, 200)
        _, far = measured.at(point.threshold)
        assert 0.005 <= far <= 0.02
        # the single pairs' threshold would have let in far more
        assert measured.at(pairs)[1] > 1.5 * far


def test_calibrate_fpir_sets_the_operating_point_the_next_verify_uses(tmp_path: Path) -> None:
    data = write_face_dataset(tmp_path / "people", identities=12, samples=4)
    model = tiny_model(tmp_path / "m.model", seed=0)
    assert load_model(model).card.open_set is None
    result = siamcli("calibrate", str(model), str(data), "--far", "0.01", "--fpir", "0.05")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and "1:N thresholds at FPIR 5.00%" in result.stderr
    record = load_model(model).card.open_set
    assert record is not None and record.fpir == 0.05 and record.calibrated_on.data == "people"

    gallery = tmp_path / "g.db"
    for person in ("p1", "p2", "p3"):
        enrolled = siamcli(
            "enroll", person, str(data / person / "1.pgm"), "--model", str(model), "--gallery", str(gallery)
        )
        assert enrolled.returncode == 0, enrolled.stderr
    probe = str(data / "p6" / "2.pgm")
    (verdict,) = json_lines(siamcli("verify", probe, "--json", "--gallery", str(gallery)))
    assert verdict["threshold_source"] == "model" and verdict["operating_point"] == "fpir=0.05 at 3 identities"
    assert verdict["threshold"] == pytest.approx(record.threshold(3, 1.0), rel=1e-5)
    assert verdict["score"] <= verdict["distance"]  # 2*d1 - d2, and d2 >= d1
    assert verdict["decision"] == ("identified" if verdict["score"] <= verdict["threshold"] else "unknown")

    result = siamcli("calibrate", str(model), str(data), "--far", "0.01", "--fpir", "0.1", "--gallery", str(gallery))
    assert result.returncode == 0, result.stderr
    verified = siamcli("verify", probe, "--json", "--gallery", str(gallery))
    (verdict,) = json_lines(verified)
    assert verdict["threshold_source"] == "gallery" and verdict["operating_point"] == "fpir=0.1 at 3 identities"
    assert "not calibrated for 1:N" not in verified.stderr
    with Gallery.open(gallery) as opened:
        (collection,) = opened.collections()
        assert collection.open_set is not None and verdict["threshold"] == pytest.approx(
            collection.open_set.threshold(3)
        )

    # eval reports its open-set rows at the model's own 1:N threshold for each size.
    (metrics,) = json_lines(siamcli("eval", str(model), str(data), "--json", "--episodes", "50"))
    assert [(row["identities"], row["samples_each"]) for row in metrics["open_set"]] == [(9, 1), (9, 3)]
    for row in metrics["open_set"]:
        assert row["at_operating_point"]["threshold"] == pytest.approx(
            record.threshold(row["identities"], row["samples_each"]), rel=1e-5
        )

    # Too few identities for 1:N with --fpir asked for: one line, and the model is left as it was.
    before = model.read_bytes()
    few = write_face_dataset(tmp_path / "few", identities=2, samples=3)
    assert_clean_error(
        siamcli("calibrate", str(model), str(few), "--eer", "--fpir", "0.05"), "too few to calibrate 1:N"
    )
    assert model.read_bytes() == before


def test_a_gallery_whose_operating_point_is_damaged_is_refused_in_one_line(tmp_path: Path) -> None:
    import sqlite3

    model, gallery = composed_model(tmp_path / "m.model"), tmp_path / "g.db"
    enroll_basis(gallery, model, range(3))
    with sqlite3.connect(gallery) as db:
        db.execute("""UPDATE collections SET open_set = '{"fpir": 7, "points": []}'""")
    probe = write_face_dataset(tmp_path / "probes", identities=1, samples=1) / "p1" / "1.pgm"
    result = siamcli("verify", str(probe), "--model", str(model), "--gallery", str(gallery))
    assert_clean_error(result, str(gallery), "1:N operating point")

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from siamcli.data.dataset import require_pairs_possible, scan_dataset, split_identities
from siamcli.data.pairs import count_pairs, make_pairs, read_pairs, write_pairs
from siamcli.errors import SiamcliError
from siamcli.modalities.image.decode import IMAGE_SUFFIXES, load_image, standardize
from tests.conftest import synthetic_face, write_face_dataset


def test_scan_orders_identities_and_files_naturally(tmp_path: Path) -> None:
    for name in ("s10", "s2", "s1"):
        (tmp_path / name).mkdir()
        for i in (10, 2, 1):
            Image.fromarray(synthetic_face(1, i)).save(tmp_path / name / f"{i}.pgm")
    (tmp_path / "s1" / "notes.txt").write_text("not an image")
    dataset = scan_dataset(tmp_path, IMAGE_SUFFIXES)
    assert dataset.names == ["s1", "s2", "s10"]
    assert [f.name for f in dataset.identities[0].files] == ["1.pgm", "2.pgm", "10.pgm"]
    assert dataset.n_samples == 9


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda root: None, "no such folder"),
        (lambda root: root.mkdir(), "no identity subfolders"),
        (lambda root: root.write_text("x"), "not a folder"),
    ],
)
def test_scan_rejects_missing_empty_and_non_folders(tmp_path: Path, setup, message: str) -> None:
    root = tmp_path / "data"
    setup(root)
    with pytest.raises(SiamcliError, match=message):
        scan_dataset(root, IMAGE_SUFFIXES)


def test_single_identity_and_single_sample_are_explained(tmp_path: Path) -> None:
    write_face_dataset(tmp_path / "one", identities=1, samples=3)
    with pytest.raises(SiamcliError, match="at least 2 are needed"):
        require_pairs_possible(scan_dataset(tmp_path / "one", IMAGE_SUFFIXES))
    write_face_dataset(tmp_path / "lonely", identities=3, samples=2)
    (tmp_path / "lonely" / "p2" / "2.pgm").unlink()
    with pytest.raises(SiamcliError, match="'p2' has a single sample.*no genuine pair"):
        require_pairs_possible(scan_dataset(tmp_path / "lonely", IMAGE_SUFFIXES))


def test_split_is_by_identity_seeded_and_disjoint() -> None:
    names = [f"s{i}" for i in range(30)]
    train, held_out = split_identities(names, 6, seed=3)
    assert len(held_out) == 6 and len(train) == 24
    assert not set(train) & set(held_out)
    assert set(train) | set(held_out) == set(names)
    assert split_identities(names, 6, seed=3) == (train, held_out)
    assert split_identities(names, 6, seed=4)[1] != held_out


def test_pairs_are_balanced_distinct_and_deterministic(face_dataset: Path) -> None:
    dataset = scan_dataset(face_dataset, IMAGE_SUFFIXES)
    pairs = make_pairs(dataset, seed=1)
    counts = Counter(p.same for p in pairs)
    assert counts[True] == counts[False] == 8 * 10  # 8 identities x C(5, 2)
    keys = {(p.path_a, p.path_b) for p in pairs}
    assert len(keys) == len(pairs)
    for pair in pairs:
        assert pair.same == (pair.path_a.parent == pair.path_b.parent)
        assert pair.path_a != pair.path_b
    assert make_pairs(dataset, seed=1) == pairs
    assert make_pairs(dataset, seed=2) != pairs


def test_pair_counts_are_configurable_and_bounded(face_dataset: Path) -> None:
    dataset = scan_dataset(face_dataset, IMAGE_SUFFIXES)
    assert count_pairs(dataset) == (80, 40 * 39 // 2 - 80)
    pairs = make_pairs(dataset, n_genuine=5, n_impostor=700, seed=0)
    assert Counter(p.same for p in pairs) == {True: 5, False: 700}
    with pytest.raises(SiamcliError, match="only 80 exist"):
        make_pairs(dataset, n_genuine=81)


def test_pairs_round_trip_through_csv(face_dataset: Path, tmp_path: Path) -> None:
    pairs = make_pairs(scan_dataset(face_dataset, IMAGE_SUFFIXES), n_genuine=10, n_impostor=10)
    csv_path = tmp_path / "pairs.csv"
    with csv_path.open("w") as out:
        write_pairs(pairs, out)
    assert read_pairs(csv_path) == pairs


def test_bad_pairs_files_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n")
    with pytest.raises(SiamcliError, match="not a pairs file"):
        read_pairs(bad)
    bad.write_text("path_a,path_b,label\nx.pgm,y.pgm,2\n")
    with pytest.raises(SiamcliError, match=":2: expected"):
        read_pairs(bad)


@pytest.mark.parametrize("suffix", [".pgm", ".png", ".jpg", ".gif", ".bmp", ".tif"])
@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_every_image_format_loads_to_the_model_size(tmp_path: Path, suffix: str, mode: str) -> None:
    if suffix == ".pgm" and mode == "RGB":
        suffix = ".ppm"
    grey = synthetic_face(2, 0)
    image = Image.fromarray(grey).convert(mode)
    path = tmp_path / f"face{suffix}"
    image.save(path)
    loaded = load_image(path, (64, 52))
    assert loaded.shape == (64, 52) and loaded.dtype == np.float32
    assert loaded.min() >= 0.0 and loaded.max() <= 1.0
    reference = np.asarray(Image.fromarray(grey).resize((52, 64), Image.Resampling.BILINEAR), np.float32) / 255
    tolerance = 0.08 if suffix == ".jpg" else 0.02  # JPEG is lossy
    assert np.abs(loaded - reference).mean() < tolerance


def test_sixteen_bit_and_transparent_images_load(tmp_path: Path) -> None:
    deep = (synthetic_face(3, 0).astype(np.uint16) * 200).astype(np.uint16)
    Image.fromarray(deep).save(tmp_path / "deep.png")
    loaded = load_image(tmp_path / "deep.png", (32, 32))
    assert loaded.max() > 0.9 and loaded.min() < 0.1
    clear = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    clear.paste((0, 0, 0, 255), (10, 10, 30, 30))  # an opaque black square on a transparent ground
    loaded = load_image_saved(clear, tmp_path / "clear.png")
    assert loaded[0, 0] == 1.0 and loaded[4, 4] == 0.0  # transparent is white, not the black behind it


def load_image_saved(image: Image.Image, path: Path) -> np.ndarray:
    image.save(path)
    return load_image(path, (8, 8))


def test_any_size_is_centre_cropped_to_the_aspect(tmp_path: Path) -> None:
    wide = np.zeros((50, 200), np.uint8)
    wide[:, 90:110] = 255  # a bright band in the middle; the crop keeps columns 75-125
    Image.fromarray(wide).save(tmp_path / "wide.png")
    loaded = load_image(tmp_path / "wide.png", (40, 40))
    assert loaded.shape == (40, 40)
    assert loaded[:, 20].mean() > 0.9 and loaded[:, 0].mean() < 0.1


def test_corrupt_and_missing_images_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "junk.png").write_bytes(b"definitely not a png")
    with pytest.raises(SiamcliError, match="junk.png: not a readable image"):
        load_image(tmp_path / "junk.png", (8, 8))
    good = tmp_path / "cut.png"
    Image.fromarray(synthetic_face(1, 1)).save(good)
    good.write_bytes(good.read_bytes()[:200])
    with pytest.raises(SiamcliError, match="cut.png: corrupt or truncated"):
        load_image(good, (8, 8))
    with pytest.raises(SiamcliError, match="gone.pgm: no such file"):
        load_image(tmp_path / "gone.pgm", (8, 8))


def test_standardize_gives_zero_mean_unit_variance() -> None:
    images = np.random.default_rng(0).uniform(0.2, 0.6, size=(3, 10, 10)).astype(np.float32)
    out = standardize(images)
    assert np.allclose(out.reshape(3, -1).mean(1), 0, atol=1e-5)
    assert np.allclose(out.reshape(3, -1).std(1), 1, atol=1e-4)

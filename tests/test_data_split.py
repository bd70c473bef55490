"""What the Dataset holds: exact stratification, reproducibility, the binary layout, limits, and
the full real archive's 35,000 / 15,000 / 10,000 split."""

import json
from pathlib import Path

import numpy as np
import pytest

from alexnet_kfp.data.npz import load_npz
from alexnet_kfp.data.prepare import load_cifar10, prepare_dataset
from alexnet_kfp.files import file_digest

from .archives import binary_archive_from

pytestmark = pytest.mark.unit

FILES = ("train.npz", "val.npz", "test.npz", "dataset.json")


def _split(out: Path, name: str) -> dict[str, np.ndarray]:
    return load_npz(out / f"{name}.npz")


def _rows(x: np.ndarray) -> list[bytes]:
    return sorted(image.tobytes() for image in x)


@pytest.fixture(scope="module")
def seed7_dataset(small_sha256, small_archive, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small") / "ds"
    prepare_dataset(out, source=str(small_archive), sha256=small_sha256, seed=7)
    return out


def test_split_is_exactly_stratified_and_partitions_the_train_batches(seed7_dataset, small_archive):
    original = load_cifar10(small_archive)
    train, val, test = (_split(seed7_dataset, s) for s in ("train", "val", "test"))
    assert np.bincount(train["y"], minlength=10).tolist() == [350] * 10
    assert np.bincount(val["y"], minlength=10).tolist() == [150] * 10
    assert np.bincount(test["y"], minlength=10).tolist() == [100] * 10
    # train + val is exactly the official training set (no image lost or duplicated)...
    assert _rows(np.concatenate([train["x"], val["x"]])) == _rows(original.x_train)
    # ...and test is exactly the official test batch, in its original order.
    np.testing.assert_array_equal(test["x"], original.x_test)
    np.testing.assert_array_equal(test["y"], original.y_test)
    # Training data is shuffled, not grouped by class.
    assert len(set(train["y"][:50].tolist())) > 5


def test_arrays_have_the_documented_layout(seed7_dataset):
    for name in ("train", "val", "test"):
        split = _split(seed7_dataset, name)
        assert split["x"].dtype == np.uint8 and split["x"].shape[1:] == (32, 32, 3)
        assert split["y"].dtype == np.int64 and split["y"].shape == (len(split["x"]),)


def test_labels_stay_with_their_images(seed7_dataset, small_archive):
    original = load_cifar10(small_archive)
    label_of = {
        image.tobytes(): label
        for image, label in zip(original.x_train, original.y_train, strict=True)
    }
    train = _split(seed7_dataset, "train")
    assert all(
        label_of[image.tobytes()] == label
        for image, label in zip(train["x"], train["y"], strict=True)
    )


def test_pixels_are_decoded_in_rgb_planes_order(small_archive):
    """NHWC pixel (r, c, ch) must equal the raw value at ch*1024 + r*32 + c of the batch row."""
    from alexnet_kfp.data.cifar_format import safe_unpickle

    from .archives import members_of

    raw = safe_unpickle(members_of(small_archive)["cifar-10-batches-py/test_batch"], "test")[
        b"data"
    ]
    x = load_cifar10(small_archive).x_test
    for ch, r, c in [(0, 0, 0), (1, 5, 7), (2, 31, 31), (2, 0, 31)]:
        assert x[3, r, c, ch] == raw[3, ch * 1024 + r * 32 + c]


def test_same_seed_gives_byte_identical_output(
    small_sha256, small_archive, seed7_dataset, tmp_path
):
    prepare_dataset(tmp_path / "again", source=str(small_archive), sha256=small_sha256, seed=7)
    for name in FILES:
        assert (tmp_path / "again" / name).read_bytes() == (seed7_dataset / name).read_bytes(), name
    prepare_dataset(tmp_path / "other", source=str(small_archive), sha256=small_sha256, seed=8)
    assert (tmp_path / "other" / "train.npz").read_bytes() != (
        seed7_dataset / "train.npz"
    ).read_bytes()


def test_binary_layout_gives_identical_arrays(small_archive, seed7_dataset, tmp_path):
    original = load_cifar10(small_archive)
    batches = {f"data_batch_{i + 1}": slice(i * 1000, (i + 1) * 1000) for i in range(5)}
    x = {b: original.x_train[s] for b, s in batches.items()} | {"test_batch": original.x_test}
    y = {b: original.y_train[s] for b, s in batches.items()} | {"test_batch": original.y_test}
    archive = binary_archive_from(x, y, original.class_names, tmp_path / "cifar-10-binary.tar.gz")
    record = prepare_dataset(tmp_path / "bin", source=str(archive), seed=7)
    assert record.layout == "binary"
    for name in ("train", "val", "test"):
        python_split, binary_split = _split(seed7_dataset, name), _split(tmp_path / "bin", name)
        np.testing.assert_array_equal(binary_split["x"], python_split["x"])
        np.testing.assert_array_equal(binary_split["y"], python_split["y"])


def test_limit_per_class(small_archive, tmp_path):
    record = prepare_dataset(
        tmp_path / "ds", source=str(small_archive), limit_per_class=40, val_fraction=0.25
    )
    assert {s: record.splits[s].count for s in ("train", "val", "test")} == {
        "train": 300,
        "val": 100,
        "test": 400,
    }
    assert set(record.splits["val"].per_class.values()) == {10}


def test_dataset_json_records_provenance(small_sha256, seed7_dataset):
    record = json.loads((seed7_dataset / "dataset.json").read_text())
    assert record["class_names"][:3] == ["airplane", "automobile", "bird"]
    assert record["source_sha256"] == small_sha256
    assert record["parameters"] == {"val_fraction": 0.3, "seed": 7, "limit_per_class": None}
    assert {"alexnet-kfp", "numpy", "python"} <= set(record["versions"])
    assert record["splits"]["train"]["per_class"]["cat"] == 350


def test_full_real_archive_splits_35k_15k_10k_balanced(full_archive, tmp_path):
    digest = file_digest(full_archive)
    record = prepare_dataset(tmp_path / "ds", source=str(full_archive), sha256=digest)
    counts = {name: split.count for name, split in record.splits.items()}
    assert counts == {"train": 35000, "val": 15000, "test": 10000}
    for split in record.splits.values():
        per_class = list(split.per_class.values())
        assert len(per_class) == 10 and max(per_class) - min(per_class) <= 1

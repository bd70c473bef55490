"""The data step: source archive -> verified, parsed, stratified Dataset directory.

    prepare_dataset(out_dir, DataConfig(source=..., sha256=...))

writes `train.npz`, `val.npz`, `test.npz` (`x`: uint8 NHWC (N, 32, 32, 3), `y`: int64 labels)
and `dataset.json` (class names, counts, source and checksum, parameters, versions). The output
appears atomically (see files.py).
"""

import logging
import time
import zipfile
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from alexnet_kfp.data import fetch
from alexnet_kfp.data.cifar_format import Cifar10, is_cifar_file, parse_cifar10
from alexnet_kfp.data.config import DataConfig
from alexnet_kfp.data.npz import save_npz
from alexnet_kfp.data.safe_archive import read_tar_members
from alexnet_kfp.data.split import check_split_sizes, stratified_split
from alexnet_kfp.data.split import limit_per_class as pick_per_class
from alexnet_kfp.errors import InputError
from alexnet_kfp.extras import install_hint
from alexnet_kfp.files import atomic_output_dir, file_digest
from alexnet_kfp.records import DatasetRecord, Split, SplitParameters, provenance

if TYPE_CHECKING:  # image_folder needs Pillow, which a CIFAR-10 install may lack
    from alexnet_kfp.data.image_folder import LabelledImages

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


def read_source(path: Path) -> dict[str, bytes]:
    """The CIFAR files of an archive (read in memory, never extracted) or of an extracted
    directory."""
    if path.is_dir():
        for folder in (path, path / "cifar-10-batches-py", path / "cifar-10-batches-bin"):
            if not folder.is_dir():
                continue
            files = {
                p.name: p.read_bytes()
                for p in sorted(folder.iterdir())
                if p.is_file() and is_cifar_file(p.name)
            }
            if files:
                return files
        return {}
    return read_tar_members(path, is_cifar_file)


def load_cifar10(path: Path) -> Cifar10:
    """Parse a local archive or directory of either official layout."""
    return parse_cifar10(read_source(path), str(path))


def load_source(path: Path, skip_unreadable: bool) -> tuple[Cifar10, "LabelledImages | None"]:
    """CIFAR-10 (either layout, archive or directory) when the source holds its batches, else a
    folder of class folders (or a tar or zip of one) with its test split held out; with what
    each class's folder held."""
    members = None
    if path.is_dir():
        cifar = read_source(path)
        if cifar:
            return parse_cifar10(cifar, str(path)), None
    elif not zipfile.is_zipfile(path):
        members = read_tar_members(path, lambda name: True)
        if any(is_cifar_file(name) for name in members):
            cifar = {name: data for name, data in members.items() if is_cifar_file(name)}
            return parse_cifar10(cifar, str(path)), None
    image_folder = _image_folder_reader()
    images = image_folder.read_image_folder(path, skip_unreadable, members)
    return image_folder.with_test_split(images), images


def _image_folder_reader() -> ModuleType:
    """image_folder, which decodes images with Pillow: the `predict` extra's, which an install
    for CIFAR-10 alone may lack."""
    try:
        from alexnet_kfp.data import image_folder
    except ModuleNotFoundError as e:
        if e.name != "PIL":
            raise
        raise InputError(
            f"a folder of images needs Pillow, which the predict extra brings: "
            f"{install_hint(['predict'])}"
        ) from None
    return image_folder


def _source_sha256(path: Path, checksum: fetch.Checksum | None) -> str | None:
    """The archive's sha256; fetch.resolve has already verified it when that was the checksum
    given."""
    if path.is_dir():
        return None
    if checksum is not None and checksum.algorithm == "sha256":
        return checksum.hexdigest
    return file_digest(path)


def split_dataset(
    data: Cifar10, val_fraction: float, seed: int, limit_per_class: int | None
) -> dict:
    """{split: (x, y)}; the test split is the official test batch (optionally limited per class)."""
    rng = np.random.default_rng(seed)
    x_pool, y_pool, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test
    if limit_per_class is not None:
        keep = pick_per_class(y_pool, limit_per_class, rng)
        x_pool, y_pool = x_pool[keep], y_pool[keep]
        keep = pick_per_class(y_test, limit_per_class, rng)
        x_test, y_test = x_test[keep], y_test[keep]
    check_split_sizes(
        {f"class {name!r}": int((y_pool == c).sum()) for c, name in enumerate(data.class_names)},
        val_fraction,
    )
    train, val = stratified_split(y_pool, val_fraction, rng)
    return {
        "train": (x_pool[train], y_pool[train]),
        "val": (x_pool[val], y_pool[val]),
        "test": (x_test, y_test),
    }


def _say_what_was_skipped(folder: "LabelledImages") -> None:
    for name, counts in folder.per_class.items():
        if counts.skipped or counts.duplicates:
            log.warning(
                "class %s: %d images read, %d exact duplicates kept once, %d files skipped%s",
                name,
                counts.read,
                counts.duplicates,
                counts.skipped,
                f" (first: {counts.reasons[0]})" if counts.reasons else "",
            )


def unverified(record: DatasetRecord) -> str | None:
    """What to say of a Dataset whose source no checksum verified (none was given), else None:
    the archive's sha256, to give from now on."""
    if record.expected_checksum:
        return None
    source, sha256 = record.source, record.source_sha256
    if sha256 is None:
        return f"unverified archive: {source} is a directory, which no checksum covers"
    return (
        f"unverified archive: {source} was not checked (no checksum given); its sha256 is "
        f"{sha256}: give it (--sha256 {sha256}, or the sha256 parameter) to check the archive"
    )


def prepare_dataset(
    out_dir: str | Path, config: DataConfig | None = None, **values
) -> DatasetRecord:
    """Fetch, verify, parse and split CIFAR-10 into `out_dir` as `config` (or a DataConfig of
    `values`: prepare_dataset(out, source=..., sha256=...)) says; return dataset.json's
    record."""
    out_dir = Path(out_dir)
    config = (config or DataConfig(**values)).check()
    checksum = config.checksum()
    source, limit = config.source, config.limit_per_class or None
    with atomic_output_dir(out_dir) as staging:
        started = time.perf_counter()
        path = fetch.resolve(
            source,
            checksum,
            Path(config.cache_dir) if config.cache_dir else None,
            config.retries,
            config.backoff_s,
            config.stall_timeout_s,
        )
        try:
            data, folder = load_source(path, config.skip_unreadable)
        except InputError:
            if fetch.is_url(
                source
            ):  # a download that is no CIFAR archive (an HTML page...): never reuse it
                fetch.forget(path)
            raise
        splits = split_dataset(data, config.val_fraction, config.seed, limit)
        for name, (x, y) in splits.items():
            save_npz(staging / f"{name}.npz", x=x, y=y)
        record = DatasetRecord(
            layout=data.layout,
            class_names=data.class_names,
            splits={
                name: Split(
                    count=int(len(y)),
                    per_class={
                        data.class_names[c]: int((y == c).sum())
                        for c in range(len(data.class_names))
                    },
                    file=f"{name}.npz",
                    sha256=file_digest(staging / f"{name}.npz"),
                )
                for name, (x, y) in splits.items()
            },
            source=fetch.redact(source),
            source_sha256=_source_sha256(path, checksum),
            expected_checksum=None
            if checksum is None
            else {checksum.algorithm: checksum.hexdigest},
            parameters=SplitParameters(config.val_fraction, config.seed, limit),
            versions=provenance(),
            images=folder.per_class if folder else None,
        )
        record.write(staging)
    if folder is not None:
        _say_what_was_skipped(folder)

    counts = ", ".join(f"{name} {record.splits[name].count}" for name in SPLITS)
    log.info("dataset ready in %s: %s (%.1f s)", out_dir, counts, time.perf_counter() - started)
    return record

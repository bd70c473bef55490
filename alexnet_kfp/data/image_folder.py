"""A folder of class folders (`CLASS/*.png|jpg|...`: Keras' `image_dataset_from_directory`,
torchvision's `ImageFolder`), or a tar or zip archive of one, as labelled 32 x 32 images.

Classes are the folder names, sorted; every image is decoded by image_file.load_image, the loader
`predict` and `serve` use (the same formats, limits, EXIF rotation and JPEG draft decoding). A file
that is not an image is refused by name unless `skip_unreadable`; the same bytes under two classes
are a label conflict and refused, twice in one class kept once. Hidden files and folders (a name
starting with "."; macOS's `__MACOSX`) are passed over. Nothing in the tree is followed outside it.
"""

import hashlib
import io
import logging
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from alexnet_kfp.data.cifar_format import Cifar10
from alexnet_kfp.data.safe_archive import read_zip_members
from alexnet_kfp.data.split import stratified_split
from alexnet_kfp.errors import InputError
from alexnet_kfp.image_file import IMAGE_SUFFIXES, load_image
from alexnet_kfp.progress import SHOWN
from alexnet_kfp.records import ClassImages

log = logging.getLogger(__name__)

LAYOUT = "image-folder"
# A folder has no official test split: this share of each class is held out, by a seed of its own,
# so that the same folder gives the same test split whatever the validation split's seed.
TEST_FRACTION, TEST_SEED, MIN_PER_CLASS = 0.2, 0, 3
MIN_CLASSES, MAX_CLASSES, MAX_NAME_CHARACTERS = 2, 1000, 100
MAX_IMAGES = 2_000_000  # 6 GB of 32 x 32 pixels
MAX_FILE_BYTES = 64 << 20  # one image file; load_image bounds what decoding it costs
_REASONS_KEPT = 20  # the skipped files a record names, per class
# What Pillow raises for a file it cannot decode, or one over load_image's limits.
_UNREADABLE = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)


@dataclass
class LabelledImages:
    """What a folder held: (N, 32, 32, 3) uint8 images, their labels, the class names (sorted),
    and per class what was read, kept once or skipped."""

    x: np.ndarray
    y: np.ndarray
    class_names: list[str]
    per_class: dict[str, ClassImages] = field(default_factory=dict)


def read_image_folder(
    path: Path, skip_unreadable: bool, tar_members: dict[str, bytes] | None = None
) -> LabelledImages:
    """The images of a folder of class folders at `path`, of a zip archive of one, or of a tar
    archive's members already read (`tar_members`)."""
    if path.is_dir():
        files = dict(_folder_files(path))
    else:
        members = tar_members if tar_members is not None else read_zip_members(path)
        files = _archive_files(members, path)
    return _decoded(_by_class(files, path), path, skip_unreadable)


def _folder_files(root: Path) -> Iterator[tuple[PurePosixPath, Callable[[], bytes]]]:
    """(CLASS/FILE, its reader) for every file under `root`; an empty class folder, a file at the
    top, one nested deeper, or a link out of the tree is one line."""
    top = root.resolve()
    for folder in sorted(root.iterdir()):
        if _hidden(folder.name):
            continue
        _inside(folder, top, root)
        if not folder.is_dir():
            raise InputError(
                f"{root}: holds no CIFAR-10 batches, and {folder.name} is a file beside the "
                "class folders: expected only folders of images, one per class (CLASS/image.png)"
            )
        found = False
        for file in sorted(folder.iterdir()):
            if _hidden(file.name):
                continue
            _inside(file, top, root)
            if file.is_dir():
                raise InputError(
                    f"{root}: {folder.name}/{file.name} is a folder inside a class folder: images "
                    "go directly in their class's folder (CLASS/image.png), nothing deeper"
                )
            found = True
            yield PurePosixPath(folder.name, file.name), _reader(file)
        if not found:
            raise InputError(f"{root}: the class folder {folder.name} holds no files")


def _reader(file: Path) -> Callable[[], bytes]:
    def read() -> bytes:
        if not file.is_file():
            raise InputError(f"{file}: not a regular file (a device, a FIFO?)")
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ValueError(f"{size:,} bytes, more than the {MAX_FILE_BYTES >> 20} MiB allowed")
        return file.read_bytes()

    return read


def _inside(path: Path, top: Path, root: Path) -> None:
    """Refuse a link that leads out of the tree."""
    if path.is_symlink() and not path.resolve().is_relative_to(top):
        raise InputError(
            f"{root}: {path.relative_to(root)} is a link to {path.resolve()}, outside the folder; "
            "copy the file in instead"
        )


def _hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def _archive_files(
    members: dict[str, bytes], archive: Path
) -> dict[PurePosixPath, Callable[[], bytes]]:
    """{CLASS/FILE: reader} of an archive's files: class folders at its top or inside one folder
    that holds them all."""
    paths = {PurePosixPath(name.removeprefix("./")): data for name, data in members.items()}
    paths = {p: d for p, d in paths.items() if not any(_hidden(part) for part in p.parts)}
    if not paths:
        raise InputError(f"{archive}: holds no files")
    tops = {p.parts[0] for p in paths}
    if len(tops) == 1 and all(len(p.parts) == 3 for p in paths):
        paths = {PurePosixPath(*p.parts[1:]): d for p, d in paths.items()}
    for p in paths:
        if len(p.parts) != 2:
            raise InputError(
                f"{archive}: holds no CIFAR-10 batches, and {p} is not CLASS/image: expected one "
                "folder of class folders (CLASS/image.png, or ROOT/CLASS/image.png), nothing "
                "deeper or at the top"
            )
    return {p: _given(data) for p, data in paths.items()}


def _given(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def _by_class(
    files: dict[PurePosixPath, Callable[[], bytes]], where: Path
) -> dict[str, list[tuple[str, Callable[[], bytes]]]]:
    classes: dict[str, list[tuple[str, Callable[[], bytes]]]] = {}
    for path, read in sorted(files.items()):
        classes.setdefault(path.parts[0], []).append((path.name, read))
    for name in classes:
        check_class_name(name, where)
    if not MIN_CLASSES <= len(classes) <= MAX_CLASSES:
        raise InputError(
            f"{where}: {len(classes)} class folder(s) ({', '.join(list(classes)[:5])}"
            f"{', ...' if len(classes) > 5 else ''}); a classifier needs {MIN_CLASSES} to "
            f"{MAX_CLASSES} classes"
        )
    total = sum(len(found) for found in classes.values())
    if total > MAX_IMAGES:
        raise InputError(f"{where}: {total:,} files, more than the {MAX_IMAGES:,} allowed")
    return classes


def check_class_name(name: str, where: Path | str) -> None:
    """A folder name that can be a label everywhere a label is shown: not empty, no control or
    format characters, at most MAX_NAME_CHARACTERS."""
    bad = [c for c in name if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")]
    if not name.strip() or bad or len(name) > MAX_NAME_CHARACTERS:
        why = (
            "is blank"
            if not name.strip()
            else f"holds control characters ({', '.join(f'U+{ord(c):04X}' for c in bad[:3])})"
            if bad
            else f"is {len(name)} characters long (at most {MAX_NAME_CHARACTERS})"
        )
        raise InputError(f"{where}: the class folder name {name!r} {why}: not valid as a label")


def _decoded(
    classes: dict[str, list[tuple[str, Callable[[], bytes]]]], where: Path, skip: bool
) -> LabelledImages:
    """Decode every file once, in sorted order: duplicates by content, unreadable files."""
    names = sorted(classes)
    total, done, shown_at = sum(len(found) for found in classes.values()), 0, 0
    images: list[np.ndarray] = []
    labels: list[int] = []
    seen: dict[str, str] = {}  # sha256 -> CLASS/FILE it was first read as
    per_class: dict[str, ClassImages] = {}
    for label, name in enumerate(names):
        counts = ClassImages(read=0, duplicates=0, skipped=0, reasons=[])
        for file_name, read in classes[name]:
            done += 1
            if done * 10 // total > shown_at:  # a line each tenth, for a folder of thousands
                shown_at = done * 10 // total
                log.info("read %d of %d files (%d classes)", done, total, len(names), extra=SHOWN)
            shown = f"{name}/{file_name}"
            try:
                data = _image_bytes(file_name, read)
                pixels = load_image(io.BytesIO(data))
            except _UNREADABLE as e:
                reason = f"{shown}: {str(e) or type(e).__name__}"
                if not skip:
                    raise InputError(
                        f"{where}: {reason}: not an image this project decodes (--skip-unreadable "
                        "skips such files and counts them)"
                    ) from None
                counts.skipped += 1
                if len(counts.reasons) < _REASONS_KEPT:
                    counts.reasons.append(reason)
                continue
            digest = hashlib.sha256(data).hexdigest()
            first = seen.setdefault(digest, shown)
            if first != shown:
                if not first.startswith(f"{name}/"):
                    raise InputError(
                        f"{where}: {shown} and {first} are the same image under two classes: a "
                        "label conflict; keep it in one class folder"
                    )
                counts.duplicates += 1
                continue
            counts.read += 1
            images.append(pixels)
            labels.append(label)
        if counts.read == 0:
            raise InputError(
                f"{where}: the class folder {name} holds no readable image "
                f"({counts.skipped} skipped, {counts.duplicates} duplicates)"
            )
        per_class[name] = counts
    x = np.stack(images).astype(np.uint8)
    return LabelledImages(x, np.asarray(labels, dtype=np.int64), names, per_class)


def _image_bytes(file_name: str, read: Callable[[], bytes]) -> bytes:
    suffix = PurePosixPath(file_name).suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise ValueError(f"not an image file name (expected {', '.join(sorted(IMAGE_SUFFIXES))})")
    return read()


def with_test_split(images: LabelledImages) -> Cifar10:
    """The images as CIFAR-10's shape of data: TEST_FRACTION of each class held out as the test
    split, the rest the pool the validation split is drawn from as for CIFAR-10."""
    for label, name in enumerate(images.class_names):
        count = int((images.y == label).sum())
        if count < MIN_PER_CLASS:
            raise InputError(
                f"the class {name!r} has {count} image(s): at least {MIN_PER_CLASS} are needed "
                "(one each for training, validation and test)"
            )
    pool, test = stratified_split(images.y, TEST_FRACTION, np.random.default_rng(TEST_SEED))
    x, y = images.x, images.y
    return Cifar10(x[pool], y[pool], x[test], y[test], images.class_names, LAYOUT)

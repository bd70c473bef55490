"""Your own images: a folder of class folders, or a tar or zip of one, through the data step. The
classes are the folders, sorted; every image goes through the loader `predict` uses; duplicates,
unreadable files, odd names, links and layouts are counted or refused in one line with nothing
written."""

import io
import json
import os

import numpy as np
import pytest
from PIL import Image

from alexnet_kfp.data.npz import load_split
from alexnet_kfp.data.prepare import prepare_dataset
from alexnet_kfp.errors import InputError
from alexnet_kfp.files import file_digest
from alexnet_kfp.image_file import load_image
from alexnet_kfp.records import DatasetRecord

from .cli import run_cli_without_tensorflow
from .http_server import Behaviour, LoopbackServer
from .image_folders import class_files, write_folder, write_tar, write_zip

pytestmark = pytest.mark.unit

CLASSES = ["cat", "dog", "ship"]


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return class_files(CLASSES, 10)


def _prepare(source, out, **values) -> DatasetRecord:
    return prepare_dataset(out, source=str(source), **values)


def test_a_folder_of_class_folders_becomes_a_dataset(files, tmp_path):
    folder = write_folder(tmp_path / "photos", files)
    record = _prepare(folder, tmp_path / "ds")
    assert record.layout == "image-folder" and record.class_names == CLASSES
    counts = {name: split.count for name, split in record.splits.items()}
    assert counts == {"train": 18, "val": 6, "test": 6}  # 2 test a class, 30 % of the rest val
    for split in record.splits.values():
        assert set(split.per_class.values()) == {split.count // 3}  # stratified
    assert record.images is not None and record.images["dog"].read == 10
    # each image is what predict's loader makes of the file
    x, y = load_split(tmp_path / "ds", "train")
    by_pixels = {load_image(folder / name).tobytes(): name for name in files}
    for pixels, label in zip(x, y, strict=True):
        assert by_pixels[pixels.tobytes()].split("/")[0] == CLASSES[label]
    # the same folder gives the same splits; the record says what was read
    again = _prepare(folder, tmp_path / "again")
    assert again.splits == record.splits
    written = json.loads((tmp_path / "ds" / "dataset.json").read_text())
    assert written["images"]["cat"] == {"read": 10, "duplicates": 0, "skipped": 0, "reasons": []}


@pytest.mark.parametrize("packed", ["tar", "zip", "tar-with-top", "zip-with-top"])
def test_an_archive_of_one_gives_the_same_dataset(files, tmp_path, packed):
    top = "photos" if packed.endswith("with-top") else ""
    write = write_tar if packed.startswith("tar") else write_zip
    archive = write(tmp_path / f"photos.{packed[:3]}", files, top)
    record = _prepare(archive, tmp_path / "ds")
    folder = _prepare(write_folder(tmp_path / "photos", files), tmp_path / "from-folder")
    assert record.class_names == CLASSES and record.splits == folder.splits
    assert record.source_sha256 is not None  # an archive has a checksum to give next time


def test_what_macos_and_hidden_files_leave_in_an_archive_is_passed_over(files, tmp_path):
    leftovers = {".DS_Store": b"\0", "__MACOSX/cat/._0000.png": b"\0", "cat/.hidden.png": b"x"}
    archive = write_zip(tmp_path / "mac.zip", {**files, **leftovers})
    assert _prepare(archive, tmp_path / "ds").class_names == CLASSES


def test_an_archive_by_url_is_checked_and_read(files, tmp_path):
    archive = write_zip(tmp_path / "photos.zip", files)
    with LoopbackServer(Behaviour({"/photos.zip": archive.read_bytes()})) as server:
        url = server.url("/photos.zip")
        record = _prepare(url, tmp_path / "ds", sha256=file_digest(archive), cache_dir=tmp_path)
        assert record.class_names == CLASSES and record.source_sha256 == file_digest(archive)
        with pytest.raises(InputError, match="sha256"):
            _prepare(url, tmp_path / "no", sha256="0" * 64, cache_dir=tmp_path / "other")


def test_duplicates_are_kept_once_and_a_label_conflict_is_refused(files, tmp_path):
    twice = {**files, "cat/copy.png": files["cat/0000.png"]}
    record = _prepare(write_folder(tmp_path / "twice", twice), tmp_path / "ds")
    assert record.images is not None
    assert (record.images["cat"].read, record.images["cat"].duplicates) == (10, 1)
    conflict = {**files, "dog/cat-really.png": files["cat/0000.png"]}
    with pytest.raises(InputError, match=r"dog/cat-really.png and cat/0000.png are the same image"):
        _prepare(write_folder(tmp_path / "conflict", conflict), tmp_path / "no")
    assert not (tmp_path / "no").exists()


def test_a_file_that_is_not_an_image_is_named_or_skipped_and_counted(files, tmp_path):
    junk = {**files, "dog/notes.txt": b"not a picture", "ship/broken.png": b"\x89PNG\r\n\x1a\n"}
    folder = write_folder(tmp_path / "junk", junk)
    with pytest.raises(InputError, match=r"dog/notes.txt: not an image file name.*--skip"):
        _prepare(folder, tmp_path / "no")
    assert not (tmp_path / "no").exists()
    record = _prepare(folder, tmp_path / "ds", skip_unreadable=True)
    assert record.images is not None
    assert record.images["dog"].skipped == 1 and record.images["ship"].skipped == 1
    assert record.images["ship"].reasons[0].startswith("ship/broken.png: ")


def _refused(tmp_path, tree: dict[str, bytes], says: str) -> None:
    folder = write_folder(tmp_path / "tree", tree)
    done = run_cli_without_tensorflow("data", "--source", folder, "--out", tmp_path / "ds")
    assert done.returncode == 2, done.stderr
    *progress, line = done.stderr.strip().splitlines()
    assert says in line and line.startswith("alexnet-kfp data: error: "), line
    assert all(" files (" in shown for shown in progress), progress  # "read 9 of 30 files (3..."
    assert not (tmp_path / "ds").exists()


@pytest.mark.parametrize(
    "change, says",
    [
        (lambda f: {k: v for k, v in f.items() if k.startswith("cat/")}, "1 class folder(s)"),
        (lambda f: {**f, "nested/deeper/x.png": f["cat/0000.png"]}, "is a folder inside a class"),
        (lambda f: {**f, "top.png": f["cat/0000.png"]}, "is a file beside the class folders"),
        (lambda f: {**f, "x" * 101 + "/a.png": f["cat/0000.png"]}, "101 characters long"),
        (lambda f: {**f, "a\x07b/a.png": f["cat/0000.png"]}, "control characters (U+0007)"),
        (lambda f: {**f, " /a.png": f["cat/0000.png"]}, "is blank"),
        (
            lambda f: (
                {k: v for k, v in f.items() if k != "ship/0000.png" and k[:4] != "ship"}
                | {"ship/0000.png": f["ship/0000.png"]}
            ),
            "'ship' has 1 image(s)",
        ),
    ],
    ids=["one-class", "nested", "file-at-top", "long-name", "control", "blank", "too-few"],
)
def test_a_tree_that_is_no_labelled_set_is_one_line(files, tmp_path, change, says):
    _refused(tmp_path, change(files), says)


def test_an_empty_class_folder_and_a_link_out_of_the_tree_are_one_line(files, tmp_path):
    folder = write_folder(tmp_path / "tree", files)
    (folder / "empty").mkdir()
    done = run_cli_without_tensorflow("data", "--source", folder, "--out", tmp_path / "ds")
    assert done.returncode == 2 and "the class folder empty holds no files" in done.stderr
    (folder / "empty").rmdir()
    outside = tmp_path / "secret.png"
    outside.write_bytes(files["cat/0000.png"])
    os.symlink(outside, folder / "cat" / "link.png")
    done = run_cli_without_tensorflow("data", "--source", folder, "--out", tmp_path / "ds")
    assert done.returncode == 2 and "outside the folder" in done.stderr, done.stderr


def test_more_than_a_thousand_classes_is_refused_before_any_image_is_read(tmp_path):
    one = class_files(["a"], 1)["a/0000.png"]
    tree = {f"c{i:04d}/x.png": one for i in range(1001)}  # the same bytes: never decoded
    _refused(tmp_path, tree, "1001 class folder(s)")


def test_an_archive_that_is_not_one_folder_of_class_folders_is_one_line(files, tmp_path):
    for archive, says in (
        (write_zip(tmp_path / "flat.zip", {"a.png": files["cat/0000.png"]}), "is not CLASS/image"),
        (write_tar(tmp_path / "deep.tgz", files, "a/b"), "is not CLASS/image"),
        (write_zip(tmp_path / "empty.zip", {}), "holds no files"),
    ):
        with pytest.raises(InputError, match=says):
            _prepare(archive, tmp_path / "no")
        assert not (tmp_path / "no").exists()


def test_a_zip_member_that_leaves_the_tree_is_refused(files, tmp_path):
    archive = write_zip(tmp_path / "escape.zip", {**files, "../evil/x.png": files["cat/0000.png"]})
    with pytest.raises(InputError, match="points outside the archive"):
        _prepare(archive, tmp_path / "no")


def test_images_of_every_mode_are_read_as_rgb(tmp_path):
    """16-bit greyscale and 1-bit PNGs, a CMYK JPEG, a GIF: each class a mode of its own."""
    tree = {}
    for label, (mode, kind) in enumerate(
        (("I;16", "PNG"), ("CMYK", "JPEG"), ("1", "PNG"), ("RGB", "GIF"))
    ):
        for index in range(3):
            colour = (0, 0, 0, 0) if mode == "CMYK" else label * 60
            buffer = io.BytesIO()
            Image.new(mode, (40 + index, 30), color=colour).save(buffer, kind)
            tree[f"m{label}/{index}.{kind.lower()}"] = buffer.getvalue()
    record = _prepare(write_folder(tmp_path / "modes", tree), tmp_path / "ds")
    assert record.class_names == ["m0", "m1", "m2", "m3"]
    x, _ = load_split(tmp_path / "ds", "test")
    assert x.dtype == np.uint8 and x.shape[1:] == (32, 32, 3)

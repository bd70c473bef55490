"""`alexnet-kfp data`: fetch, verify, parse and split (alexnet_kfp.data.prepare). One flag per
DataConfig field, made from the field's type, default and help."""

import argparse
import sys

from alexnet_kfp.cli.options import command, config_flags, config_from, directories, new_dir
from alexnet_kfp.data.config import DataConfig


def _cmd_data(args: argparse.Namespace) -> int:
    """Fetch CIFAR-10 (URL, file:// URL, archive path or extracted directory; python or binary
    layout), verify its checksum, parse it without executing pickled code, and write a stratified
    train/val split plus the official test batch as train.npz, val.npz, test.npz and
    dataset.json; or read a folder of class folders (or a tar/zip of one) the same way, a test
    split held out of it."""
    from alexnet_kfp.data.prepare import prepare_dataset, unverified

    record = prepare_dataset(args.out, config_from(DataConfig, args))
    notice = unverified(record)
    if notice:
        print(f"alexnet-kfp data: warning: {notice}", file=sys.stderr)
    counts = ", ".join(f"{name} {split.count}" for name, split in record.splits.items())
    print(f"wrote {args.out}: {counts} images, {len(record.class_names)} classes")
    return 0


def add(sub) -> None:
    p = command(
        sub,
        _cmd_data,
        "fetch, verify, parse and split CIFAR-10, or a folder of class folders, into a Dataset "
        "directory",
    )
    config_flags(p, DataConfig)
    directories(p, out=new_dir("Dataset"))

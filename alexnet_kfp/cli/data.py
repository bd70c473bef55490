"""`alexnet-kfp data`: fetch, verify, parse and split (alexnet_kfp.data.prepare)."""

import argparse

from alexnet_kfp.cli.options import command, directories, new_dir, option


def _cmd_data(args: argparse.Namespace) -> int:
    """Fetch CIFAR-10 (URL, file:// URL, archive path or extracted directory; python or binary
    layout), verify its checksum, parse it without executing pickled code, and write a stratified
    train/val split plus the official test batch as train.npz, val.npz, test.npz and
    dataset.json."""
    from alexnet_kfp.data.prepare import prepare_dataset

    dataset_info = prepare_dataset(
        args.out,
        source=args.source,
        sha256=args.sha256,
        md5=args.md5,
        val_fraction=args.val_fraction,
        seed=args.seed,
        limit_per_class=args.limit_per_class,
        cache_dir=args.cache_dir,
        stall_timeout_s=args.stall_timeout,
    )
    counts = ", ".join(f"{name} {split['count']}" for name, split in dataset_info["splits"].items())
    print(f"wrote {args.out}: {counts} images, {len(dataset_info['class_names'])} classes")
    return 0


def add_source_options(p, default: str | None) -> None:
    p.add_argument(
        "--source",
        default=default,
        help="http(s):// or file:// URL, .tar.gz path, or extracted "
        "cifar-10-batches-py/-bin directory (default: the official URL, checked against its md5)",
    )
    checks = p.add_mutually_exclusive_group()
    checks.add_argument("--sha256", metavar="HEX", help="expected sha256 of the source archive")
    checks.add_argument("--md5", metavar="HEX", help="expected md5 of the source archive")


def add(sub) -> None:
    from alexnet_kfp.data.fetch import DEFAULT_STALL_TIMEOUT_S
    from alexnet_kfp.data.prepare import DEFAULT_SEED, DEFAULT_VAL_FRACTION, OFFICIAL_URL

    p = command(sub, _cmd_data, "fetch, verify, parse and split CIFAR-10 into a Dataset directory")
    add_source_options(p, OFFICIAL_URL)
    held_out = "share of each class held out for validation"
    option(p, "--val-fraction", DEFAULT_VAL_FRACTION, held_out, metavar="F")
    option(p, "--seed", DEFAULT_SEED, "split seed")
    limit = "keep at most N images per class from the train batches and the test batch (quick runs)"
    p.add_argument("--limit-per-class", type=int, metavar="N", help=limit)
    cache = "where downloads are kept (default ~/.cache/alexnet-kfp)"
    p.add_argument("--cache-dir", metavar="DIR", help=cache)
    stall = "fail a download when the server sends nothing for this long, retries included"
    option(p, "--stall-timeout", DEFAULT_STALL_TIMEOUT_S, stall, metavar="SECONDS")
    directories(p, out=new_dir("Dataset"))

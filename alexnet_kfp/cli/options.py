"""Command-line options that several commands share, each written once."""

import argparse

DATASET_DIR = "Dataset directory from `alexnet-kfp data`"
MODEL_DIR = "Model directory from `alexnet-kfp train`"


def new_dir(what: str) -> str:
    """The help of an output directory option."""
    return f"new (or empty) directory for the {what}"


def directories(parser: argparse.ArgumentParser, **helps: str) -> None:
    """Required DIR options, in order: directories(p, data=DATASET_DIR, out=new_dir("Model"))."""
    for name, help_text in helps.items():
        parser.add_argument(f"--{name}", required=True, metavar="DIR", help=help_text)

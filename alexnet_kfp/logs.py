"""One logging setup for every entry point (CLI, Kubeflow component): plain lines on stderr."""

import logging
import sys


def configure(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr, force=True)

"""The data step's configuration: where the archive comes from, how it is checked, how it is
split. Free of numpy work, so the CLI and the pipeline's parameter table read it cheaply."""

import math
import urllib.parse
from dataclasses import dataclass

from alexnet_kfp.config import StepConfig, option
from alexnet_kfp.data import fetch
from alexnet_kfp.data.split import check_parameters
from alexnet_kfp.errors import InputError

OFFICIAL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
OFFICIAL_MD5 = "c58f30108f718f92721af3b95e74349a"
OFFICIAL_NAME = OFFICIAL_URL.rsplit("/", 1)[-1]


@dataclass
class DataConfig(StepConfig):
    """Everything that decides a Dataset; recorded in dataset.json (the split's part)."""

    source: str = option(
        OFFICIAL_URL,
        "the data: CIFAR-10's archive (an http(s):// or file:// URL, a .tar.gz path or an "
        "extracted cifar-10-batches-py/-bin directory; the official URL's md5 is always "
        "checked), or your own images: a folder of class folders (CLASS/image.png), or a tar or "
        "zip archive of one",
        metavar="SRC",
    )
    sha256: str = option(
        "", "the archive's expected SHA-256 (hex); empty: not checked", metavar="HEX"
    )
    md5: str = option("", "the archive's expected MD5 (hex), instead of a SHA-256", metavar="HEX")
    val_fraction: float = option(
        0.3,  # the article's train_test_split(test_size=0.3)
        "share of each class's training images held out for validation",
        metavar="F",
    )
    seed: int = option(42, "random seed of the split (the pipeline's also seeds training)")
    limit_per_class: int = option(
        0, "keep at most this many images per class (0: all)", metavar="N"
    )
    skip_unreadable: bool = option(
        False,
        "a folder of class folders: skip files that are not images (counted in dataset.json) "
        "instead of refusing the folder",
    )
    cache_dir: str = option(
        "", "where downloads are kept (default: ~/.cache/alexnet-kfp)", metavar="DIR"
    )
    stall_timeout_s: float = option(
        fetch.DEFAULT_STALL_TIMEOUT_S,
        "fail a download when the server sends nothing for this long, retries included",
        flag="--stall-timeout",
        metavar="SECONDS",
    )
    retries: int = option(4, "download attempts after the first", metavar="N")
    backoff_s: float = option(
        1.0, "seconds before the first retry, doubling after each", flag="--backoff", metavar="S"
    )

    def check(self) -> "DataConfig":
        """Fail before any download when the split cannot be made or the checksum is no checksum
        (NaN fails every comparison here)."""
        check_parameters(self.val_fraction, self.limit_per_class or None, self.seed)
        self.checksum()
        if not 0 < self.stall_timeout_s < math.inf:
            raise InputError(
                f"stall_timeout_s must be a positive number, got {self.stall_timeout_s}"
            )
        if self.retries < 0 or not 0 <= self.backoff_s < math.inf:
            raise InputError(
                f"retries and backoff_s must be 0 or more, got {self.retries} and {self.backoff_s}"
            )
        return self

    def checksum(self) -> fetch.Checksum | None:
        """The checksum the archive must match: the one given, else the official archive's MD5
        when the source is the official URL or a file of the official archive's name, else
        none."""
        if self.sha256 and self.md5:
            raise InputError("give sha256 or md5, not both")
        if self.sha256:
            return fetch.Checksum.parse("sha256", self.sha256)
        if self.md5:
            return fetch.Checksum.parse("md5", self.md5)
        if self.source == OFFICIAL_URL:
            return fetch.Checksum("md5", OFFICIAL_MD5)
        if _file_name(self.source) == OFFICIAL_NAME:
            note = f"{OFFICIAL_NAME} is the official archive's name; for another, give sha256"
            return fetch.Checksum("md5", OFFICIAL_MD5, note)
        return None


def _file_name(source: str) -> str:
    """The last part of the source's path, URL or not."""
    path = urllib.parse.urlsplit(source).path if fetch.is_url(source) else source
    return path.rstrip("/").rsplit("/", 1)[-1]

"""Turn a source (http(s) URL, file:// URL or local path) into a verified local path.

Downloads are cached under `<cache>/<key>/<name>`, the key a hash of what was asked for (the URL
and, when given, the checksum), so another URL or another expected digest never reuses the file.
They stream into `<name>.part`, resume with an HTTP Range request after a cut, retry with
exponential backoff, and are renamed into place only after the checksum matched; `forget()` drops
a cached file that later fails to parse. A server that sends nothing for `stall_timeout_s`
(default 2 minutes, retries included) fails the download. A cached archive that still matches is
used without any network call.
"""

import hashlib
import http.client
import logging
import math
import os
import re
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from alexnet_kfp import __version__
from alexnet_kfp.data.progress import byte_progress
from alexnet_kfp.errors import InputError
from alexnet_kfp.files import file_digest, make_directory, write_atomically

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """$ALEXNET_KFP_CACHE, else ~/.cache/alexnet-kfp; with no home directory (no HOME and no
    passwd entry, as in some pods) a folder of this user's under the temporary directory. Asked
    when a download needs it, never at import: every command must start without a home."""
    if os.environ.get("ALEXNET_KFP_CACHE"):
        return Path(os.environ["ALEXNET_KFP_CACHE"])
    try:
        return Path.home() / ".cache" / "alexnet-kfp"
    except RuntimeError:  # "Could not determine home directory."
        return Path(tempfile.gettempdir()) / f"alexnet-kfp-cache-{os.getuid()}"


_CHUNK = 1 << 20
DEFAULT_STALL_TIMEOUT_S = 120.0  # silence (no byte received) tolerated across all attempts
_READ_TIMEOUT_S = 30.0  # one connect or read; the stall budget caps it
_HEX_LENGTH = {"sha256": 64, "md5": 32}
# Client errors that no retry can fix; everything else (5xx, resets, timeouts) is retried.
_FATAL_HTTP = {400, 401, 403, 404, 405, 410}


@dataclass(frozen=True)
class Checksum:
    """An expected digest of the source archive."""

    algorithm: str  # "sha256" or "md5"
    hexdigest: str
    note: str = ""  # why this checksum, said with a mismatch

    @classmethod
    def parse(cls, algorithm: str, value: str) -> "Checksum":
        value = value.strip().lower()
        if not re.fullmatch(rf"[0-9a-f]{{{_HEX_LENGTH[algorithm]}}}", value):
            raise InputError(
                f"{algorithm} {value!r} is not a {_HEX_LENGTH[algorithm]}-digit hex digest"
            )
        return cls(algorithm, value)


def _check(path: Path, checksum: Checksum | None, label: str) -> None:
    if checksum is None:
        return
    actual = file_digest(path, checksum.algorithm)
    if actual != checksum.hexdigest:
        raise InputError(
            f"{label}: {checksum.algorithm} mismatch: expected {checksum.hexdigest}, got "
            f"{actual}; the file is corrupt, incomplete or not the one you meant"
            + (f" ({checksum.note})" if checksum.note else "")
        )


def redact(source: str) -> str:
    """The source as safe to record: no password or token in user info or query."""
    parts = urllib.parse.urlsplit(source)
    if parts.scheme not in ("http", "https"):
        return source
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def resolve(
    source: str,
    checksum: Checksum | None,
    cache_dir: Path | None = None,
    retries: int = 4,
    backoff_s: float = 1.0,
    stall_timeout_s: float = DEFAULT_STALL_TIMEOUT_S,
) -> Path:
    """Return a local, checksum-verified path for `source` (downloading it when it is a URL)."""
    if is_url(source):
        if not 0 < stall_timeout_s < math.inf:
            raise InputError(
                f"stall_timeout must be a positive number of seconds, got {stall_timeout_s}"
            )
        budget = _StallBudget(stall_timeout_s)
        return _download_cached(
            source, checksum, Path(cache_dir or default_cache_dir()), retries, backoff_s, budget
        )
    path = local_path(source)
    if path.is_dir():
        if checksum is not None:
            raise InputError(f"source {source} is a directory; sha256/md5 apply to archives only")
        return path
    _check(path, checksum, str(path))
    return path


def is_url(source: str) -> bool:
    return urllib.parse.urlsplit(source).scheme.lower() in ("http", "https")


def local_path(source: str) -> Path:
    """The existing file or directory a non-URL source (a file:// URL or a path) names."""
    scheme = urllib.parse.urlsplit(source).scheme.lower()
    if scheme == "file":
        path = Path(urllib.request.url2pathname(urllib.parse.urlsplit(source).path))
    elif scheme and len(scheme) > 1:
        raise InputError(
            f"source {source!r}: unsupported scheme {scheme!r}; use http(s)://, file:// or a path"
        )
    else:
        path = Path(source)
    if not path.exists():
        raise InputError(f"source {source}: no such file or directory")
    return path


def cache_key(url: str, checksum: Checksum | None) -> str:
    """What a cached download answers to: the URL and the expected digest, if any."""
    asked = url if checksum is None else f"{url}\n{checksum.algorithm}:{checksum.hexdigest}"
    return hashlib.sha256(asked.encode()).hexdigest()[:24]


def forget(path: Path) -> None:
    """Drop a cached download (and its digest) that turned out unusable, so no later run reuses
    it."""
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".sha256").unlink(missing_ok=True)


def _download_cached(url, checksum, cache_dir, retries, backoff_s, budget) -> Path:
    name = Path(urllib.parse.urlsplit(url).path).name or "download"
    folder = cache_dir / cache_key(url, checksum)
    make_directory(folder, f"cache directory {cache_dir}")
    dest = folder / name
    if dest.exists() and _cache_is_valid(dest, checksum):
        log.info("using cached %s (checksum verified, no download)", dest)
        return dest
    part = dest.with_name(name + ".part")
    resumed = _download_with_retries(url, part, retries, backoff_s, budget)
    try:
        _check(part, checksum, f"download of {redact(url)}")
    except InputError:
        part.unlink(missing_ok=True)
        if not resumed:
            raise
        log.warning(
            "resumed download failed its checksum; downloading %s once more from the start",
            redact(url),
        )
        _download_with_retries(url, part, retries, backoff_s, budget)
        _check(part, checksum, f"download of {redact(url)}")
    write_atomically(folder / (name + ".sha256"), file_digest(part) + "\n")
    os.replace(part, dest)
    return dest


def _cache_is_valid(dest: Path, checksum: Checksum | None) -> bool:
    if checksum is not None:
        return file_digest(dest, checksum.algorithm) == checksum.hexdigest
    sidecar = dest.with_name(dest.name + ".sha256")
    return sidecar.exists() and sidecar.read_text().strip() == file_digest(dest)


class _ShortRead(Exception):
    pass


class _StallBudget:
    """How long the server may stay silent, in all: reset by every byte received."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.silent_since = time.monotonic()

    def received(self) -> None:
        self.silent_since = time.monotonic()

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.silent_since)


def _download_with_retries(url, part: Path, retries, backoff_s, budget: _StallBudget) -> bool:
    """Download into `part`; return True when any bytes came from an earlier, resumed attempt."""
    resumed = False
    for attempt in range(retries + 1):
        try:
            return _fetch_once(url, part, budget) or resumed
        except urllib.error.HTTPError as e:
            if e.code in _FATAL_HTTP:
                raise InputError(
                    f"download of {redact(url)}: HTTP {e.code} {e.reason}; check the URL and access"
                ) from e
            error = f"HTTP {e.code} {e.reason}"
        except (urllib.error.URLError, OSError, http.client.HTTPException, _ShortRead) as e:
            error = str(getattr(e, "reason", None) or e) or type(e).__name__
        resumed = resumed or part.exists()
        delay = backoff_s * 2**attempt
        if budget.left() - delay <= 0:
            raise InputError(
                f"download of {redact(url)}: no data for {budget.seconds:g} s ({error}); the "
                "server is silent or unreachable (a slow mirror may need a longer stall timeout)"
            )
        if attempt == retries:
            raise InputError(
                f"download of {redact(url)} failed after {retries + 1} attempts: {error}"
            )
        log.warning(
            "download interrupted (%s); retrying in %.1f s (attempt %d of %d)",
            error,
            delay,
            attempt + 2,
            retries + 1,
        )
        time.sleep(delay)
    raise AssertionError("unreachable")


def _fetch_once(url, part: Path, budget: _StallBudget) -> bool:
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": f"alexnet-kfp/{__version__}"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(
            request, timeout=max(0.1, min(_READ_TIMEOUT_S, budget.left()))
        )
    except urllib.error.HTTPError as e:
        if e.code == 416 and offset:  # the part is as long as the file (or longer): start afresh
            part.unlink()
            raise _ShortRead("server refused to resume; restarting from the start") from e
        raise
    with response:
        resuming = offset > 0 and response.status == 206
        if not resuming:
            offset = 0
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        if resuming:
            log.info("resuming download of %s at byte %d", redact(url), offset)
        with (
            open(part, "ab" if resuming else "wb") as f,
            byte_progress(f"download {Path(part).stem}", total, offset) as update,
        ):
            while chunk := response.read(_CHUNK):
                budget.received()
                f.write(chunk)
                update(len(chunk))
    if total is not None and part.stat().st_size != total:
        raise _ShortRead(f"connection closed after {part.stat().st_size} of {total} bytes")
    return resuming

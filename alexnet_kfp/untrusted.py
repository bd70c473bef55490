"""Numbers and structured text from outside (a request, a header, a flag, a file, a folder's name,
a record, a registry's answer), read only in the forms the project allows and refused in one line
otherwise: Python's `int()` takes any script's digits, spaces and underscores, and its JSON and
YAML parsers recurse once per level of nesting until the interpreter's limit stops them."""

import json
import re
from pathlib import Path
from typing import Any

from alexnet_kfp.errors import InputError

MAX_DIGITS = 18  # every whole number the project reads fits a signed 64-bit integer
MAX_DEPTH = 64  # the deepest nesting of any JSON or YAML the project reads (its own: 4)
# A file given for a value (a trials list: 1,000 trials are about 100 KB; a compiled pipeline)
MAX_VALUE_FILE_BYTES = 16 << 20
_DIGITS = re.compile(r"[0-9]+")


def is_whole_number(text: str, max_digits: int = MAX_DIGITS) -> bool:
    """Whether `text` is digits 0-9 alone, at most `max_digits` of them."""
    return len(text) <= max_digits and _DIGITS.fullmatch(text) is not None


def whole_number(text: str, what: str, max_digits: int = MAX_DIGITS) -> int:
    """`text` as a whole number (digits 0-9, at most `max_digits`), or one line naming `what`."""
    if not is_whole_number(text, max_digits):
        raise InputError(
            f"{what} {_shown(text)} is not a whole number (digits 0-9, at most {max_digits})"
        )
    return int(text)


def integer(text: str, what: str, max_digits: int = MAX_DIGITS) -> int:
    """`text` as an integer (an optional '-', then digits 0-9), or one line naming `what`."""
    if not is_whole_number(text.removeprefix("-"), max_digits):
        raise InputError(f"{what} {_shown(text)}: digits 0-9 only, at most {max_digits}")
    return int(text)


def number(text: str, what: str) -> float:
    """`text` as a number as Python writes one in ASCII (digits 0-9, a sign, a point, an
    exponent; nan and inf, which the checks after refuse by name), or one line."""
    if len(text) > 64 or not text.isascii() or "_" in text or text != text.strip():
        raise InputError(f"{what} {_shown(text)}: digits 0-9, '.' and an exponent only")
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{what} {_shown(text)}: not a number") from None


def _shown(text: str) -> str:
    return repr(text if len(text) <= 24 else text[:21] + "...")


def depth(value: Any) -> int:
    """How deeply a parsed JSON or YAML value nests (a scalar: 0, [] or {}: 1), walked without
    recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def check_depth(value: Any, what: str, max_depth: int = MAX_DEPTH) -> Any:
    """`value` when it nests at most `max_depth` levels, else one line."""
    if depth(value) > max_depth:
        raise InputError(_too_deep(what, max_depth))
    return value


def _too_deep(what: str, max_depth: int) -> str:
    return f"{what}: nested more than the {max_depth} levels allowed"


def json_value(
    text: str | bytes | bytearray, what: str, max_depth: int = MAX_DEPTH, kind: str = "JSON"
) -> Any:
    """The JSON value in `text` nested at most `max_depth` levels, or one line ("WHAT: not KIND
    (why)"). The parser recurses once per level: past the interpreter's limit it stops with a
    RecursionError, which is read as the same refusal."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise InputError(_too_deep(what, max_depth)) from None
    except ValueError as e:  # bad JSON and bad UTF-8 alike
        raise InputError(f"{what}: not {kind} ({e})") from None
    return check_depth(value, what, max_depth)


def yaml_documents(text: str, what: str, max_depth: int = MAX_DEPTH) -> list:
    """The YAML documents in `text` (safe types only), each nested at most `max_depth` levels;
    or one line."""
    import yaml

    try:
        documents = list(yaml.safe_load_all(text))
    except RecursionError:
        raise InputError(_too_deep(what, max_depth)) from None
    except yaml.YAMLError as e:
        raise InputError(f"{what}: not YAML ({str(e).splitlines()[0]})") from None
    return [check_depth(document, what, max_depth) for document in documents]


def read_file(path: Path, what: str, max_bytes: int) -> bytes:
    """A regular file's bytes when it holds at most `max_bytes`, its size checked before it is
    read; or one line that starts with `what` (which names the file)."""
    try:
        if not path.is_file():
            raise InputError(f"{what}: not a regular file")
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"{what}: {size:,} bytes, more than the {max_bytes:,} allowed")
        with path.open("rb") as f:
            raw = f.read(max_bytes + 1)
    except OSError as e:
        raise InputError(f"{what}: cannot read it ({e.strerror or e})") from None
    if len(raw) > max_bytes:  # it grew meanwhile
        raise InputError(f"{what}: more than the {max_bytes:,} bytes allowed")
    return raw


def read_text(path: Path, what: str, max_bytes: int) -> str:
    """read_file's bytes as UTF-8 text, or one line."""
    try:
        return read_file(path, what, max_bytes).decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{what}: not UTF-8 text") from None

"""Reading what earlier steps left in their artifact directories (shared by train, evaluate,
export)."""

import json
from pathlib import Path

from alexnet_kfp.errors import InputError


def read_json_if_present(path: Path, must_exist: bool = False) -> dict:
    """The JSON a step wrote (dataset.json, train.json, metrics.json), or {} when there is none;
    one line naming the file when it is not a JSON object."""
    if not path.is_file():
        if must_exist:
            raise InputError(f"{path}: no such file")
        return {}
    try:
        content = json.loads(path.read_text())
    except ValueError as e:  # bad JSON and bad UTF-8 alike
        raise InputError(f"{path}: not a JSON file ({e})") from None
    if not isinstance(content, dict):
        raise InputError(f"{path}: expected a JSON object, found {type(content).__name__}")
    return content


def class_names_of(info: dict) -> list[str]:
    """The class names a step's JSON carries, or the ten label numbers when it has none."""
    return info.get("class_names") or [str(i) for i in range(10)]


def keras_model_path(model_dir: Path) -> Path:
    """model.keras of a Model directory made by `alexnet-kfp train`, with a clear error when
    missing."""
    path = model_dir / "model.keras"
    if not path.is_file():
        raise InputError(f"{path} not found: expected a Model directory (made by the train step)")
    return path

"""Reading what earlier steps left in their artifact directories (shared by train, evaluate, export)."""

import json
from pathlib import Path

from alexnet_kfp.errors import InputError


def read_json_if_present(path: Path) -> dict:
    """The JSON a step wrote (dataset.json, train.json, metrics.json), or {} when there is none."""
    return json.loads(path.read_text()) if path.is_file() else {}


def class_names_of(info: dict) -> list[str]:
    """The class names a step's JSON carries, or the ten label numbers when it has none."""
    return info.get("class_names") or [str(i) for i in range(10)]


def keras_model_path(model_dir: Path) -> Path:
    """model.keras of a Model directory made by `alexnet-kfp train`, with a clear error when missing."""
    path = model_dir / "model.keras"
    if not path.is_file():
        raise InputError(f"{path} not found: expected a Model directory (made by the train step)")
    return path

"""The records the steps leave beside their artifacts, as typed classes: dataset.json,
train.json, a sweep's trial.json and sweep.json, metrics.json, export.json, parity.json and a
local run's summary.json. Each has one `write` and one `read`; `read` checks the file's shape
against the class and refuses a foreign, damaged or unknown record in one line naming the file
and the field, so that no reader meets a KeyError or chains `.get(...)`. The files keep the layout
earlier versions wrote.

`provenance` is the one place that says which versions made an artifact.
"""

import dataclasses
import json
import platform
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

from alexnet_kfp import __version__
from alexnet_kfp.errors import InputError
from alexnet_kfp.files import write_atomically
from alexnet_kfp.untrusted import json_value, read_file

# The distribution that ships a module, where the names differ.
_DISTRIBUTIONS = {"sklearn": "scikit-learn"}


# The largest record any step writes (a history of thousands of epochs is under 1 MB).
RECORD_BYTES = 64 << 20


def provenance(*modules: types.ModuleType) -> dict[str, str]:
    """{"alexnet-kfp", each module's distribution, "numpy", "python": version}, in that order."""
    import numpy

    versions = {"alexnet-kfp": __version__}
    for module in modules:
        versions[_DISTRIBUTIONS.get(module.__name__, module.__name__)] = module.__version__
    versions["numpy"] = numpy.__version__
    versions["python"] = platform.python_version()
    return versions


class Record:
    """A JSON record written beside an artifact. FILE is its name in the artifact's directory;
    KIND, when set, its "kind" field, which `read` requires; OMITTED_WHEN_NONE the fields that
    earlier versions left out rather than write null."""

    FILE: ClassVar[str]
    KIND: ClassVar[str | None] = None
    OMITTED_WHEN_NONE: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        content = dataclasses.asdict(self)  # type: ignore[call-overload]
        for name in self.OMITTED_WHEN_NONE:
            if content[name] is None:
                del content[name]
        return content

    def write(self, directory: str | Path) -> Path:
        path = Path(directory) / self.FILE
        write_atomically(path, json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def read(cls, path: str | Path) -> Self:
        """The record in `path` (the file, or the directory that holds it), or one line."""
        path = Path(path)
        if path.is_dir():
            path = path / cls.FILE
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        content = load_json_object(path)
        if cls.KIND is not None and content.get("kind") != cls.KIND:
            raise InputError(
                f"{path}: not a {cls.FILE} that alexnet-kfp {__version__} reads (kind "
                f"{content.get('kind')!r}, expected {cls.KIND!r})"
            )
        return _typed(cls, content, path, "")

    @classmethod
    def read_if_present(cls, directory: str | Path) -> Self | None:
        """The record in `directory`, or None when it has none (a Dataset made by hand)."""
        return cls.read(directory) if (Path(directory) / cls.FILE).is_file() else None


def load_json_object(path: Path) -> dict[str, Any]:
    """The JSON object in `path`, or one line naming the file: not JSON, or not an object."""
    content = json_value(read_file(path, str(path), RECORD_BYTES), str(path), kind="a JSON file")
    if not isinstance(content, dict):
        raise InputError(f"{path}: expected a JSON object, found {type(content).__name__}")
    return content


def _typed(kind: Any, value: Any, path: Path, where: str) -> Any:
    """`value` (parsed JSON) as `kind` (a type hint of the records' vocabulary), or one line
    naming the file and the field."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is Any:
        return value
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _typed(inner, value, path, where)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        _expect(isinstance(value, dict), "an object", value, path, where)
        hints = typing.get_type_hints(kind)
        given = {}
        for f in dataclasses.fields(kind):
            if f.name in value:
                given[f.name] = _typed(hints[f.name], value[f.name], path, f"{where}{f.name}.")
            elif type(None) in typing.get_args(hints[f.name]):
                given[f.name] = None  # an optional field earlier versions left out when unset
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise InputError(f"{path}: no field {where}{f.name}: not a {_name(kind)} record")
        return kind(**given)
    if origin is list or kind is list:
        _expect(isinstance(value, list), "a list", value, path, where)
        item = args[0] if args else Any
        return [_typed(item, v, path, f"{where}[{i}].") for i, v in enumerate(value)]
    if origin is dict or kind is dict:
        _expect(isinstance(value, dict), "an object", value, path, where)
        item = args[1] if args else Any
        return {k: _typed(item, v, path, f"{where}{k}.") for k, v in value.items()}
    if kind is float:
        _expect(
            isinstance(value, int | float) and not isinstance(value, bool),
            "a number",
            value,
            path,
            where,
        )
        return float(value)
    _expect(
        isinstance(value, kind) and (kind is bool or not isinstance(value, bool)),
        kind.__name__,
        value,
        path,
        where,
    )
    return value


def _expect(ok: bool, what: str, value: Any, path: Path, where: str) -> None:
    if not ok:
        raise InputError(
            f"{path}: {where.rstrip('.') or 'the record'} should be {what}, found "
            f"{type(value).__name__}"
        )


def _name(kind: type) -> str:
    return getattr(kind, "FILE", kind.__name__)


# --- dataset.json --------------------------------------------------------------------------------


@dataclass
class Split:
    count: int
    per_class: dict[str, int]
    file: str
    sha256: str


@dataclass
class SplitParameters:
    val_fraction: float
    seed: int
    limit_per_class: int | None


@dataclass
class DatasetRecord(Record):
    """What the data step made: the class names, each split's size and checksum, the source."""

    FILE = "dataset.json"
    KIND = "alexnet-kfp/dataset"

    layout: str
    class_names: list[str]
    splits: dict[str, Split]
    source: str
    source_sha256: str | None
    expected_checksum: dict[str, str] | None
    parameters: SplitParameters
    versions: dict[str, str]
    kind: str = KIND
    image_shape: list[int] = field(default_factory=lambda: [32, 32, 3])

    def to_dict(self) -> dict[str, Any]:
        content = super().to_dict()  # kind and image_shape first, as written before
        return {
            "kind": content.pop("kind"),
            "layout": content.pop("layout"),
            "class_names": content.pop("class_names"),
            "image_shape": content.pop("image_shape"),
            **content,
        }


# --- train.json ----------------------------------------------------------------------------------


@dataclass
class TrainedOn:
    path: str
    train_sha256: str | None
    source_sha256: str | None
    limit_per_class: int | None = None  # a sample of the data: the model is a trial


@dataclass
class TrainRecord(Record):
    """What the train step made: its configuration, the outcome, the device, the data."""

    FILE = "train.json"
    KIND = "alexnet-kfp/model"
    OMITTED_WHEN_NONE = ("checkpoint",)

    parameters: dict[str, Any]  # TrainConfig's fields
    precision: str
    xla: bool
    saved_model_precision: str
    device: str
    replicas: int
    epochs_run: int
    best_epoch: int
    best_val_accuracy: float
    images_per_second: float
    learning_rate_decays: list[dict[str, Any]]
    wall_seconds: float
    checkpoint: dict[str, Any] | None
    class_names: list[str]
    dataset: TrainedOn
    versions: dict[str, str]
    kind: str = KIND

    def to_dict(self) -> dict[str, Any]:
        content = super().to_dict()
        return {"kind": content.pop("kind"), **content}

    @property
    def variant(self) -> str:
        return str(self.parameters.get("variant", "unknown"))


# --- history.json (and a checkpoint's history) ---------------------------------------------------

# What EpochLog writes for every epoch, each a number.
HISTORY_KEYS = (
    "epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds", "images_per_second",
)  # fmt: skip


def history_problem(history: Any) -> str:
    """What is wrong with a training history (a list, one object of HISTORY_KEYS numbers per epoch,
    numbered from 1), or "" when nothing is."""
    if not isinstance(history, list) or not history:
        return "expected a non-empty list of epochs"
    for index, entry in enumerate(history):
        if not isinstance(entry, dict):
            return f"epoch entry {index} is not an object"
        missing = [k for k in HISTORY_KEYS if k not in entry]
        if missing:
            return f"epoch entry {index} has no {missing[0]!r}"
        bad = [k for k in HISTORY_KEYS if type(entry[k]) not in (int, float)]
        if bad:
            return f"epoch entry {index}: {bad[0]} is not a number"
        if entry["epoch"] != index + 1:
            return f"epoch entry {index} is numbered {entry['epoch']!r}, not {index + 1}"
    return ""


def read_history(path: Path) -> list[dict[str, Any]]:
    """history.json, or one line naming the file: not JSON (cut short), or not a history."""
    try:
        history = json_value(
            read_file(path, str(path), RECORD_BYTES), str(path), kind="a JSON file"
        )
    except InputError as e:
        raise InputError(f"{e}; train the model again") from None
    problem = history_problem(history)
    if problem:
        raise InputError(f"{path}: not a training history ({problem})")
    return history


# --- trial.json and sweep.json (a sweep's trials and its choice) --------------------------------

# A trial's status: it trained; its training failed (settings the step refused, a loss that
# diverged, a fault); its pod ended without a result more often than its retries allow.
TRAINED, FAILED, LOST = "trained", "failed", "lost"


@dataclass
class TrialRecord(Record):
    """How one trial of a sweep went, beside its model (none when it failed): its settings, its
    validation result, and why it failed when it did."""

    FILE = "trial.json"
    KIND = "alexnet-kfp/trial"

    index: int  # its place in the sweep's list, from 0
    given: dict[str, Any]  # what its entry in the list set
    settings: dict[str, Any]  # the training parameters it ran with, all of them
    status: str  # TRAINED, FAILED or LOST
    reason: str  # why it failed; empty when it trained
    attempts: int  # the pods that ran it (more than 1: retried)
    best_val_accuracy: float | None = None
    best_epoch: int | None = None
    epochs_run: int | None = None
    decayed_after: list[int] = field(default_factory=list)  # epochs the learning rate decayed after
    wall_seconds: float | None = None
    images_per_second: float | None = None
    device: str | None = None
    kind: str = KIND


@dataclass
class SweepRecord(Record):
    """How the sweep chose the model it passed on (written beside that model): every trial, the
    rule and the winner. No trial and no choice saw the test split."""

    FILE = "sweep.json"
    KIND = "alexnet-kfp/sweep"

    rule: str
    winner: int
    trials: list[TrialRecord]
    kind: str = KIND


# --- metrics.json --------------------------------------------------------------------------------


@dataclass
class ClassMetrics:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Gate:
    """The evaluate step's ship/no-ship decision (evaluate/gate.py's decide) and its reason."""

    passed: bool
    reason: str
    accuracy: float
    min_accuracy: float
    baseline_accuracy: float | None
    max_regression: float


@dataclass
class JudgedModel:
    path: str
    sha256: str
    variant: str


@dataclass
class RunInfo:
    """Which run this is, for the report's header: what trained it, on how much, when judged."""

    variant: str
    epochs: int | None
    best_epoch: int | None
    train_images: int | None
    limit_per_class: int | None
    evaluated: str


@dataclass
class JudgedOn:
    path: str
    test_sha256: str | None


@dataclass
class MetricsRecord(Record):
    """What the evaluate step measured and decided."""

    FILE = "metrics.json"

    accuracy: float
    macro_f1: float
    test_images: int
    class_names: list[str]
    per_class: dict[str, ClassMetrics]
    confusion_matrix: list[list[int]]
    confusion_matrix_normalized: list[list[float]]
    gate: Gate
    model: JudgedModel
    run: RunInfo
    baseline: str | None
    dataset: JudgedOn
    versions: dict[str, str]


# --- export.json ---------------------------------------------------------------------------------


@dataclass
class ExportRecord(Record):
    """What the export step wrote: model.onnx's file and metadata, and the int8 model's record."""

    FILE = "export.json"
    KIND = "alexnet-kfp/onnx"

    opset: int
    file: str
    bytes: int
    sha256: str
    dense_batchnorms_folded: int
    int8: dict[str, Any] | None
    conversion_seconds: float
    process_peak_rss_mib: int
    metadata: dict[str, str]
    versions: dict[str, str]
    kind: str = KIND

    def to_dict(self) -> dict[str, Any]:
        content = super().to_dict()
        return {"kind": content.pop("kind"), **content}


# --- parity.json ---------------------------------------------------------------------------------


@dataclass
class ParityRecord(Record):
    """What the verify step compared: Keras vs onnxruntime, and int8 vs float32."""

    FILE = "parity.json"

    images: int
    atol: float
    max_abs_diff: float
    mean_abs_diff: float
    argmax_agreement: float
    disagreements: list[dict[str, Any]]
    passed: bool
    reason: str
    keras_sha256: str
    onnx_sha256: str
    int8: dict[str, Any] | None
    verified: bool
    versions: dict[str, str]


# --- summary.json --------------------------------------------------------------------------------


@dataclass
class RunSummary(Record):
    """What `alexnet-kfp run` made: where, how it went, and the parameters it ran with."""

    FILE = "summary.json"

    run_dir: str
    accuracy: float
    gate: Gate | None
    parity: dict[str, Any] | None
    report: str
    onnx_model: str
    int8_model: str
    seconds: float
    parameters: dict[str, Any]
    sweep: dict[str, Any] | None = None  # a sweep's choice: the winner, its settings, the table
    mlflow: dict[str, Any] | None = None  # where the run was tracked, what it registered

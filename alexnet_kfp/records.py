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
    FIRST: ClassVar[tuple[str, ...]] = ()  # fields written first, as earlier versions did

    def to_dict(self) -> dict[str, Any]:
        content = dataclasses.asdict(self)  # type: ignore[call-overload]
        for name in self.OMITTED_WHEN_NONE:
            if content[name] is None:
                del content[name]
        first = {name: content.pop(name) for name in self.FIRST if name in content}
        return first | content

    def write(self, directory: str | Path) -> Path:
        return self.write_file(Path(directory) / self.FILE)

    def write_file(self, path: str | Path) -> Path:
        """The record as the file `path` (a KFP artifact that is one file, not a directory)."""
        write_atomically(Path(path), json.dumps(self.to_dict(), indent=2) + "\n")
        return Path(path)

    @classmethod
    def read(cls, path: str | Path) -> Self:
        """The record in `path` (the file, or the directory that holds it), or one line."""
        path = Path(path)
        if path.is_dir():
            path = path / cls.FILE
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        return cls.of(load_json_object(path), path)

    @classmethod
    def of(cls, content: object, where: str | Path) -> Self:
        """The record in parsed JSON `content` (read from `where`), or one line naming it."""
        path = Path(where)
        kind = content.get("kind") if isinstance(content, dict) else None
        if cls.KIND is not None and kind != cls.KIND:
            raise InputError(
                f"{path}: not a {cls.FILE} that alexnet-kfp {__version__} reads (kind "
                f"{kind!r}, expected {cls.KIND!r})"
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
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return _typed(inner[0], value, path, where)
        # a union of several types (a recipe's values): the one the value is
        for member in inner:
            if type(value) is member:
                return value
            container = typing.get_origin(member)
            if container is not None and isinstance(value, container):
                return _typed(member, value, path, where)
        names = " or ".join(getattr(member, "__name__", str(member)) for member in inner)
        _expect(False, names, value, path, where)
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


# A training configuration's values by field name (TrainConfig's fields: records sit below the
# train package, which reads them back as TrainConfig.of(values)), and a recipe's.
Scalar = str | int | float | bool | None
TrainingValues = dict[str, Scalar]


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
class ClassImages:
    """What one class folder held: images read, exact duplicates kept once, files skipped (not
    images: `--skip-unreadable`) and why (the first few)."""

    read: int
    duplicates: int
    skipped: int
    reasons: list[str]


@dataclass
class DatasetRecord(Record):
    """What the data step made: the class names, each split's size and checksum, the source;
    for a folder of class folders, what each class's folder held (`images`)."""

    FILE = "dataset.json"
    KIND = "alexnet-kfp/dataset"
    OMITTED_WHEN_NONE = ("images",)

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
    images: dict[str, ClassImages] | None = None
    FIRST = ("kind", "layout", "class_names", "image_shape")


# --- train.json ----------------------------------------------------------------------------------


@dataclass
class TrainedOn:
    path: str
    train_sha256: str | None
    source_sha256: str | None
    limit_per_class: int | None = None  # a sample of the data: the model is a trial


@dataclass
class LearningRateDecay:
    """A decay the training's epochs ran after: after which epoch, by which rule ("plateau" or
    "final"), to which rate."""

    after_epoch: int
    rule: str
    lr: float


@dataclass
class CheckpointUse:
    """Where the training state was saved, and the epoch this process resumed after (0: none)."""

    path: str
    resumed_after_epoch: int


@dataclass
class TrainRecord(Record):
    """What the train step made: its configuration, the outcome, the device, the data."""

    FILE = "train.json"
    KIND = "alexnet-kfp/model"
    FIRST = ("kind",)
    OMITTED_WHEN_NONE = ("checkpoint",)

    parameters: TrainingValues  # TrainConfig's fields
    precision: str
    xla: bool
    saved_model_precision: str
    device: str
    replicas: int
    epochs_run: int
    best_epoch: int
    best_val_accuracy: float
    images_per_second: float
    learning_rate_decays: list[LearningRateDecay]
    wall_seconds: float
    checkpoint: CheckpointUse | None
    class_names: list[str]
    dataset: TrainedOn
    versions: dict[str, str]
    kind: str = KIND

    @property
    def variant(self) -> str:
        return str(self.parameters.get("variant", "unknown"))

    def results(self) -> dict[str, float]:
        """The training's scalars, as MLflow and the KFP UI's run comparison show them."""
        return {
            "best_val_accuracy": self.best_val_accuracy,
            "best_epoch": self.best_epoch,
            "epochs_run": self.epochs_run,
            "images_per_second": self.images_per_second,
            "wall_seconds": self.wall_seconds,
        }


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


def read_history(path: Path) -> list[dict[str, float]]:
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
# A trial of a halving sweep that trained but was not among the best of its rung (halving.py).
STOPPED = "stopped"


@dataclass
class HalvingRecord:
    """A halving sweep's rule: each rung keeps the best 1/eta; `rungs`, the last at the full
    budget."""

    eta: int
    rungs: int


@dataclass
class TrialRecord(Record):
    """How one trial of a sweep went, beside its model (none when it failed): its settings, its
    validation result, and why it failed when it did."""

    FILE = "trial.json"
    KIND = "alexnet-kfp/trial"

    index: int  # its place in the sweep's list, from 0
    given: TrainingValues  # what its entry in the list set
    settings: TrainingValues  # the training parameters it ran with, all of them
    status: str  # TRAINED, FAILED, LOST or STOPPED
    reason: str  # why it failed; empty when it trained
    attempts: int  # the pods that ran it (more than 1: retried)
    best_val_accuracy: float | None = None
    best_epoch: int | None = None
    epochs_run: int | None = None
    decayed_after: list[int] = field(default_factory=list)  # epochs the learning rate decayed after
    wall_seconds: float | None = None
    images_per_second: float | None = None
    device: str | None = None
    rung: int | None = None  # a halving sweep's: the last rung it trained in, from 1
    kind: str = KIND
    OMITTED_WHEN_NONE = ("rung",)


@dataclass
class SweepRecord(Record):
    """How the sweep chose the model it passed on (written beside that model): every trial, the
    rule and the winner. No trial and no choice saw the test split."""

    FILE = "sweep.json"
    KIND = "alexnet-kfp/sweep"

    rule: str
    winner: int
    trials: list[TrialRecord]
    halving: HalvingRecord | None = None  # with successive halving, its rule
    kind: str = KIND
    OMITTED_WHEN_NONE = ("halving",)


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
    """What the evaluate step measured and decided; for your own images, what each class folder
    held (`images`, from dataset.json); for a sweep's model, how the sweep chose it (`sweep`,
    from sweep.json). The report shows both."""

    FILE = "metrics.json"
    OMITTED_WHEN_NONE = ("images", "sweep")

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
    images: dict[str, ClassImages] | None = None
    sweep: SweepRecord | None = None


# --- export.json ---------------------------------------------------------------------------------


@dataclass
class Calibration:
    """The images the int8 model's activation ranges were measured on."""

    split: str
    images: int
    seed: int
    indices_sha256: str


@dataclass
class Int8Export:
    """model.int8.onnx: its file, how it was quantized and calibrated, from which float model."""

    file: str
    bytes: int
    sha256: str
    recipe: dict[str, Scalar | list[str]]  # Int8Recipe's fields
    quantized_op_types: dict[str, int]
    quantization_seconds: float
    calibration: Calibration
    float_model_sha256: str


@dataclass
class ExportRecord(Record):
    """What the export step wrote: model.onnx's file and metadata, and the int8 model's record."""

    FILE = "export.json"
    KIND = "alexnet-kfp/onnx"
    FIRST = ("kind",)

    opset: int
    file: str
    bytes: int
    sha256: str
    dense_batchnorms_folded: int
    int8: Int8Export | None
    conversion_seconds: float
    process_peak_rss_mib: int
    metadata: dict[str, str]
    versions: dict[str, str]
    kind: str = KIND


# --- parity.json ---------------------------------------------------------------------------------


@dataclass
class Disagreement:
    """A test image whose top-1 class differs between Keras and onnxruntime; a tie when Keras's
    own top-2 margin was within atol."""

    index: int
    keras_class: int
    onnx_class: int
    keras_top2_margin: float
    tie: bool


@dataclass
class Int8Comparison:
    """The int8 model against the float32 one on the whole test split, and the verdict."""

    images: int
    float32_accuracy: float
    int8_accuracy: float
    accuracy_loss: float
    max_loss: float
    top1_agreement: float
    max_abs_diff: float
    flipped_float32_margin_max: float | None
    flipped_float32_margin_median: float | None
    passed: bool
    reason: str
    sha256: str


@dataclass
class ParityRecord(Record):
    """What the verify step compared: Keras vs onnxruntime, and int8 vs float32."""

    FILE = "parity.json"

    images: int
    atol: float
    max_abs_diff: float
    mean_abs_diff: float
    argmax_agreement: float
    disagreements: list[Disagreement]
    passed: bool
    reason: str
    keras_sha256: str
    onnx_sha256: str
    int8: Int8Comparison | None
    verified: bool
    versions: dict[str, str]

    def results(self) -> dict[str, float]:
        """Keras vs onnxruntime, and int8 vs float32, as the KFP UI and MLflow show them."""
        shown = {
            "max_abs_diff": self.max_abs_diff,
            "mean_abs_diff": self.mean_abs_diff,
            "argmax_agreement": self.argmax_agreement,
        }
        if self.int8 is not None:
            shown |= {
                "float32_accuracy": self.int8.float32_accuracy,
                "int8_accuracy": self.int8.int8_accuracy,
                "int8_accuracy_loss": self.int8.accuracy_loss,
                "int8_top1_agreement": self.int8.top1_agreement,
                "int8_max_abs_diff": self.int8.max_abs_diff,
            }
        return shown


# --- a failing step's record (process.record_failure) ---------------------------------------------


@dataclass
class FailureRecord(Record):
    """Why a step failed, for `alexnet-kfp run` (written as <step>.json in the run's failures/):
    `kind` is process.py's REFUSED, INTERRUPTED, FAILED or REJECTED, `said` the line the step
    printed, `reason` that line's own reason."""

    FILE = "failure.json"

    step: str
    kind: str
    said: str
    reason: str


# --- summary.json --------------------------------------------------------------------------------


@dataclass
class ParitySummary:
    """The figures of parity.json a run's summary repeats."""

    images: int
    max_abs_diff: float
    argmax_agreement: float
    passed: bool
    int8: Int8Comparison | None


@dataclass
class SweepChoice:
    """A sweep's choice, as a run's summary repeats it from sweep.json."""

    count: int
    trained: int
    winner: int
    best_val_accuracy: float | None
    given: TrainingValues
    settings: TrainingValues
    stopped: int | None = None  # a halving sweep's: the trials it stopped at a rung
    halving: HalvingRecord | None = None


@dataclass
class RegisteredVersion:
    """A version the register step made: `uri` is models:/NAME/VERSION; `alias` empty for a
    trial model; `source` the logged model it was registered from."""

    name: str
    version: int
    alias: str
    uri: str
    source: str


@dataclass
class RegistrationRecord(Record):
    """What the register step did: the version it registered (none when the registry did not
    take it) and the tags it carries. Written as the step's `registration` artifact, a file."""

    FILE = "registration"
    OMITTED_WHEN_NONE = ("name", "version", "alias", "uri", "source")

    registered: bool
    name: str | None = None
    version: int | None = None
    alias: str | None = None
    uri: str | None = None
    source: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class TrackingSummary:
    """Where a run was logged in MLflow, what the tracker could not log, what was registered."""

    uri: str
    run_id: str | None
    not_logged: list[str]
    registered: RegistrationRecord | None


@dataclass
class RunSummary(Record):
    """What `alexnet-kfp run` made: where, how it went, and the parameters it ran with."""

    FILE = "summary.json"

    run_dir: str
    accuracy: float
    gate: Gate | None
    parity: ParitySummary | None
    report: str
    onnx_model: str
    int8_model: str
    seconds: float
    parameters: dict[str, object]  # the pipeline's, by name: any JSON value (`trials` a list)
    sweep: SweepChoice | None = None
    mlflow: TrackingSummary | None = None

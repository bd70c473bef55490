"""MLflow's model registry: a verified model registered as a new version with its provenance and
an alias (the register step). registered_model.py turns a `models:/` URI back into files."""

import logging
import re
from pathlib import Path

from alexnet_kfp import __version__
from alexnet_kfp.errors import InputError
from alexnet_kfp.files import file_digest
from alexnet_kfp.records import DatasetRecord, MetricsRecord, ParityRecord, RegisteredVersion
from alexnet_kfp.tracking.environment import TRACKING_URI, check_tracking_uri, tracking_uri
from alexnet_kfp.tracking.onnx_models import FLOAT32_MODEL, log_onnx_models, model_uri
from alexnet_kfp.tracking.session import Tracker, tracked

log = logging.getLogger("alexnet_kfp.tracking")

# A registered version's tags that say what was decided of it (registration_tags sets them).
GATE_TAG, VERIFIED_TAG, TRIAL_TAG, ACCURACY_TAG = (
    "gate_decision",
    "verified",
    "trial",
    "test_accuracy",
)
DEFAULT_ALIAS = "candidate"  # what a new version is, until promoted (promotion.py)
# Where a version's Triton model repository lies in the artifact store (its URI, as the store
# names it: s3://, gs://, ...), which KServe's storageUri takes; the folder it is logged under.
MODEL_REPOSITORY_TAG = MODEL_REPOSITORY = "model_repository"
# the records a finished run holds (evaluate's and verify's)
METRICS, PARITY = MetricsRecord.FILE, ParityRecord.FILE

# Names that stay one segment of a `models:/` URI and of a cache path; MLflow's own alias rule
# (letters, digits, _ and -; not "latest", nor "v" and a number, which read as versions).
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_ALIAS = re.compile(r"[A-Za-z0-9_-]{1,255}")


def check_model_name(name: str, what: str = "register_as") -> str:
    """A registered model's name, or one line (empty: registration off)."""
    if name and not _MODEL_NAME.fullmatch(name):
        raise InputError(
            f"{what} {name!r}: a registered model's name is 1-128 letters, digits, '.', '_' or "
            "'-', starting with a letter or digit"
        )
    return name


def check_alias(alias: str, what: str = "register_alias") -> str:
    if not _ALIAS.fullmatch(alias) or alias == "latest" or re.fullmatch(r"[vV]\d+", alias):
        raise InputError(
            f"{what} {alias!r}: an alias is letters, digits, '_' or '-', and neither 'latest' "
            "nor 'v' and a number (those name versions)"
        )
    return alias


def registration_tags(
    evaluation_dir: Path, parity_dir: Path, dataset_dir: Path, kfp_run_id: str
) -> dict[str, str]:
    """What a registered version carries: the judged accuracy, the parity figures, the Dataset's
    checksum, the KFP run and this project's version. Refuses a model the gate did not pass or
    verify did not verify: such a model is never registered."""
    metrics = MetricsRecord.read(evaluation_dir)
    parity = ParityRecord.read(parity_dir)
    if not metrics.gate.passed:
        raise InputError(f"not registered: the gate did not pass ({metrics.gate.reason})")
    if not parity.verified:
        raise InputError(f"not registered: the ONNX model was not verified ({parity.reason})")
    dataset = DatasetRecord.read_if_present(dataset_dir)
    int8 = parity.int8
    tags = {
        ACCURACY_TAG: f"{metrics.accuracy:.6f}",
        "macro_f1": f"{metrics.macro_f1:.6f}",
        "gate": metrics.gate.reason,
        "parity_max_abs_diff": f"{parity.max_abs_diff:.3g}",
        "parity_top1_agreement": f"{parity.argmax_agreement:.6f}",
        "parity_images": str(parity.images),
        "onnx_sha256": parity.onnx_sha256,
        "dataset_sha256": (dataset.source_sha256 or "") if dataset else "",
        # backends before 2.5.0 pass {{$.pipeline_job_uuid}} on unresolved (driver/driver.go)
        "kfp_run_id": "" if kfp_run_id.startswith("{{$.") else kfp_run_id,
        "alexnet_kfp_version": __version__,
        # what promotion's rule reads (promotion.py): the decisions, and whether it is a trial
        GATE_TAG: "passed",
        VERIFIED_TAG: "true",
        TRIAL_TAG: "true" if metrics.run.limit_per_class else "false",
        "network": metrics.run.variant,
        "epochs": "" if metrics.run.epochs is None else str(metrics.run.epochs),
    }
    if int8:
        tags["int8_accuracy"] = f"{int8.int8_accuracy:.6f}"
        tags["int8_top1_agreement"] = f"{int8.top1_agreement:.6f}"
    return tags


def register(
    onnx_dir: Path,
    name: str,
    alias: str,
    tags: dict[str, str],
    logged_model: str = "",
    repository_dir: Path | None = None,
) -> RegisteredVersion | None:
    """Register the export directory's float32 model as a new version of `name` with `tags` and
    point `alias` at it (empty: DEFAULT_ALIAS, and no alias for a trial model); `logged_model`:
    its `models:/` URI when the export step logged it, else it is logged here first.
    `repository_dir`: the Triton model repository of the same models, logged beside them and
    named by the version's MODEL_REPOSITORY_TAG, which `manifest --model` deploys. Returns the
    version, or None when the tracker was not reachable (one warning line;
    the step goes on)."""
    check_model_name(name)
    if alias:
        check_alias(alias)
    elif tags.get(TRIAL_TAG) == "true":
        log.warning("mlflow: register: a trial model: registered without an alias")
    else:
        alias = DEFAULT_ALIAS
    if tracking_uri() is None:
        log.warning(
            "mlflow: register: %s is not registered: this step has no %s (KFP's MLflow plugin "
            "with injectUserEnvVars sets it; docs/tracking.md)",
            name,
            TRACKING_URI,
        )
        return None
    with tracked("register", tags={"registered_model": name}) as tracker:
        source = logged_model or _logged_here(tracker, onnx_dir)
        if not source:
            tracker.call("the registration", lambda: None)
            return None
        client = tracker.client()
        repository = None
        if repository_dir is not None:

            def log_repository() -> str:
                client.log_artifacts(tracker.run_id, str(repository_dir), MODEL_REPOSITORY)
                return f"{client.get_run(tracker.run_id).info.artifact_uri}/{MODEL_REPOSITORY}"

            repository = tracker.call("the model repository", log_repository)
        version_tags = {**tags, **({MODEL_REPOSITORY_TAG: repository} if repository else {})}

        def new_version() -> RegisteredVersion:
            import mlflow

            version = mlflow.register_model(
                source, name, tags=version_tags, await_registration_for=30
            ).version
            if alias:
                client.set_registered_model_alias(name, alias, version)
            return RegisteredVersion(name, int(version), alias, f"models:/{name}/{version}", source)

        registered = tracker.call("the registration", new_version)
        if registered:
            tracker.tags({"registered_version": registered.uri})
            tracker.headline({}, {"registered_version": registered.uri})
        return registered


def _logged_here(tracker: Tracker, onnx_dir: Path) -> str:
    """The float32 logged model's URI, logged by this step (no export step logged it)."""
    model_id = log_onnx_models(tracker, onnx_dir).get(FLOAT32_MODEL)
    return model_uri(model_id) if model_id else ""


def register_run(run_dir: Path, name: str, alias: str | None) -> RegisteredVersion:
    """Register a finished local run's verified float32 model (`alexnet-kfp run` made RUN_DIR
    without a tracker) as a new version of `name`, with `alias` (None: DEFAULT_ALIAS, and none
    for a trial). Its gate and verify records are checked again,
    and model.onnx must be the file verify verified. One line when any is not so or the registry
    does not answer: registering is the whole of this command's work."""
    evaluation, parity_dir = _folder_of(run_dir, METRICS), _folder_of(run_dir, PARITY)
    onnx_dir, dataset_dir = run_dir / "onnx_model", run_dir / "dataset"
    tags = registration_tags(evaluation, parity_dir, dataset_dir, kfp_run_id="")
    model = onnx_dir / "model.onnx"
    if not model.is_file() or file_digest(model) != ParityRecord.read(parity_dir).onnx_sha256:
        raise InputError(f"{model}: not the model the run's verify step verified")
    uri = tracking_uri()
    if uri is None:
        raise InputError(f"set {TRACKING_URI} to the MLflow server to register {name} in")
    check_tracking_uri(uri, TRACKING_URI)
    repository = run_dir / MODEL_REPOSITORY  # the run's link to it (older runs have none)
    registered = register(
        onnx_dir, name, alias or "", tags, "", repository if repository.is_dir() else None
    )
    if registered is None:
        raise InputError(f"{name} was not registered: {uri} did not take it (the warning above)")
    return registered


def _folder_of(run_dir: Path, file_name: str) -> Path:
    """The folder of a run's `file_name` (kfp.local's task folders, not the run's links)."""
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: no such run directory (alexnet-kfp run makes one)")
    found = sorted(p for p in run_dir.rglob(file_name) if not p.is_symlink())
    if not found:
        raise InputError(f"{run_dir}: holds no {file_name}: not a finished run of alexnet-kfp run")
    return found[-1].parent

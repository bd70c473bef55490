"""One step's run in MLflow, or nothing: the step logs through a Tracker, which never fails it.

Every call goes through `Tracker.call`: the first one that fails (a closed port, a timeout, an
HTTP error) prints one warning line and ends the step's logging; `finish` then says in one line
what was not logged. MLflow's client waits 120 s per request and retries 7 times by default, so
a hung server could hold a step for many minutes: unless the user set them, the requests are
bounded to a 10 s timeout and 2 retries.
"""

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from alexnet_kfp import __version__
from alexnet_kfp.progress import not_logged
from alexnet_kfp.tracking.environment import (
    DEFAULT_EXPERIMENT,
    EXPERIMENT_ID,
    EXPERIMENT_NAME,
    INSTALL_HINT,
    PARENT_RUN_ID,
    RUN_ID,
    TRACKING_URI,
    logged_by_kfp,
    tracking_uri,
    tracking_uri_problem,
)

log = logging.getLogger("alexnet_kfp.tracking")
T = TypeVar("T")

BOUNDED_HTTP = {
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}
# MLflow's REST API takes at most 100 parameters, 1,000 metrics per batch and 6,000 characters
# per parameter value.
_PARAMS_PER_BATCH, _METRICS_PER_BATCH, _PARAM_CHARACTERS = 100, 1000, 6000
PARENT_TAG = "mlflow.parentRunId"
# The tag of the run that carries a pipeline's headline figures: what the run table filters on.
HEADLINE_TAG = "headline"
# How far up a step's run looks for the pipeline's run: KFP's plugin nests register, the deepest
# task, four runs down (pipeline, If/Else, condition, task).
_NESTING = 8


def first_line(text: str, otherwise: str) -> str:
    """The first line of an MLflow error (they run to pages: URLs, retries, causes), at most 300
    characters; `otherwise` when it says nothing."""
    return (text.strip().splitlines() or [otherwise])[0][:300]


def bound_requests() -> None:
    """MLflow's HTTP requests bounded (BOUNDED_HTTP) where the environment does not say otherwise;
    its retry warnings and progress bars off (the one warning line says it)."""
    for name, value in BOUNDED_HTTP.items():
        os.environ.setdefault(name, value)
    for name in ("urllib3", "mlflow"):
        logging.getLogger(name).setLevel(logging.ERROR)


class Tracker:
    """The MLflow run of one step (`step`: the run's name). Inactive without a URI: then every
    method does nothing and mlflow is never imported."""

    def __init__(self, step: str, uri: str | None):
        self.step, self.uri = step, uri
        self.run_id: str | None = None
        self.missed: list[str] = []
        self._client: Any = None
        self._owned = False  # a run this step made (and ends), not one KFP's plugin gave it
        self._given = False  # the run MLFLOW_RUN_ID names (KFP's plugin's run of the task)
        self._top: str | None = None  # the pipeline's run, once looked up

    @property
    def active(self) -> bool:
        return self._client is not None

    def start(
        self, run_name: str | None = None, tags: Mapping[str, str] | None = None
    ) -> "Tracker":
        """Open the step's run: the one MLFLOW_RUN_ID names, else a new run (nested under the
        pipeline run of `alexnet-kfp run --mlflow`, when there is one)."""
        if self.uri is None:
            return self
        try:
            from mlflow import MlflowClient
        except ImportError:
            log.warning(
                "mlflow: %s: %s is set but the tracking extra is not installed (%s): nothing "
                "is logged",
                self.step,
                TRACKING_URI,
                INSTALL_HINT,
            )
            self.missed.append("everything")
            return self
        if problem := tracking_uri_problem(self.uri, TRACKING_URI):
            log.warning("mlflow: %s: %s; nothing is logged", self.step, problem)
            self.missed.append("everything")
            return self
        bound_requests()
        try:
            self._client = MlflowClient(self.uri)
        except Exception as e:  # a store MLflow will not open: the tracker's fault, not the step's
            log.warning(
                "mlflow: %s: cannot open %s (%s); nothing is logged",
                self.step,
                self.uri,
                first_line(str(e), type(e).__name__),
            )
            self.missed.append("everything")
            return self
        own_tags = {"alexnet_kfp.step": self.step, "alexnet_kfp.version": __version__}
        self.run_id = self.call("the run", lambda: self._open_run(run_name or self.step))
        self.tags({**own_tags, **(tags or {})})
        return self

    def _open_run(self, run_name: str) -> str:
        given = os.environ.get(RUN_ID, "").strip()
        if given:
            self._client.get_run(given)  # it exists: else the step would log into nothing
            self._given = True
            return given
        parent = os.environ.get(PARENT_RUN_ID, "").strip()
        if parent:
            experiment = self._client.get_run(parent).info.experiment_id
            tags = {PARENT_TAG: parent}
        else:
            experiment, tags = self._experiment_id(), {}
        run = self._client.create_run(experiment, run_name=run_name, tags=tags)
        self._owned = True
        return run.info.run_id

    def _experiment_id(self) -> str:
        """MLFLOW_EXPERIMENT_ID, else the experiment MLFLOW_EXPERIMENT_NAME (default
        "alexnet-kfp") names, made when it does not exist yet."""
        given = os.environ.get(EXPERIMENT_ID, "").strip()
        if given:
            return given
        name = os.environ.get(EXPERIMENT_NAME, "").strip() or DEFAULT_EXPERIMENT
        found = self._client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        try:
            return self._client.create_experiment(name)
        except Exception:  # made meanwhile by another step
            found = self._client.get_experiment_by_name(name)
            if found is None:
                raise
            return found.experiment_id

    def call(self, what: str, action: Callable[[], T]) -> T | None:
        """`action()` when tracking; on its first failure, one warning line and no more
        tracking. `what` names it for the line that says what was not logged."""
        if not self.active:
            if self.uri is not None:
                self.missed.append(what)
            return None
        try:
            return action()
        except Exception as e:  # the tracker's fault, whatever it is, is never the step's
            reason = first_line(str(e), type(e).__name__)
            log.warning(
                "mlflow: %s: logging %s to %s failed (%s); the step goes on without tracking",
                self.step,
                what,
                self.uri,
                reason,
            )
            self._client = None
            self.missed.append(what)
            return None

    def params(self, values: Mapping[str, object]) -> None:
        """Parameters, but in KFP's run of the task not the task's inputs: KFP logs those."""
        left_to_kfp = logged_by_kfp() if self._given else frozenset()
        from_items = [(k, v) for k, v in values.items() if k not in left_to_kfp]

        def log_params() -> None:
            from mlflow.entities import Param

            for start in range(0, len(from_items), _PARAMS_PER_BATCH):
                batch = from_items[start : start + _PARAMS_PER_BATCH]
                params = [Param(k, str(v)[:_PARAM_CHARACTERS]) for k, v in batch]
                self._client.log_batch(self.run_id, params=params)

        self.call("parameters", log_params)

    def metrics(
        self,
        values: Mapping[str, float],
        step: int = 0,
        what: str = "metrics",
        model_id: str | None = None,
    ) -> None:
        """Scalar metrics at `step` (the epoch, for the training curves); with `model_id`, linked
        to that MLflow logged model too (its page and `search_logged_models` show them)."""
        self.call(what, lambda: self._log_metrics(self.run_id, values, step, model_id))

    def _log_metrics(
        self, run_id: str | None, values: Mapping[str, float], step: int, model_id: str | None
    ) -> None:
        from mlflow.entities import Metric

        items, now = list(values.items()), int(time.time() * 1000)
        for start in range(0, len(items), _METRICS_PER_BATCH):
            batch = items[start : start + _METRICS_PER_BATCH]
            metrics = [Metric(k, float(v), now, step, model_id=model_id) for k, v in batch]
            self._client.log_batch(run_id, metrics=metrics)

    def headline(
        self,
        metrics: Mapping[str, float],
        tags: Mapping[str, object] | None = None,
        model_id: str | None = None,
    ) -> None:
        """The figures a run is compared by, also on the pipeline's run: the top of this run's
        parents (KFP's plugin nests a task's run under its condition's and loop's runs, the
        local run each step's under its own), tagged HEADLINE_TAG, which MLflow's run table
        filters and ranks. A run that is its own top (a step's command run alone) holds them
        already."""

        def log_headline() -> None:
            from mlflow.entities import RunTag

            top = self._pipeline_run()
            if top == self.run_id:
                return
            self._log_metrics(top, metrics, 0, model_id)
            marked = {HEADLINE_TAG: "true", **(tags or {})}
            self._client.log_batch(top, tags=[RunTag(k, str(v)) for k, v in marked.items()])

        self.call("the pipeline run's headline", log_headline)

    def _pipeline_run(self) -> str | None:
        """The top of this run's parents (`mlflow.parentRunId`), at most _NESTING levels up;
        looked up once."""
        if self._top is None:
            self._top = self.run_id
            for _ in range(_NESTING):
                parent = self._client.get_run(self._top).data.tags.get(PARENT_TAG)
                if not parent:
                    break
                self._top = parent
        return self._top

    def experiment_id(self) -> str:
        """The experiment of this step's run (where its logged models go)."""
        return self._client.get_run(self.run_id).info.experiment_id

    def tags(self, values: Mapping[str, object]) -> None:
        items = list(values.items())

        def set_tags() -> None:
            from mlflow.entities import RunTag

            self._client.log_batch(self.run_id, tags=[RunTag(k, str(v)) for k, v in items])

        self.call("tags", set_tags)

    def artifacts(self, path: Path, under: str | None = None) -> None:
        """A file, or a directory's files, among the run's artifacts (under `under`)."""

        def upload() -> None:
            if path.is_dir():
                self._client.log_artifacts(self.run_id, str(path), under)
            else:
                self._client.log_artifact(self.run_id, str(path), under)

        self.call(f"{path.name}", upload)

    def client(self) -> Any:
        """The MlflowClient, for what the methods above do not cover (the registry)."""
        return self._client

    def finish(self, failed: bool = False) -> None:
        """End a run this step made (FINISHED, or FAILED when the step failed); say in one
        line what was not logged."""
        if self._owned:
            status = "FAILED" if failed else "FINISHED"
            self.call("the run's end", lambda: self._client.set_terminated(self.run_id, status))
        if self.missed:
            missed = list(dict.fromkeys(self.missed))
            log.warning("mlflow: %s: not logged: %s", self.step, ", ".join(missed))
            not_logged(self.step, missed)


@contextlib.contextmanager
def tracked(
    step: str, run_name: str | None = None, tags: Mapping[str, str] | None = None
) -> Iterator[Tracker]:
    """The step's Tracker for the tracking URI of the environment (inactive without one), ended
    with the step: FAILED when the step raised."""
    tracker = Tracker(step, tracking_uri()).start(run_name, tags)
    try:
        yield tracker
    except BaseException:
        tracker.finish(failed=True)
        raise
    tracker.finish()

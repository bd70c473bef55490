"""Reading a compiled YAML as the backend does: its versions, its DAGs and tasks, the platform
config, and what the API server refuses at upload."""

import re

# The releases the rules are read at (kubeflow/pipelines tags); Kubeflow 1.9 ships 2.2/2.3, 1.10.0
# 2.4.1, 1.10.1+ 2.5.0, 1.11 2.15; 2.16 and 2.17 are the newest.
BACKENDS = ("2.2.0", "2.3.0", "2.4.1", "2.5.0", "2.14.4", "2.15.0", "2.16.0", "2.17.0")
PLACEHOLDER = re.compile(r"^\{\{\$\.inputs\.parameters\['([^']+)'\]\}\}$")


class RejectedByBackend(Exception):
    """The backend refuses the pipeline or fails the task (the run shows the backend's error)."""


def version(backend: str) -> tuple[int, ...]:
    return tuple(int(part) for part in backend.split("."))


def at_least(backend: str, release: str) -> bool:
    return version(backend) >= version(release)


def dags(spec: dict) -> dict[str, dict]:
    """Every DAG of the spec by component name ("root" for the pipeline's own)."""
    return {"root": spec["root"], **{n: c for n, c in spec["components"].items() if "dag" in c}}


def find_task(spec: dict, task: str) -> tuple[str, dict]:
    """(the DAG that holds `task`, its task spec): the root's or a nested one's (a loop's)."""
    for dag, component in dags(spec).items():
        if task in component["dag"]["tasks"]:
            return dag, component["dag"]["tasks"][task]
    raise KeyError(task)


def component_of(spec: dict, dag: str) -> dict:
    return spec["root"] if dag == "root" else spec["components"][dag]


def caller(spec: dict, dag: str) -> tuple[str, str, dict]:
    """(the DAG holding the task that runs nested DAG `dag`, that task's name, its spec)."""
    return next(
        (parent, name, body)
        for parent, component in dags(spec).items()
        for name, body in component["dag"]["tasks"].items()
        if body["componentRef"]["name"] == dag
    )


def root_input(spec: dict, dag: str, name: str) -> str:
    """The root pipeline parameter that DAG `dag`'s input `name` is bound to, followed through the
    tasks that call each nested DAG (the driver resolves a loop's inputs from its parent's)."""
    while dag != "root":
        dag, _, body = caller(spec, dag)
        name = body["inputs"]["parameters"][name]["componentInputParameter"]
    return name


def root_parameter(spec: dict, task: str, placeholder: str) -> str | None:
    """The root pipeline parameter a task's `{{$.inputs.parameters['X']}}` placeholder is bound
    to."""
    match = PLACEHOLDER.match(placeholder)
    if not match:
        return None
    dag, body = find_task(spec, task)
    binding = body["inputs"]["parameters"][match.group(1)]
    return root_input(spec, dag, binding["componentInputParameter"])


def kubernetes(documents: list[dict]) -> dict:
    """The platform spec's `kubernetes` part ({} without one)."""
    platform = documents[1] if len(documents) > 1 else {}
    return platform.get("platforms", {}).get("kubernetes", {})


def pipeline_config(documents: list[dict]) -> dict:
    return kubernetes(documents).get("pipelineConfig", {})


def accept(documents: list[dict], backend: str) -> None:
    """Raise RejectedByBackend when `backend` refuses the pipeline when it is uploaded:
    apiserver/template/v2_template.go parses the platform spec with a strict
    `protojson.Unmarshal` (2.2.0-2.17.0), and api/v2alpha1/pipeline_spec.proto's `PipelineConfig`
    has a `workspace` field only from 2.14.0."""
    if "workspace" in pipeline_config(documents) and not at_least(backend, "2.14.0"):
        raise RejectedByBackend(f"backend {backend}: unknown field pipelineConfig.workspace")

"""What a real Kubeflow Pipelines backend does with the train task's placement, written down from
its source so that tests can hold our compiled YAML against it.

kubeflow/pipelines, backend/src/v2/driver/driver.go (`initPodSpecPatch`, `extendPodSpecPatch`) and
backend/src/v2/driver/resolve.go (`resolvePodSpecInputRuntimeParameter`), release tags 2.2.0-2.17.0:

- Resource placeholders (`resourceType`, `resourceCount`, `resourceCpuLimit`, ...) are resolved with
  `val.GetStringValue()`: a parameter that is not a STRING resolves to "" and the limit is not set.
  Backends 2.2.0 and 2.3.0 do not read the placeholder fields at all: only the accelerator's
  literal `type` / `count`, which the SDK writes only when both are constants.
- The Kubernetes executor config is parsed strictly by 2.2.0 and 2.3.0: `nodeSelectorJson` and
  `tolerationJson` are unknown fields there and fail the task. 2.4.1 knows the fields but ignores
  them (nothing is set). From 2.5.0 on they are resolved from the bound pipeline parameter.

The train task's checkpoint in the run's workspace and its retries:

- backend/src/apiserver/template/v2_template.go parses the platform spec with a strict
  `protojson.Unmarshal` (2.2.0-2.17.0), and api/v2alpha1/pipeline_spec.proto's `PipelineConfig`
  has a `workspace` field only from 2.14.0: older backends refuse to take the pipeline at all.
- 2.14.x makes the workspace's PVC (argocompiler/argo.go) but neither mounts it nor resolves
  `{{$.workspace_path}}`; from 2.15.0, driver/resolve.go replaces it with /kfp-workspace
  (component.WorkspaceMountPath) and driver/driver.go (`needsWorkspaceMount`) mounts the PVC in
  every pod whose parameters name it, the retried ones included.
- argocompiler/argo.go (`GetWorkspacePVC`, 2.15.0-2.17.0) makes the workspace's PVC from the API
  server's default spec (its `workspace.volumeclaimtemplatespec`, set by the operator) with the
  pipeline's `pvcSpecPatch` over it; the patch may name only `accessModes` and `storageClassName`
  (`convertStructToPVCSpec`), and a spec with no access mode fails the run.
- argocompiler/container.go turns a task's `retryPolicy` into Argo's retryStrategy from 2.5.0;
  2.2.0-2.4.1 parse the field (it is in their proto) and ignore it.

The sweep's loop (a ParallelFor over the plan task's output list, fanned in with dsl.Collected):

- argocompiler/dag.go (`iteratorTask`) sets the loop template's Argo `parallelism` from the task's
  `iteratorPolicy.parallelismLimit` from 2.4.1; 2.2.0 and 2.3.0 have no such code (their loops run
  every iteration at once).
- driver/resolve.go (`CollectInputs`) resolves an input collected from a loop's iterations from
  2.14.0; earlier drivers skip ParallelFor DAGs when they look for a producer
  (driver.go: "ParallelFor outputs should be handled with dsl.Collected") and fail the task.
- CollectInputs reads every iteration's output: a failed iteration leaves nothing to collect, and
  argocompiler/dag.go turns a task that ignores upstream failures (trigger strategy
  ALL_UPSTREAM_TASKS_COMPLETED) into an exit hook outside the DAG, which no later task can depend
  on. So no task can go on past a failed trial: a trial reports its failure as its result.
"""

import re

BACKENDS = ("2.2.0", "2.3.0", "2.4.1", "2.5.0", "2.15.0", "2.17.0")
_PLACEHOLDER = re.compile(r"^\{\{\$\.inputs\.parameters\['([^']+)'\]\}\}$")


class RejectedByBackend(Exception):
    """The backend fails the task (the run shows the driver's error)."""


def _version(backend: str) -> tuple[int, ...]:
    return tuple(int(part) for part in backend.split("."))


def at_least(backend: str, release: str) -> bool:
    return _version(backend) >= _version(release)


def _dags(spec: dict) -> dict[str, dict]:
    """Every DAG of the spec by component name ("root" for the pipeline's own)."""
    return {"root": spec["root"], **{n: c for n, c in spec["components"].items() if "dag" in c}}


def find_task(spec: dict, task: str) -> tuple[str, dict]:
    """(the DAG that holds `task`, its task spec): the root's or a nested one's (a loop's)."""
    for dag, component in _dags(spec).items():
        if task in component["dag"]["tasks"]:
            return dag, component["dag"]["tasks"][task]
    raise KeyError(task)


def _root_input(spec: dict, dag: str, name: str) -> str:
    """The root pipeline parameter that DAG `dag`'s input `name` is bound to, followed through the
    tasks that call each nested DAG (the driver resolves a loop's inputs from its parent's)."""
    while dag != "root":
        dag, body = next(
            (parent, body)
            for parent, component in _dags(spec).items()
            for body in component["dag"]["tasks"].values()
            if body["componentRef"]["name"] == dag
        )
        name = body["inputs"]["parameters"][name]["componentInputParameter"]
    return name


def root_parameter(spec: dict, task: str, placeholder: str) -> str | None:
    """The root pipeline parameter a task's `{{$.inputs.parameters['X']}}` placeholder is bound
    to."""
    match = _PLACEHOLDER.match(placeholder)
    if not match:
        return None
    dag, body = find_task(spec, task)
    binding = body["inputs"]["parameters"][match.group(1)]
    return _root_input(spec, dag, binding["componentInputParameter"])


def _get_string_value(spec: dict, task: str, field: str, arguments: dict) -> str:
    """resolvePodSpecInputRuntimeParameter: a constant as is, a placeholder via GetStringValue()."""
    name = root_parameter(spec, task, field)
    if name is None:
        return field
    value = arguments.get(
        name, spec["root"]["inputDefinitions"]["parameters"][name].get("defaultValue")
    )
    return value if isinstance(value, str) else ""


def _parameter(spec: dict, dag: str, binding: dict, arguments: dict):
    name = _root_input(spec, dag, binding["componentInputParameter"])
    return arguments.get(
        name, spec["root"]["inputDefinitions"]["parameters"][name].get("defaultValue")
    )


WORKSPACE_MOUNT_PATH = "/kfp-workspace"


def accept(documents: list[dict], backend: str) -> None:
    """Raise RejectedByBackend when `backend` refuses the pipeline when it is uploaded."""
    platform = documents[1] if len(documents) > 1 else {}
    config = platform.get("platforms", {}).get("kubernetes", {}).get("pipelineConfig", {})
    if "workspace" in config and _version(backend) < (2, 14, 0):
        raise RejectedByBackend(f"backend {backend}: unknown field pipelineConfig.workspace")


def constant_in_pod(documents: list[dict], task: str, name: str, backend: str) -> str:
    """The value of root task `task`'s constant parameter `name` as its container receives it."""
    accept(documents, backend)
    value = find_task(documents[0], task)[1]["inputs"]["parameters"][name]["runtimeValue"][
        "constant"
    ]
    if _version(backend) >= (2, 15, 0):
        value = value.replace("{{$.workspace_path}}", WORKSPACE_MOUNT_PATH)
    return value


def workspace_size(documents: list[dict], backend: str) -> str | None:
    """The size of the run's workspace volume that `backend` makes and mounts (None: none)."""
    accept(documents, backend)
    platform = documents[1] if len(documents) > 1 else {}
    config = platform.get("platforms", {}).get("kubernetes", {}).get("pipelineConfig", {})
    if "workspace" not in config or _version(backend) < (2, 15, 0):
        return None
    return config["workspace"]["size"]


def retries(documents: list[dict], task: str, backend: str) -> int:
    """How often `backend` runs root task `task` again after its pod fails."""
    accept(documents, backend)
    policy = find_task(documents[0], task)[1].get("retryPolicy", {})
    return int(policy.get("maxRetryCount", 0)) if _version(backend) >= (2, 5, 0) else 0


def pod_placement(
    documents: list[dict], task: str, backend: str, arguments: dict | None = None
) -> dict:
    """{limits, nodeSelector, tolerations} that `backend` gives the pod of task `task` (in the
    root DAG or a nested one)."""
    accept(documents, backend)
    arguments = arguments or {}
    spec = documents[0]
    dag, body = find_task(spec, task)
    executor = spec["components"][body["componentRef"]["name"]]["executorLabel"]
    accelerator = (
        spec["deploymentSpec"]["executors"][executor]["container"]
        .get("resources", {})
        .get("accelerator", {})
    )
    if _version(backend) <= (2, 3, 0):
        kind, count = accelerator.get("type", ""), str(accelerator.get("count", ""))
    else:
        kind = (
            _get_string_value(spec, task, accelerator["resourceType"], arguments)
            if accelerator.get("resourceType")
            else accelerator.get("type", "")
        )
        count = (
            _get_string_value(spec, task, accelerator["resourceCount"], arguments)
            if accelerator.get("resourceCount")
            else str(accelerator.get("count", ""))
        )
    limits = {kind: count} if kind and count not in ("", "0") else {}

    platform = documents[1] if len(documents) > 1 else {}
    config = (
        platform.get("platforms", {})
        .get("kubernetes", {})
        .get("deploymentSpec", {})
        .get("executors", {})
        .get(executor, {})
    )
    uses_json = "nodeSelectorJson" in config.get("nodeSelector", {}) or any(
        "tolerationJson" in t for t in config.get("tolerations", [])
    )
    if uses_json and _version(backend) <= (2, 3, 0):
        raise RejectedByBackend(f"backend {backend}: unknown field nodeSelectorJson/tolerationJson")
    selector = config.get("nodeSelector", {})
    if "nodeSelectorJson" in selector:
        node_selector = (
            _parameter(spec, dag, selector["nodeSelectorJson"], arguments)
            if _version(backend) >= (2, 5, 0)
            else {}
        )
    else:
        node_selector = selector.get("labels", {})
    tolerations = []
    for toleration in config.get("tolerations", []):
        if "tolerationJson" not in toleration:
            tolerations.append(toleration)
        elif _version(backend) >= (2, 5, 0):
            value = _parameter(spec, dag, toleration["tolerationJson"], arguments)
            tolerations += value if isinstance(value, list) else [value]
    return {"limits": limits, "nodeSelector": node_selector, "tolerations": tolerations}


def loop_parallelism(documents: list[dict], loop_task: str, backend: str) -> int | None:
    """How many iterations of root task `loop_task` (a ParallelFor) `backend` runs at once (None:
    all)."""
    accept(documents, backend)
    policy = documents[0]["root"]["dag"]["tasks"][loop_task].get("iteratorPolicy", {})
    limit = int(policy.get("parallelismLimit", 0))
    return limit if limit > 0 and _version(backend) >= (2, 4, 1) else None


def collects_loop_outputs(backend: str) -> bool:
    """Whether `backend`'s driver resolves a dsl.Collected input (a list from a loop)."""
    return _version(backend) >= (2, 14, 0)


def workspace_volume(
    documents: list[dict], backend: str, server_default: dict | None
) -> dict[str, object]:
    """The {accessModes, storageClassName} of the workspace PVC `backend` makes for a run, given
    the API server's default spec (None: the operator set none); RejectedByBackend when it fails."""
    accept(documents, backend)
    platform = documents[1] if len(documents) > 1 else {}
    config = platform["platforms"]["kubernetes"]["pipelineConfig"]["workspace"]
    patch = config.get("kubernetes", {}).get("pvcSpecPatch", {})
    unknown = sorted(set(patch) - {"accessModes", "storageClassName"})
    if unknown:
        raise RejectedByBackend(f"unknown fields in PVC spec patch: {unknown}")
    spec = {**(server_default or {}), **patch}
    if not spec.get("accessModes"):
        raise RejectedByBackend("workspace PVC spec must specify accessModes")
    return {"accessModes": spec["accessModes"], "storageClassName": spec.get("storageClassName")}

"""Where the backend puts a task's pod: its accelerator limit, node selector and tolerations.

kubeflow/pipelines, backend/src/v2/driver/driver.go (`initPodSpecPatch`, `extendPodSpecPatch`) and
backend/src/v2/driver/resolve.go (`resolvePodSpecInputRuntimeParameter`), release tags 2.2.0-2.17.0:

- Resource placeholders (`resourceType`, `resourceCount`, `resourceCpuLimit`, ...) are resolved with
  `val.GetStringValue()`: a parameter that is not a STRING resolves to "" and the limit is not set.
  Backends 2.2.0 and 2.3.0 do not read the placeholder fields at all: only the accelerator's
  literal `type` / `count`, which the SDK writes only when both are constants.
- The Kubernetes executor config is parsed strictly by 2.2.0 and 2.3.0: `nodeSelectorJson` and
  `tolerationJson` are unknown fields there and fail the task. 2.4.1 knows the fields but ignores
  them (nothing is set). From 2.5.0 on they are resolved from the bound pipeline parameter.
"""

from .spec import RejectedByBackend, accept, find_task, root_input, root_parameter, version


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
    name = root_input(spec, dag, binding["componentInputParameter"])
    return arguments.get(
        name, spec["root"]["inputDefinitions"]["parameters"][name].get("defaultValue")
    )


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
    if version(backend) <= (2, 3, 0):
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
    if uses_json and version(backend) <= (2, 3, 0):
        raise RejectedByBackend(f"backend {backend}: unknown field nodeSelectorJson/tolerationJson")
    selector = config.get("nodeSelector", {})
    if "nodeSelectorJson" in selector:
        node_selector = (
            _parameter(spec, dag, selector["nodeSelectorJson"], arguments)
            if version(backend) >= (2, 5, 0)
            else {}
        )
    else:
        node_selector = selector.get("labels", {})
    tolerations = []
    for toleration in config.get("tolerations", []):
        if "tolerationJson" not in toleration:
            tolerations.append(toleration)
        elif version(backend) >= (2, 5, 0):
            value = _parameter(spec, dag, toleration["tolerationJson"], arguments)
            tolerations += value if isinstance(value, list) else [value]
    return {"limits": limits, "nodeSelector": node_selector, "tolerations": tolerations}

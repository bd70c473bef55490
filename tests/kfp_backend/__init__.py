"""A model of what a real Kubeflow Pipelines backend does with a compiled YAML, read from its Go
source (kubeflow/pipelines `backend/src/v2` and `apiserver`, tags 2.2.0-2.17.0) and from the Argo
Workflows releases it runs on (v3.6.7 for 2.14-2.16, v4.0.5 for 2.17). kfp.local shows none of
it. Each module holds one part, with the file, tag and lines each rule comes from:

    spec.py          the versions, the DAGs and tasks, what the API server refuses at upload
    types.py         each parameter's kind, producer to consumer: loops, conditions, arguments
    placeholders.py  which `{{$.…}}` each version resolves
    placement.py     the pod's accelerator limit, node selector and tolerations
    loops.py         the loop's parallelism and the fan-in of its outputs
    retries.py       Argo's retries: the window, the backoff, Failed against Error
    workspace.py     the workspace volume: taken, made, mounted, shared

`problems()` runs every rule over one YAML for one backend, as a run of it would meet them.
"""

from .command_line import MAX_ARG_STRLEN, executor_input_bytes
from .loops import (
    collecting_tasks,
    collects_loop_outputs,
    loop_parallelism,
    loop_source_problems,
    loop_sources,
)
from .placeholders import unresolved
from .placement import pod_placement
from .retries import ERROR, FAILED, Attempts, attempts_when_lost, retries
from .spec import (
    BACKENDS,
    RejectedByBackend,
    accept,
    at_least,
    dags,
    find_task,
    kubernetes,
    root_parameter,
)
from .types import run_argument_problems, type_mismatches
from .workspace import (
    WORKSPACE_PLACEHOLDER,
    constant_in_pod,
    workspace_sharing,
    workspace_size,
    workspace_volume,
)

__all__ = [
    "BACKENDS",
    "MAX_ARG_STRLEN",
    "ERROR",
    "FAILED",
    "Attempts",
    "RejectedByBackend",
    "WORKSPACE_PLACEHOLDER",
    "accept",
    "at_least",
    "attempts_when_lost",
    "collecting_tasks",
    "collects_loop_outputs",
    "constant_in_pod",
    "dropped",
    "executor_input_bytes",
    "find_task",
    "loop_parallelism",
    "loop_sources",
    "pod_placement",
    "problems",
    "retries",
    "root_parameter",
    "run_argument_problems",
    "type_mismatches",
    "unresolved",
    "workspace_sharing",
    "workspace_size",
    "workspace_volume",
]


def problems(
    documents: list[dict],
    backend: str,
    attempt_s: dict[str, float],
    handled: dict[str, str],
    item_kinds: dict[str, str] | None = None,
    arguments: dict | None = None,
    server_default: dict | None = None,
) -> list[str]:
    """What goes wrong when `backend` runs the pipeline: refused at upload or at run creation, a
    task its driver fails, a placeholder passed on that its step does not expect (`handled`:
    {input name: placeholder} the step copes with), a fan-in it cannot resolve, a lost training
    not retried when each attempt takes `attempt_s[task]`, a workspace it cannot make."""
    try:
        accept(documents, backend)
    except RejectedByBackend as e:
        return [str(e)]
    found = run_argument_problems(documents, arguments or {})
    found += type_mismatches(documents, item_kinds)
    found += loop_source_problems(documents)
    for where, placeholder in unresolved(documents, backend).items():
        if handled.get(where.rsplit("/", 1)[1]) != placeholder:
            found.append(f"{where}: {placeholder} reaches the container as written")
    if not collects_loop_outputs(backend):
        found += [
            f"{t}: the driver cannot collect a loop's outputs" for t in collecting_tasks(documents)
        ]
    found += _placement_problems(documents, backend, arguments or {})
    found += dropped(documents, backend)
    try:
        workspace_volume(documents, backend, server_default)
    except RejectedByBackend as e:
        found.append(f"workspace: {e}")
    for task, seconds in attempt_s.items():
        allowed = retries(documents, task, backend)
        if not allowed:
            continue
        attempts = attempts_when_lost(documents, task, backend, seconds)
        if len(attempts.starts) < allowed + 1 or attempts.cut_short(seconds):
            found.append(
                f"{task}: {len(attempts.starts)} of {allowed + 1} attempts start "
                f"({attempts.stopped}), attempts {attempts.cut_short(seconds)} cut short"
            )
    return found


def _placement_problems(documents: list[dict], backend: str, arguments: dict) -> list[str]:
    """Each task that asks for an accelerator and does not get it on `backend`."""
    spec, found = documents[0], []
    executors = spec["deploymentSpec"]["executors"]
    for dag in dags(spec).values():
        for name, task in dag["dag"]["tasks"].items():
            executor = spec["components"][task["componentRef"]["name"]].get("executorLabel")
            container = executors.get(executor, {}).get("container", {})
            if not container.get("resources", {}).get("accelerator"):
                continue
            try:
                placed = pod_placement(documents, name, backend, arguments)
            except RejectedByBackend as e:
                found.append(f"{name}: placement: {e}")
                continue
            if not placed["limits"]:
                found.append(f"{name}: placement: the accelerator limit is not set")
            asked = _asked_placement(documents, executor)
            for key in ("nodeSelector", "tolerations"):
                if asked[key] and not placed[key]:
                    found.append(f"{name}: placement: dropped: its {key} is not set")
    return found


def _asked_placement(documents: list[dict], executor: str) -> dict[str, bool]:
    """Whether the platform spec asks for a node selector and tolerations for `executor`."""
    config = kubernetes(documents).get("deploymentSpec", {}).get("executors", {}).get(executor, {})
    return {
        "nodeSelector": bool(config.get("nodeSelector")),
        "tolerations": bool(config.get("tolerations")),
    }


def dropped(documents: list[dict], backend: str) -> list[str]:
    """What the pipeline asks for that `backend` takes without a word and does not do: a task's
    retries before 2.5.0 (argocompiler/container.go), a loop's parallelism before 2.4.1
    (argocompiler/dag.go)."""
    found = []
    for dag in dags(documents[0]).values():
        for name, task in dag["dag"]["tasks"].items():
            if "retryPolicy" in task and not at_least(backend, "2.5.0"):
                found.append(f"{name}: dropped: its retry policy (retried from 2.5.0)")
            if task.get("iteratorPolicy", {}).get("parallelismLimit") and not at_least(
                backend, "2.4.1"
            ):
                found.append(f"{name}: dropped: its parallelism (every iteration runs at once)")
    return found

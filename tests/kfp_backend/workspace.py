"""The run's workspace: which backends take it, the volume each makes, where it is mounted, and
how many nodes can use it at once.

- 2.14.x makes the workspace's PVC (argocompiler/argo.go `GetWorkspacePVC`, 2.14.4:508) but
  neither mounts it nor resolves `{{$.workspace_path}}`; from 2.15.0, driver/resolve.go
  (2.17.0:430) replaces it with /kfp-workspace (component.WorkspaceMountPath) and
  driver/driver.go (`needsWorkspaceMount`, 2.17.0:521) mounts the PVC in every pod whose
  parameters name it, the retried ones included.
- `GetWorkspacePVC` makes the PVC from the API server's default spec (its
  `workspace.volumeclaimtemplatespec`, set by the operator; a stock install's
  apiserver/config/config.json sets none) with the pipeline's `pvcSpecPatch` over it. The patch
  may name only `accessModes` and `storageClassName` (`convertStructToPVCSpec`, 2.17.0:594-628),
  and a spec with no access mode fails the run (2.15.0:548, 2.17.0:663). 2.14.x hands such a
  spec to Kubernetes, which refuses it (pkg/apis/core/validation/validation.go,
  `ValidatePersistentVolumeClaimSpec`: "at least 1 access mode is required").
- Kubernetes attaches a ReadWriteOnce volume to one node at a time (a pod on a second node waits
  in ContainerCreating: "Multi-Attach error") and a ReadWriteOncePod volume to one pod.
"""

from .spec import RejectedByBackend, accept, at_least, find_task, pipeline_config

WORKSPACE_MOUNT_PATH = "/kfp-workspace"
WORKSPACE_PLACEHOLDER = "{{$.workspace_path}}"


def constant_in_pod(documents: list[dict], task: str, name: str, backend: str) -> str:
    """The value of task `task`'s constant parameter `name` as its container receives it."""
    accept(documents, backend)
    value = find_task(documents[0], task)[1]["inputs"]["parameters"][name]["runtimeValue"][
        "constant"
    ]
    if at_least(backend, "2.15.0"):
        value = value.replace(WORKSPACE_PLACEHOLDER, WORKSPACE_MOUNT_PATH)
    return value


def workspace_size(documents: list[dict], backend: str) -> str | None:
    """The size of the run's workspace volume that `backend` makes and mounts (None: none)."""
    accept(documents, backend)
    config = pipeline_config(documents)
    if "workspace" not in config or not at_least(backend, "2.15.0"):
        return None
    return config["workspace"]["size"]


def workspace_volume(
    documents: list[dict], backend: str, server_default: dict | None
) -> dict[str, object] | None:
    """The {accessModes, storageClassName} of the workspace PVC `backend` makes for a run, given
    the API server's default spec (None: the operator set none, as a stock install); None when
    the pipeline has no workspace; RejectedByBackend when the run fails for it."""
    accept(documents, backend)
    config = pipeline_config(documents)
    if "workspace" not in config:
        return None
    patch = config["workspace"].get("kubernetes", {}).get("pvcSpecPatch", {})
    unknown = sorted(set(patch) - {"accessModes", "storageClassName"})
    if unknown and at_least(backend, "2.14.0"):
        raise RejectedByBackend(f"unknown fields in PVC spec patch: {unknown}")
    spec = {**(server_default or {}), **patch}
    if not spec.get("accessModes"):
        if at_least(backend, "2.15.0"):
            raise RejectedByBackend("workspace PVC spec must specify accessModes")
        raise RejectedByBackend(
            "spec.accessModes: Required value: at least 1 access mode is required"
        )
    return {"accessModes": spec["accessModes"], "storageClassName": spec.get("storageClassName")}


def workspace_sharing(documents: list[dict], backend: str, server_default: dict | None) -> str:
    """Which pods that mount the workspace can run at once: "many nodes", "one node", "one pod",
    or "none mounted" (no workspace, or a backend that mounts none)."""
    volume = workspace_volume(documents, backend, server_default)
    if volume is None or not at_least(backend, "2.15.0"):
        return "none mounted"
    modes = set(volume["accessModes"])  # type: ignore[call-overload]
    if "ReadWriteMany" in modes:
        return "many nodes"
    return "one pod" if modes == {"ReadWriteOncePod"} else "one node"

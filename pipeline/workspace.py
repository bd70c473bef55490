"""The run's KFP workspace volume, where the train task (each of a sweep's trials) keeps its
checkpoint: its size, and the access mode and StorageClass when the cluster's default does not
suit.

The backend makes the volume from the KFP API server's default spec (its `workspace` config, set
by the operator: access modes and a StorageClass) with the pipeline's patch over it; the patch may
set only those two fields, and a volume without an access mode fails the run (kubeflow/pipelines
2.17.0 backend/src/v2/compiler/argocompiler/argo.go, `convertStructToPVCSpec` and
`GetWorkspacePVC`). A stock install's API server sets none, so the pipeline names ReadWriteOnce,
which every StorageClass offers, unless told to leave it to the server. A ReadWriteOnce volume is
attached to one node at a time: a sweep's trial on a second node waits for it (docs/sweep.md).
"""

from dataclasses import dataclass

from kfp import dsl

from alexnet_kfp.errors import InputError
from alexnet_kfp.k8s_names import check_subdomain_name

ACCESS_MODES = ("ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod")
DEFAULT_ACCESS_MODE = "ReadWriteOnce"
SERVER_ACCESS_MODE = "server"  # none in the patch: the KFP API server's workspace config names it


@dataclass(frozen=True)
class Workspace:
    """The workspace volume's settings: an access mode (SERVER_ACCESS_MODE: the KFP API server's)
    and a StorageClass (empty: the API server's, else the cluster's default)."""

    access_mode: str = DEFAULT_ACCESS_MODE
    storage_class: str = ""

    def check(self) -> "Workspace":
        if self.access_mode not in (*ACCESS_MODES, SERVER_ACCESS_MODE):
            raise InputError(
                f"--workspace-access-mode must be one of {', '.join(ACCESS_MODES)} or "
                f"{SERVER_ACCESS_MODE}, got {self.access_mode!r}"
            )
        if self.storage_class:
            check_subdomain_name(self.storage_class, "--workspace-storage-class")
        return self

    def config(self, size: str) -> dsl.WorkspaceConfig:
        patch: dict = {}
        if self.access_mode != SERVER_ACCESS_MODE:
            patch["accessModes"] = [self.access_mode]
        if self.storage_class:
            patch["storageClassName"] = self.storage_class
        return dsl.WorkspaceConfig(size=size, kubernetes=dsl.KubernetesWorkspaceConfig(patch))

"""The run's KFP workspace volume, where the train task (each of a sweep's trials) keeps its
checkpoint: its size, and the access mode and StorageClass when the cluster's default does not
suit.

The backend makes the volume from the KFP API server's default spec (its `workspace` config, set
by the operator: access modes and a StorageClass) with the pipeline's patch over it; the patch may
set only those two fields (kubeflow/pipelines 2.17.0 backend/src/v2/compiler/argocompiler/argo.go,
`convertStructToPVCSpec` and `GetWorkspacePVC`). A ReadWriteOnce volume is mounted by one node at a
time: the trials of a sweep then wait for the GPUs of that node (docs/sweep.md).
"""

from dataclasses import dataclass

from kfp import dsl

from alexnet_kfp.errors import InputError
from alexnet_kfp.k8s_names import check_subdomain_name

ACCESS_MODES = ("ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod")


@dataclass(frozen=True)
class Workspace:
    """The workspace volume's settings; empty ones are the cluster's defaults."""

    access_mode: str = ""
    storage_class: str = ""

    def check(self) -> "Workspace":
        if self.access_mode and self.access_mode not in ACCESS_MODES:
            raise InputError(
                f"--workspace-access-mode must be one of {', '.join(ACCESS_MODES)}, got "
                f"{self.access_mode!r}"
            )
        if self.storage_class:
            check_subdomain_name(self.storage_class, "--workspace-storage-class")
        return self

    def config(self, size: str) -> dsl.WorkspaceConfig:
        patch: dict = {}
        if self.access_mode:
            patch["accessModes"] = [self.access_mode]
        if self.storage_class:
            patch["storageClassName"] = self.storage_class
        return dsl.WorkspaceConfig(size=size, kubernetes=dsl.KubernetesWorkspaceConfig(patch))

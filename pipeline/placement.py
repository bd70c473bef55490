"""Where the train task runs: its GPU, node selector and tolerations, in the form every KFP backend
reads (docs/kubeflow.md, "The GPU node", has the table of Kubeflow releases).

Two compile modes:
- literal (default): accelerator type and count, node-selector labels and tolerations are written
  into pipeline.yaml as constants. The SDK then also writes the legacy accelerator `type`/`count`
  that backends up to 2.3.0 read, and `nodeSelector.labels` / plain `tolerations` that every
  backend from 2.2.0 parses. Change them with `alexnet-kfp compile --gpu-type ... --node-selector
  ...`.
- run-time (`--runtime-placement`, backends >= 2.5.0): four pipeline parameters. The accelerator's
  type and count are STRING parameters because the backend's driver resolves resource placeholders
  with `GetStringValue()` (an int parameter resolves to "" and the GPU limit silently vanishes).
"""

from dataclasses import dataclass, field

from alexnet_kfp.errors import InputError
from alexnet_kfp.k8s_names import is_label_value, is_qualified_name

DEFAULT_GPU_TYPE = "nvidia.com/gpu"
DEFAULT_NODE_SELECTOR = {"nvidia.com/gpu.present": "true"}  # the NVIDIA GPU operator's node label
DEFAULT_TOLERATIONS = ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},)
EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
# The train pod's CPUs only gather batches (the augmentation runs on the GPU): under one core even
# for an H100 (bench/input_feed.py), plus one for TensorFlow's host side; the limit leaves room.
# Its memory holds the data set.
TRAIN_CPU_REQUEST, TRAIN_CPU_LIMIT = "2", "8"
TRAIN_MEMORY_REQUEST, TRAIN_MEMORY_LIMIT = "16G", "32G"


@dataclass(frozen=True)
class Placement:
    """The train task's placement. `gpu_count` 0 compiles a CPU-only pipeline (no GPU, selector or
    toleration)."""

    gpu_type: str = DEFAULT_GPU_TYPE
    gpu_count: int = 1
    node_selector: dict = field(default_factory=lambda: dict(DEFAULT_NODE_SELECTOR))
    tolerations: tuple = DEFAULT_TOLERATIONS
    # opt-in: placement as run-time pipeline parameters (KFP backend >= 2.5.0)
    runtime: bool = False

    def check(self) -> "Placement":
        if not is_qualified_name(self.gpu_type):
            raise InputError(
                f"--gpu-type {self.gpu_type!r} is not a Kubernetes resource name (e.g. "
                "nvidia.com/gpu)"
            )
        if self.gpu_count < 0:
            raise InputError(f"--gpu-count must be 0 (CPU only) or more, got {self.gpu_count}")
        if self.runtime and self.gpu_count == 0:
            raise InputError(
                "--runtime-placement needs a GPU: drop --gpu-count 0 or the run-time mode"
            )
        for key, value in self.node_selector.items():
            if not is_qualified_name(key) or not is_label_value(value):
                raise InputError(f"--node-selector {key}={value}: not a valid Kubernetes label")
        return self

    @property
    def uses_gpu(self) -> bool:
        return self.gpu_count > 0


def parse_node_selector(pairs: list[str]) -> dict:
    """KEY=VALUE labels, as `kubectl label` writes them."""
    labels = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--node-selector {pair!r} is not KEY=VALUE")
        labels[key] = value
    return labels


def parse_toleration(text: str) -> dict:
    """KEY[=VALUE]:EFFECT, as `kubectl taint` writes a taint: tolerate exactly that taint.
    Without a value the toleration is `operator: Exists` (any value of KEY)."""
    taint, sep, effect = text.rpartition(":")
    key, has_value, value = taint.partition("=")
    if not sep or not key or effect not in EFFECTS or not is_qualified_name(key):
        raise InputError(
            f"--toleration {text!r} is not KEY[=VALUE]:EFFECT with EFFECT one of "
            f"{', '.join(EFFECTS)}"
        )
    if has_value:
        return {"key": key, "operator": "Equal", "value": value, "effect": effect}
    return {"key": key, "operator": "Exists", "effect": effect}


def place_literally(task, placement: Placement) -> None:
    """Constants in the spec: read by every backend from 2.2.0 on."""
    from kfp import kubernetes

    if not placement.uses_gpu:
        return
    task.set_accelerator_type(placement.gpu_type).set_accelerator_limit(placement.gpu_count)
    for key, value in placement.node_selector.items():
        kubernetes.add_node_selector(task, label_key=key, label_value=value)
    for toleration in placement.tolerations:
        kubernetes.add_toleration(
            task,
            key=toleration["key"],
            operator=toleration["operator"],
            value=toleration.get("value"),
            effect=toleration["effect"],
        )


def place_at_run_time(task, accelerator, count, node_selector, tolerations) -> None:
    """Pipeline channels in the spec (STRING accelerator and count, a dict and a list): backends >=
    2.5.0."""
    from kfp import kubernetes

    task.set_accelerator_type(accelerator).set_accelerator_limit(count)
    # kfp 2.17 binds the accelerator's placeholders to the task's enclosing DAG but does not list
    # them among the task's channels, so a loop's DAG (the sweep's trials) is not given them and
    # the backend's driver finds no such input: list them, as the node selector's already are.
    listed = {channel.pattern for channel in task._channel_inputs}  # `==` makes a KFP condition
    task._channel_inputs.extend(c for c in (accelerator, count) if c.pattern not in listed)
    kubernetes.add_node_selector_json(task, node_selector)
    kubernetes.add_toleration_json(task, tolerations)


def set_train_resources(task) -> None:
    task.set_cpu_request(TRAIN_CPU_REQUEST).set_cpu_limit(TRAIN_CPU_LIMIT)
    task.set_memory_request(TRAIN_MEMORY_REQUEST).set_memory_limit(TRAIN_MEMORY_LIMIT)

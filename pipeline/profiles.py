"""The run profiles: what a run trains by default, by where it runs. The values are declared with
each parameter (parameters.py: its default and its `local` and `quick` columns); the compiled
pipeline's defaults, `alexnet-kfp run`, CI's DockerRunner check and the docs read them here.

Each profile lists the values it sets over the steps' own defaults (TrainConfig, the gate, the
data step); docs/training.md says why each value was chosen.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from alexnet_kfp.pipeline.parameters import profile_values


@dataclass(frozen=True)
class Profile:
    """Pipeline parameter values for one kind of run, over the steps' own defaults."""

    name: str
    where: str
    values: Mapping[str, object]

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    def changes(self, base: "Profile") -> dict[str, object]:
        """The values this profile sets differently from `base`."""
        return {k: v for k, v in self.values.items() if base.values.get(k, object()) != v}


GPU_NODE = Profile(
    "gpu-node",
    "the compiled pipeline.yaml, on a Kubeflow GPU node",
    profile_values("gpu-node"),
)
LOCAL = Profile(
    "local",
    "`alexnet-kfp run` and `make run`, on the CPU of the machine they run on",
    profile_values("local"),
)
QUICK = Profile(
    "quick",
    "`alexnet-kfp run --quick`: a 5,000-image sample, a few minutes",
    profile_values("quick"),
)
PROFILES = (GPU_NODE, LOCAL, QUICK)

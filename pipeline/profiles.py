"""The run profiles: what a run trains by default, by where it runs. The one home of these values:
the compiled pipeline's defaults, `alexnet-kfp run`, CI's DockerRunner check and the docs read them.

Each profile lists the values it sets over the steps' own defaults (TrainConfig, the gate, the
data step); docs/training.md says why each value was chosen.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


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
    {"variant": "cifar", "epochs": 100},
)
LOCAL = Profile(
    "local",
    "`alexnet-kfp run` and `make run`, on the CPU of the machine they run on",
    {**GPU_NODE.values, "epochs": 8, "crop_padding": 0, "require_gpu": False},
)
QUICK = Profile(
    "quick",
    "`alexnet-kfp run --quick`: a 5,000-image sample, a few minutes",
    {
        **LOCAL.values,
        "variant": "article",
        "epochs": 6,
        "limit_per_class": 500,
        "min_accuracy": 0.2,
    },
)
PROFILES = (GPU_NODE, LOCAL, QUICK)

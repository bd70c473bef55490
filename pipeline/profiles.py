"""The run profiles: named sets of overrides of the pipeline's defaults, by where a run trains.
The values are declared with each parameter (parameters.py: its `local` and `quick` columns);
`alexnet-kfp run`, its --help, CI's DockerRunner check and the docs read them here. The compiled
pipeline and the step commands take no profile: they use the defaults themselves.

docs/training.md says why each value was chosen.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from alexnet_kfp.pipeline.parameters import ALL_PARAMETERS, profile_values


@dataclass(frozen=True)
class Profile:
    """Pipeline parameter values for one kind of run, over the pipeline's defaults."""

    name: str
    where: str
    values: Mapping[str, object]

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    def changes(self, base: "Profile") -> dict[str, object]:
        """The values this profile sets differently from `base`."""
        return {k: v for k, v in self.values.items() if base.values.get(k, object()) != v}

    def described(self) -> str:
        """ "profile local: epochs 8 (pipeline: 100), ...", as --help and the docs say it."""
        shown = ", ".join(
            f"{name} {value} (pipeline: {ALL_PARAMETERS[name].default})"
            for name, value in self.values.items()
        )
        return f"profile {self.name}: {shown}"


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
PROFILES = (LOCAL, QUICK)

"""What every step's configuration shares: each field declares its default, its help and any
command-line setting together (`option`), so that the CLI makes one flag per field and the
pipeline's parameter table reads the same help; `check()` refuses a value the step cannot use, in
one line naming the value (never a flag: the same line is read in a Kubeflow pod's log)."""

from dataclasses import field, fields
from typing import Any, Self


def option(default: Any, help: str, **cli: Any) -> Any:
    """A field with its help and command-line settings (argparse's, e.g. choices or metavar;
    `flag` names the flag when it is not --the-field-name)."""
    return field(default=default, metadata={"help": help, **cli})


class StepConfig:
    """Base of the step configurations (dataclasses): `of` builds one from a mapping that may hold
    more than its fields; `check` is each step's own."""

    @classmethod
    def of(cls, arguments: dict) -> Self:
        """The configuration of those `arguments` that name a field (the other keys are left: a
        component passes all of its own, a CLI handler its parsed flags)."""
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in arguments.items() if k in names})

    def check(self) -> Self:
        return self

"""docs/parameters.md, made from the parameter table (parameters.py): `make compile` writes it
(`python -m alexnet_kfp.pipeline.parameter_docs`) and a test fails when it is stale."""

import json

from alexnet_kfp.pipeline.parameters import (
    PARAMETERS,
    PLACEMENT_PARAMETERS,
    SWEEP_PARAMETERS,
    profile_values,
)

_DOC_HEADER = """# Pipeline parameters

<!-- Made from pipeline/parameters.py by `make compile`; edit the table there. -->

Every parameter of the compiled pipeline (the Kubeflow UI's run form shows the same
descriptions), with what `alexnet-kfp run` and `run --quick` use instead where they differ. Give
them as `KEY=VALUE` to `alexnet-kfp submit`, as flags (`--learning-rate 3e-4`) or
`--param KEY=VALUE` to `alexnet-kfp run`. The step named is the one that takes the value and
checks it; `submit` and `run` run the same checks before anything is sent or started.

| parameter | type | Kubeflow default | `run` | `run --quick` | step | what it does |
|---|---|---|---|---|---|---|"""
_DOC_FOOTER = """
The four `gpu_*` parameters exist only in a pipeline compiled with `alexnet-kfp compile
--runtime-placement` (KFP backends from 2.5.0); otherwise the train task's GPU node is written into
the pipeline as constants ([Kubeflow and the GPU node](kubeflow.md)). `trials` is the sweep's
(`sweep.yaml`, `alexnet-kfp run --trials FILE`), whose training parameters above are each trial's
defaults ([the sweep](sweep.md))."""


def markdown() -> str:
    """docs/parameters.md: the table as people read it (`make compile` writes it; a test fails when
    it is stale)."""
    local, quick = profile_values("local"), profile_values("quick")

    def shown(value: object) -> str:
        return "(empty)" if value == "" else f"`{json.dumps(value)}`"

    rows = [_DOC_HEADER]
    for p in PARAMETERS + PLACEMENT_PARAMETERS + SWEEP_PARAMETERS:
        run = shown(local[p.name]) if local.get(p.name, p.default) != p.default else ""
        fast = (
            shown(quick[p.name])
            if quick.get(p.name, p.default) != local.get(p.name, p.default)
            else ""
        )
        cells = (
            f"`{p.name}`",
            p.type.__name__,
            shown(p.default),
            run,
            fast,
            ", ".join(p.steps),
            p.described,
        )
        rows.append("| " + " | ".join(cells) + " |")
    rows.append(_DOC_FOOTER)
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")

"""Compile the pipeline (or the sweep) to YAML, byte for byte the same every time.

KFP writes each parameter's default into the YAML's header comment via a protobuf Struct, whose
map order varies between processes; we rewrite those comment lines with sorted keys. The spec
itself is untouched (and already deterministic)."""

import ast
import json
import re
import tempfile
from pathlib import Path

from kfp import compiler

from alexnet_kfp.components import IMAGE
from alexnet_kfp.files import write_atomically
from alexnet_kfp.k8s_names import check_image
from alexnet_kfp.pipeline.parameters import SWEEP_PARAMETERS, parameters_for, step_arguments
from alexnet_kfp.pipeline.pipeline import build_pipeline
from alexnet_kfp.pipeline.placement import Placement
from alexnet_kfp.pipeline.sweep import build_sweep
from alexnet_kfp.pipeline.workspace import Workspace
from alexnet_kfp.train.halving import Halving
from alexnet_kfp.train.trials import plan_trials

_DEFAULT_COMMENT = re.compile(r"^(#\s+\w+: \w+ \[Default: )(.*)(\])$")


def _stable_comment(line: str) -> str:
    match = _DEFAULT_COMMENT.match(line)
    if not match or match.group(2)[:1] not in "[{":
        return line
    value = ast.literal_eval(match.group(2))
    return f"{match.group(1)}{json.dumps(value, sort_keys=True)}{match.group(3)}"


def compile_pipeline(
    output: Path,
    placement: Placement | None = None,
    checkpoint: bool = True,
    sweep_parallelism: int | None = None,
    workspace: Workspace | None = None,
    listed: list | None = None,
    halving: Halving | None = None,
) -> None:
    """Write the pipeline, or with `sweep_parallelism` the sweep running that many trials at
    once (with `listed`, those trials as its default, checked first; with `halving`, successive
    halving), to `output`."""
    check_image(IMAGE, "ALEXNET_KFP_IMAGE")  # what every component's pod will pull
    defaults = None
    if sweep_parallelism is None:
        pipeline = build_pipeline(placement, checkpoint, workspace=workspace)
    else:
        pipeline = build_sweep(placement, sweep_parallelism, checkpoint, True, workspace, halving)
        if listed is not None:
            own = parameters_for((placement or Placement()).check(), sweep=True)
            plan_trials(listed, step_arguments("train", {p.name: p.default for p in own}), halving)
            defaults = {p.name: listed for p in SWEEP_PARAMETERS}
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "pipeline.yaml"
        compiler.Compiler().compile(pipeline, str(raw), pipeline_parameters=defaults)
        lines = raw.read_text().split("\n")
    write_atomically(output, "\n".join(_stable_comment(line) for line in lines))

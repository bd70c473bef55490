"""The parameter table (pipeline/parameters.py) is the one declaration of every pipeline parameter:
the compiled pipelines, the components' signatures, the CLI and the docs all agree with it."""

import ast
import inspect
import re
import textwrap

import pytest
from kfp.dsl import base_component

from alexnet_kfp.components.data import data_op
from alexnet_kfp.components.deploy import deploy_op
from alexnet_kfp.components.evaluate import evaluate_op
from alexnet_kfp.components.sweep import plan_op
from alexnet_kfp.components.train import train_op
from alexnet_kfp.components.verify import verify_op
from alexnet_kfp.pipeline.parameter_docs import markdown
from alexnet_kfp.pipeline.parameters import (
    ALL_PARAMETERS,
    PARAMETERS,
    PLACEMENT_PARAMETERS,
    STEPS,
    parameters_for,
)
from alexnet_kfp.pipeline.pipeline import build_pipeline
from alexnet_kfp.pipeline.placement import Placement

from .cli import run_cli
from .real_data import REPO

pytestmark = pytest.mark.unit

_KFP_TYPES = {
    str: "String",
    int: "Integer",
    float: "Float",
    bool: "Boolean",
    dict: "Dict",
    list: "List",
}
# What a component takes beside the table's parameters: set by the pipeline itself.
_NOT_PARAMETERS = {"train": {"checkpoint_dir"}}
COMPONENTS = {
    "data": data_op,
    "train": train_op,
    "evaluate": evaluate_op,
    "verify": verify_op,
    "deploy": deploy_op,
}


def _plain_inputs(component: base_component.BaseComponent) -> dict[str, str]:
    """{argument: KFP type} of a component's parameter inputs (its artifacts left out)."""
    inputs = component.component_spec.inputs or {}
    return {name: spec.type for name, spec in inputs.items() if spec.type in _KFP_TYPES.values()}


def test_the_sweeps_plan_step_takes_the_training_parameters_and_the_trials():
    # it completes each trial over the run's own training parameters: the train step's, all; and
    # checks them against the halving the sweep was compiled with (constants, not parameters)
    wanted = {"train", "sweep"}
    declared = {
        p.argument: _KFP_TYPES[p.type] for p in ALL_PARAMETERS.values() if wanted & set(p.steps)
    }
    halving = {"halving_eta": "Integer", "halving_rungs": "Integer"}
    assert _plain_inputs(plan_op) == declared | halving and "trials" in declared


@pytest.mark.parametrize("step", sorted(COMPONENTS))
def test_each_components_signature_is_the_tables(step):
    declared = {p.argument: _KFP_TYPES[p.type] for p in PARAMETERS if step in p.steps}
    own = dict.fromkeys(_NOT_PARAMETERS.get(step, ()), "String")
    assert _plain_inputs(COMPONENTS[step]) == declared | own


# The configuration each step builds from its component's arguments, or the sweep's plan step's
# dict of the training parameters (each trial's defaults).
_BUILT = {
    "data": (data_op, "DataConfig"),
    "train": (train_op, "TrainConfig"),
    "evaluate": (evaluate_op, "GateConfig"),
    "verify": (verify_op, "VerifyConfig"),
}


def _passed_on(component: base_component.BaseComponent, built: str) -> set[str]:
    """The names the component's source passes on by name: `built(name=name, ...)`, or the keys
    of a dict literal `{"name": name, ...}` when `built` is "dict"."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(component.python_func)))
    names: set[str] = set()
    for node in ast.walk(tree):
        if built == "dict" and isinstance(node, ast.Dict):
            names |= {
                k.value
                for k, v in zip(node.keys, node.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(v, ast.Name) and v.id == k.value
            }
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == built:
            names |= {
                k.arg
                for k in node.keywords
                if isinstance(k.value, ast.Name) and k.value.id == k.arg
            }
    return names


@pytest.mark.parametrize("step", sorted(_BUILT))
def test_each_knob_goes_from_its_component_to_its_step_by_name(step):
    # no dict(locals()): a knob can be followed from the component's signature to the step's code
    component, built = _BUILT[step]
    declared = {p.argument for p in PARAMETERS if step in p.steps}
    assert _passed_on(component, built) == declared
    if step == "train":  # the sweep's plan step completes each trial with the same knobs
        assert _passed_on(plan_op, "dict") == declared


@pytest.mark.parametrize(
    "placement",
    [Placement(), Placement(runtime=True), Placement(gpu_count=0)],
    ids=["literal", "runtime", "cpu-only"],
)
def test_the_pipelines_inputs_are_the_tables(placement):
    pipeline = build_pipeline(placement)
    table = parameters_for(placement)
    inputs = pipeline.component_spec.inputs
    assert list(inputs) == [p.name for p in table]
    for p in table:
        spec = inputs[p.name]
        assert (spec.type, spec.default, spec.description) == (
            _KFP_TYPES[p.type],
            p.default,
            p.described,
        ), p.name
    assert inputs["require_gpu"].default is placement.uses_gpu


def test_every_parameter_is_taken_by_a_step_and_described_once():
    for p in ALL_PARAMETERS.values():
        assert p.steps and p.help and "\n" not in p.help, p.name
        assert p.default == p.type(p.default) if p.type in (int, float, str) else True, p.name


def _step_names(tree: ast.AST) -> set[int]:
    """The string nodes that name a step: a tuple or dict keys of step names (STEPS, a
    parameter's steps, the checks by step), or step_inputs' and step_values' first argument."""
    found = set()
    for node in ast.walk(tree):
        group = (
            node.elts
            if isinstance(node, ast.Tuple)
            else [k for k in node.keys if k]
            if isinstance(node, ast.Dict)
            else node.args[:1]
            if isinstance(node, ast.Call) and getattr(node.func, "id", "").startswith("step_")
            else []
        )
        if group and all(isinstance(e, ast.Constant) and e.value in STEPS for e in group):
            found.update(id(e) for e in group)
    return found


def _references(source: str, name: str) -> int:
    """How often code names `name`: as a variable, a function's parameter, a keyword argument or a
    string of exactly that name (values["seed"]). Prose (comments, docstrings, messages), other
    objects' attributes (Placement.gpu_count, the compile flag's) and step names (the "deploy"
    step, beside the "deploy" switch) are not the parameter's plumbing."""
    tree = ast.parse(source)
    steps = _step_names(tree)
    count = 0
    for node in ast.walk(tree):
        named = (
            (isinstance(node, ast.Name) and node.id)
            or (isinstance(node, ast.arg) and node.arg)
            or (isinstance(node, ast.keyword) and node.arg)
            or (isinstance(node, ast.Constant) and id(node) not in steps and node.value)
        )
        count += named == name
    return count


def test_each_name_appears_at_most_three_times_in_pipeline():
    sources = [path.read_text() for path in sorted((REPO / "pipeline").glob("*.py"))]
    for name in ALL_PARAMETERS:
        uses = sum(_references(source, name) for source in sources)
        assert 1 <= uses <= 3, f"{name} is named {uses} times in pipeline/*.py"


def test_the_parameter_docs_are_the_table():
    assert (REPO / "docs" / "parameters.md").read_text() == markdown(), (
        "docs/parameters.md is stale: run `make compile` and commit it"
    )


def test_run_and_submit_help_list_every_parameter():
    run_help = run_cli("run", "--help").stdout
    submit_help = run_cli("submit", "--help").stdout
    for p in PARAMETERS:
        assert f"--{p.name.replace('_', '-')}" in run_help, p.name
    for p in PARAMETERS + PLACEMENT_PARAMETERS:
        assert re.search(rf"^  {p.name} \(", submit_help, re.MULTILINE), p.name


@pytest.mark.parametrize(
    "flags, named",
    [
        (["--learning-rate", "nan"], "learning_rate"),
        (["--param", "learning_rate=-1"], "learning_rate"),
        (["--val-fraction", "1.5"], "val_fraction"),
        (["--parity-atol", "0"], "atol"),
        (["--deploy-name", "Not_A_Name"], "deploy_name"),
        (["--sha256", "00", "--md5", "11"], "sha256 or md5"),
        (["--variant", "resnet"], "--variant"),
        (["--epochs", "three"], "--epochs"),
    ],
)
def test_a_bad_run_flag_is_one_line_before_anything_starts(tmp_path, flags, named):
    result = run_cli("run", "--runs", tmp_path / "runs", *flags)
    assert result.returncode == 2
    assert named in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "runs").exists()

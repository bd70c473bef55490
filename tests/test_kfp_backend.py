"""Every compiled variant of the pipeline and the sweep held against the model of a real KFP
backend (kfp_backend/: the Go source's rules, each with file, tag and lines), on every backend
release the docs name; and each rule shown to fail on a YAML broken the way it guards against,
so that none passes vacuously."""

import copy
import json
from pathlib import Path

import pytest
import yaml

from alexnet_kfp.pipeline.arguments import declared_parameters, parse_parameters
from alexnet_kfp.pipeline.compile import compile_pipeline
from alexnet_kfp.pipeline.parameters import step_arguments
from alexnet_kfp.pipeline.pipeline import TRAIN_RETRIES
from alexnet_kfp.pipeline.placement import Placement
from alexnet_kfp.pipeline.workspace import Workspace
from alexnet_kfp.records import TRAINED, TrialRecord
from alexnet_kfp.train.checkpoint import unwritable
from alexnet_kfp.train.halving import Halving, planned_of
from alexnet_kfp.train.trials import MAX_TRIALS, plan_trials

from .kfp_backend import (
    BACKENDS,
    ERROR,
    MAX_ARG_STRLEN,
    WORKSPACE_PLACEHOLDER,
    at_least,
    attempts_when_lost,
    collecting_tasks,
    constant_in_pod,
    executor_input_bytes,
    find_task,
    loop_parallelism,
    loop_sources,
    problems,
    run_argument_problems,
    type_mismatches,
    unresolved,
    workspace_sharing,
    workspace_size,
)
from .kfp_backend.spec import dags
from .kfp_backend.types import kind
from .real_data import REPO

pytestmark = pytest.mark.unit

# The slowest node the compiled pipelines are meant for: the `cifar` network on two CPU cores takes
# about 9.4 minutes an epoch (`make run`: 8 epochs in about 75 minutes); a GPU node takes seconds
# (docs/training.md). A retried attempt must be allowed at least the default epochs at that pace.
SLOWEST_EPOCH_S = 600
# The inputs whose placeholders a backend may pass on as written, and the step copes: the train and
# trial steps train without a checkpoint (2.14.x: checkpoint.unwritable), register records no run
# id (before 2.5.0: registry.registration_tags).
HANDLED = {
    "checkpoint_dir": WORKSPACE_PLACEHOLDER,
    "workspace": WORKSPACE_PLACEHOLDER,
    "kfp_run_id": "{{$.pipeline_job_uuid}}",
}
NO_CHECKPOINT = {"checkpoint": False}
CPU_ONLY = Placement(gpu_count=0, node_selector={}, tolerations=())
VARIANTS = {
    "pipeline.yaml": {},
    "pipeline --no-checkpoint": NO_CHECKPOINT,
    "pipeline --runtime-placement": {"placement": Placement(runtime=True)},
    "pipeline --gpu-count 0": {
        "placement": Placement(gpu_count=0, node_selector={}, tolerations=())
    },
    "pipeline --workspace-access-mode ReadWriteMany": {
        "workspace": Workspace("ReadWriteMany", "nfs")
    },
    "pipeline --workspace-access-mode server": {"workspace": Workspace("server")},
    "sweep.yaml": {"sweep_parallelism": 4},
    "sweep --no-checkpoint": {"sweep_parallelism": 4, **NO_CHECKPOINT},
    "sweep --runtime-placement": {"sweep_parallelism": 4, "placement": Placement(runtime=True)},
    "sweep --parallelism 1": {"sweep_parallelism": 1},
    "sweep --workspace-access-mode ReadWriteMany": {
        "sweep_parallelism": 8,
        "workspace": Workspace("ReadWriteMany"),
    },
    "sweep --halving 3 --rungs 3": {"sweep_parallelism": 4, "halving": Halving(3, 3)},
}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> dict[str, list[dict]]:
    """Every variant, compiled as `alexnet-kfp compile` does (the committed two are read as
    committed: test_pipeline_spec and test_sweep_spec hold them to what compile writes)."""
    out = tmp_path_factory.mktemp("variants")
    documents = {}
    for name, options in VARIANTS.items():
        path = REPO / name if name.endswith(".yaml") else out / f"{len(documents)}.yaml"
        if not name.endswith(".yaml"):
            compile_pipeline(path, **options)
        documents[name] = list(yaml.safe_load_all(path.read_text()))
    return documents


def _training_task(documents: list[dict]) -> str:
    return "trial-op" if "comp-trial-op" in documents[0]["components"] else "train-op"


def _default(documents: list[dict], name: str) -> object:
    return documents[0]["root"]["inputDefinitions"]["parameters"][name]["defaultValue"]


def _attempt_s(documents: list[dict]) -> dict[str, float]:
    """How long one attempt of each training task (a halving sweep's rungs: one each) takes on the
    slowest node, at the default epochs (a rung's share at most)."""
    first = _training_task(documents)
    return {
        name: _default(documents, "epochs") * SLOWEST_EPOCH_S
        for component in dags(documents[0]).values()
        for name in component["dag"]["tasks"]
        if name == first or name.startswith(f"{first}-")
    }


def _item_kinds(documents: list[dict]) -> dict[str, str]:
    """The kinds the sweep's plan step really returns: its default trials planned by its code."""
    if "trials" not in documents[0]["root"]["inputDefinitions"]["parameters"]:
        return {}
    defaults = {
        n: p.get("defaultValue")
        for n, p in documents[0]["root"]["inputDefinitions"]["parameters"].items()
    }
    planned = plan_trials(_default(documents, "trials"), step_arguments("train", defaults))
    # a keep step passes on the plan's own trials (halving.planned_of of their records)
    kept = [
        planned_of(TrialRecord(**trial, status=TRAINED, reason="", attempts=1)) for trial in planned
    ]
    kinds = {kind(trial) for trial in [*planned, *kept]}
    items = [
        body["parameterIterator"]["itemInput"]
        for body in documents[0]["root"]["dag"]["tasks"].values()
        if "parameterIterator" in body
    ]
    assert len(kinds) == 1, kinds
    (item_kind,) = kinds
    return dict.fromkeys(items, item_kind)


def _expected(variant: str, documents: list[dict], backend: str) -> set[str]:
    """What `backend` does not do of `variant`, as docs/kubeflow.md's and docs/sweep.md's tables
    say (words each problem holds; empty: it runs it as compiled)."""
    config = documents[1].get("platforms", {}).get("kubernetes", {}) if len(documents) > 1 else {}
    if "workspace" in config.get("pipelineConfig", {}) and not at_least(backend, "2.14.0"):
        return {"unknown field pipelineConfig.workspace"}  # refused at upload, nothing else
    expected = set()
    if variant.startswith("sweep") and not at_least(backend, "2.14.0"):
        expected.add("the driver cannot collect a loop's outputs")
    if variant.startswith("sweep") and not at_least(backend, "2.4.1"):
        expected.add("dropped: its parallelism")
    if not at_least(backend, "2.5.0"):
        expected.add("dropped: its retry policy")
    if "--runtime-placement" in variant and not at_least(backend, "2.4.1"):
        expected.add("placement: backend")  # the JSON fields fail the task
    elif "--runtime-placement" in variant and not at_least(backend, "2.5.0"):
        expected.add("placement: dropped")  # read, and ignored
    if variant.endswith("server"):  # for an API server whose workspace config names a mode
        expected.add("workspace:")
    return expected


def _check(documents: list[dict], backend: str, **given) -> list[str]:
    options = {
        "attempt_s": _attempt_s(documents),
        "handled": HANDLED,
        "item_kinds": _item_kinds(documents),
        **given,
    }
    return problems(documents, backend, **options)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_backend_runs_every_variant_the_docs_say_it_runs(compiled, variant):
    documents = compiled[variant]
    for backend in BACKENDS:
        found, expected = _check(documents, backend), _expected(variant, documents, backend)
        for words in expected:
            assert any(words in problem for problem in found), (backend, words, found)
        for problem in found:
            assert any(words in problem for words in expected), (backend, problem)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_argument_submit_sends_is_one_the_api_server_takes(compiled, variant, tmp_path):
    # apiserver/template/v2_template.go validatePipelineJobInputs (2.17.0:442-530): each argument
    # of its declared type, a STRING a string; submit types them from the compiled YAML
    documents = compiled[variant]
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump_all(documents))
    declared = declared_parameters(path)
    pairs = [f"{name}={_on_the_command_line(default)}" for name, (_, default) in declared.items()]
    arguments = parse_parameters(pairs, declared)
    assert arguments and run_argument_problems(documents, arguments) == []
    assert run_argument_problems(documents, {"epochs": "5"}) == [
        "input parameter epochs requires type NUMBER_INTEGER"
    ]


def _on_the_command_line(value: object) -> str:
    """A default as a user types it (YAML holds an integer's default as 100.0)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value) if isinstance(value, list | dict) else str(value)


def test_a_trial_reaches_its_task_as_the_struct_it_declares(compiled):
    # resolve.go 2.17.0:290-298 then :202-253: the item is converted to its declared type first
    sweep = compiled["sweep.yaml"]
    (item,) = _item_kinds(sweep).items()
    assert item == ("pipelinechannel--plan-op-Output-loop-item", "struct")
    loop = sweep[0]["components"]["comp-for-loop-1"]
    assert loop["inputDefinitions"]["parameters"][item[0]]["parameterType"] == "STRUCT"
    broken = copy.deepcopy(sweep)  # the sweep as compiled with `plan_op(...) -> list`
    broken[0]["components"]["comp-for-loop-1"]["inputDefinitions"]["parameters"][item[0]][
        "parameterType"
    ] = "STRING"
    assert type_mismatches(broken, dict([item])) == [
        "comp-for-loop-1/trial-op: input parameter 'trial' type mismatch: expect STRUCT, got string"
    ]
    # a plan that returned text while the loop declares a STRUCT fails in the iteration's driver
    assert type_mismatches(sweep, {item[0]: "string"}) == [
        f"comp-for-loop-1: input parameter '{item[0]}' type mismatch: expect STRUCT, got string"
    ]


def test_a_halving_sweep_chains_its_rungs_through_its_keep_steps(compiled):
    # each rung's loop iterates the list of the step before it and waits for it (loops.py:
    # driver/dag.go 2.17.0:173-196, argocompiler/dag.go 2.17.0:396); each keep step and the select
    # step collect one loop (driver/resolve.go CollectInputs, 2.14.0+)
    sweep = compiled["sweep --halving 3 --rungs 3"]
    assert loop_sources(sweep) == {
        "root/for-loop-1": "root/plan-op",
        "root/for-loop-2": "root/keep-op",
        "root/for-loop-3": "root/keep-op-2",
    }
    assert sorted(collecting_tasks(sweep)) == ["root/keep-op", "root/keep-op-2", "root/select-op"]
    # every rung holds at most `parallelism` GPUs (argocompiler/dag.go iteratorTask, 2.4.1+)
    for loop in ("for-loop-1", "for-loop-2", "for-loop-3"):
        assert loop_parallelism(sweep, loop, "2.17.0") == 4
    select = find_task(sweep[0], "select-op")[1]["inputs"]
    # the trials stopped so far: a file from step to step, never a growing parameter
    assert select["artifacts"]["stopped"]["taskOutputArtifact"]["producerTask"] == "keep-op-2"
    assert select["artifacts"]["models"]["taskOutputArtifact"]["producerTask"] == "for-loop-3"
    # every rung's trial and every keep step name the same folder of the workspace, which the
    # driver mounts in each of their pods (driver.go needsWorkspaceMount, 2.17.0:521): a trial
    # finds its checkpoint from the rung before, a keep step removes a stopped trial's
    folders = {
        constant_in_pod(sweep, task, "workspace", "2.17.0")
        for task in ("trial-op", "trial-op-2", "trial-op-3", "keep-op", "keep-op-2")
    }
    assert folders == {"/kfp-workspace/sweep"}
    assert workspace_size(sweep, "2.17.0") == "22Gi"  # 4 trials running, 27 waiting
    broken = copy.deepcopy(sweep)  # a loop that does not wait for the keep step
    find_task(broken[0], "for-loop-2")[1]["dependentTasks"].remove("keep-op")
    assert _check(broken, "2.17.0") == [
        "root/for-loop-2: its items come from root/keep-op, which it does not wait for"
    ]


# A pipeline root longer than most: an S3 bucket of 40 characters and a prefix.
LONG_ROOT = "s3://" + "b" * 40 + "/kubeflow-pipelines/v2/artifacts"


@pytest.mark.parametrize("variant", ["sweep.yaml", "sweep --halving 3 --rungs 3"])
def test_the_largest_sweep_fits_the_command_line_of_the_step_that_collects_it(compiled, variant):
    # driver.go 2.17.0:307-326 passes a step's executor input as one argument (command_line.py)
    sweep = compiled[variant]
    trial = {"display_name": "model", "trial": MAX_TRIALS - 1, "status": "trained"}
    collecting = [task.rsplit("/", 1)[1] for task in collecting_tasks(sweep)]
    assert "select-op" in collecting
    for task in collecting:
        size = executor_input_bytes(sweep, task, MAX_TRIALS, LONG_ROOT, trial)
        assert size < 0.8 * MAX_ARG_STRLEN, (task, size)
    # the limit this sweep had, 1,000 trials, would fail the select step's pod before it ran
    assert executor_input_bytes(sweep, "select-op", 1000, LONG_ROOT, trial) > MAX_ARG_STRLEN


def test_the_gate_compares_a_boolean_with_a_boolean(compiled):
    # expression.go Condition (2.17.0:134): 'true' == true is false in CEL, the branch never runs
    documents = copy.deepcopy(compiled["pipeline.yaml"])
    (gate,) = [
        task["componentRef"]["name"]
        for component in documents[0]["components"].values()
        for task in component.get("dag", {}).get("tasks", {}).values()
        if task["taskInfo"]["name"] == "gate-passed"
    ]
    condition = documents[0]["components"][gate]["inputDefinitions"]["parameters"]
    condition["pipelinechannel--evaluate-op-passed"]["parameterType"] = "STRING"
    found = type_mismatches(documents)
    assert any(
        "condition compares 'pipelinechannel--evaluate-op-passed' (string)" in p for p in found
    )


@pytest.mark.parametrize("variant", ["pipeline.yaml", "sweep.yaml"])
def test_every_attempt_of_a_lost_training_starts_and_may_finish(compiled, variant):
    # argocompiler/container.go 2.17.0:640-646; Argo operator.go processNodeRetries v3.6.7:996-1048
    documents = compiled[variant]
    task = _training_task(documents)
    seconds = _attempt_s(documents)[task]
    attempts = attempts_when_lost(documents, task, "2.17.0", seconds)
    expected = TRAIN_RETRIES + (2 if task == "trial-op" else 1)  # the trial's last reports it lost
    assert len(attempts.starts) == expected and attempts.cut_short(seconds) == []
    assert attempts.stopped == "retry limit reached"
    broken = copy.deepcopy(documents)  # the window these YAMLs had: ten minutes
    find_task(broken[0], task)[1]["retryPolicy"]["backoffMaxDuration"] = "600s"
    assert len(attempts_when_lost(broken, task, "2.17.0", seconds).starts) == 1
    short = attempts_when_lost(broken, task, "2.17.0", 500)  # a retry starts, and is killed
    assert (len(short.starts), short.cut_short(500)) == (2, [2])
    assert _check(broken, "2.17.0") == [
        f"{task}: 1 of {expected} attempts start (Max duration limit exceeded), attempts [] "
        "cut short"
    ]


def test_a_pod_deleted_by_a_drain_is_retried_only_where_the_operator_says_so(compiled):
    # no retryPolicy in KFP's template (container.go 2.17.0:583): Argo's OnFailure
    # (workflow_types.go v3.6.7:2077) leaves a node in Error ("pod deleted", operator.go:1242)
    documents = compiled["pipeline.yaml"]
    drained = attempts_when_lost(documents, "train-op", "2.17.0", 3600, phase=ERROR)
    assert len(drained.starts) == 1
    assert drained.stopped == "Node not set to be retried after status: Error"
    operator = attempts_when_lost(
        documents, "train-op", "2.17.0", 3600, phase=ERROR, operator_retry_policy="Always"
    )
    assert len(operator.starts) == TRAIN_RETRIES + 1


def test_a_stock_install_makes_the_workspace_and_its_sharing_is_said(compiled):
    # argo.go GetWorkspacePVC (2.15.0:548, 2.17.0:663); Kubernetes refuses it on 2.14.x
    for variant in ("pipeline.yaml", "sweep.yaml"):
        assert _check(compiled[variant], "2.17.0", server_default=None) == []
        broken = copy.deepcopy(compiled[variant])
        broken[1]["platforms"]["kubernetes"]["pipelineConfig"]["workspace"]["kubernetes"] = {
            "pvcSpecPatch": {}
        }
        for backend, said in (("2.14.4", "at least 1 access mode"), ("2.17.0", "must specify")):
            assert any(said in p for p in _check(broken, backend)), backend
        assert _check(broken, "2.17.0", server_default={"accessModes": ["ReadWriteOnce"]}) == []
    assert workspace_sharing(compiled["sweep.yaml"], "2.17.0", None) == "one node"
    assert workspace_sharing(compiled["sweep.yaml"], "2.14.4", None) == "none mounted"
    shared = compiled["sweep --workspace-access-mode ReadWriteMany"]
    assert workspace_sharing(shared, "2.17.0", None) == "many nodes"


def test_a_placeholder_a_backend_leaves_is_one_its_step_copes_with(compiled):
    # resolve.go 2.17.0:430-440 (workspace from 2.15.0, run id from 2.5.0; driver.go 2.5.0:1648)
    committed = compiled["pipeline.yaml"]
    assert unresolved(committed, "2.17.0") == {}
    assert unresolved(committed, "2.14.4") == {
        "root/train-op/checkpoint_dir": WORKSPACE_PLACEHOLDER
    }
    portable = compiled["pipeline --no-checkpoint"]
    (where, placeholder), *more = unresolved(portable, "2.4.1").items()
    assert where.endswith("/register-op/kfp_run_id") and not more
    assert placeholder == "{{$.pipeline_job_uuid}}"
    said = unwritable(Path(constant_in_2_14(committed)))
    assert said and "did not resolve {{$.workspace_path}}" in said
    broken = copy.deepcopy(committed)  # a placeholder no backend resolves
    find_task(broken[0], "train-op")[1]["inputs"]["parameters"]["checkpoint_dir"] = {
        "runtimeValue": {"constant": "{{$.pipeline_task_name}}"}
    }
    assert _check(broken, "2.17.0") == [
        "root/train-op/checkpoint_dir: {{$.pipeline_task_name}} reaches the container as written"
    ]


def constant_in_2_14(documents: list[dict]) -> str:
    return find_task(documents[0], "train-op")[1]["inputs"]["parameters"]["checkpoint_dir"][
        "runtimeValue"
    ]["constant"]

"""The sweep: data once -> plan -> ParallelFor(trial on its own GPU node) -> select -> the
pipeline's own evaluate and gate, export, verify [-> deploy], on the chosen trial only.

    plan: the `trials` list checked and completed over the run's training parameters
    trial: trains on the train and validation splits; a failure is its result (trial.py)
    select: the best validation accuracy (a tie: the trial listed first), and the table of all

With successive halving (`halving`, train/halving.py) the loop is unrolled into one per rung:
plan -> ParallelFor(trial, rung 1) -> keep -> ParallelFor(trial, rung 2 over keep's list) -> ...
-> select; each keep passes the best 1/ETA on and the trials it stopped, and each
surviving trial goes on from its checkpoint in the workspace. The trials stopped so far pass
from step to step as a file (an artifact), which no trial count can make too long for a command
line; the plan step starts it empty.

The test split is read by the evaluate step alone, on the chosen model. `parallelism` caps the
trials that run (and the GPUs they hold) at once; KFP writes it into the spec as the loop's
`parallelismLimit`, a number fixed when the pipeline is compiled (kfp.dsl.ParallelFor takes an int).
Each trial checkpoints in its own folder of the run's workspace, where its attempts are counted
too, with the main pipeline's retries and one more that reports the trial lost (trial.py).
"""

from kfp import dsl
from kfp.dsl.graph_component import GraphComponent

from alexnet_kfp.components.sweep import keep_op, plan_op, select_op, trial_op
from alexnet_kfp.pipeline.parameters import (
    DEFAULT_PARALLELISM,
    check_parallelism,
    parameters_for,
    step_inputs,
)
from alexnet_kfp.pipeline.pipeline import (
    PIPELINE_NAME,
    TRAIN_RETRIES,
    WORKSPACE_SIZE,
    data_step,
    judge_and_ship,
    pipeline_function,
    placer,
    prepare_training,
)
from alexnet_kfp.pipeline.placement import Placement
from alexnet_kfp.pipeline.workspace import Workspace
from alexnet_kfp.train.halving import Halving

SWEEP_NAME = f"{PIPELINE_NAME}-sweep"
DESCRIPTION = (
    "AlexNet on CIFAR-10, many trainings: trials fanned out over GPU nodes, the best by "
    "validation accuracy evaluated, gated, exported to ONNX and verified."
)
SUMMARY = (
    "Train one AlexNet per trial, keep the best by validation accuracy, gate it on test accuracy, "
    "export it to ONNX and verify it."
)
# Each trial's folder in the run's workspace: its checkpoint and its attempts.
TRIALS_DIR = f"{dsl.WORKSPACE_PATH_PLACEHOLDER}/sweep"
# A halving sweep's trials wait between rungs with their checkpoints in the workspace (the article
# network's state and best weights, ~410 MB): room for this many. Past it a trial's checkpoint is
# not written, and the next rung trains it again from its last saved epoch: slower, the same model.
HALVING_ROOM_TRIALS, PAUSED_TRIAL_MIB = 27, 512


def build_sweep(
    placement: Placement | None = None,
    parallelism: int = DEFAULT_PARALLELISM,
    checkpoint: bool = True,
    retries: bool = True,
    workspace: Workspace | None = None,
    halving: Halving | None = None,
) -> GraphComponent:
    """The sweep pipeline for `placement` (default: one NVIDIA GPU per trial), running at most
    `parallelism` trials at once; with `checkpoint`, each trial keeps its checkpoint and counts its
    attempts in the run's workspace (`workspace`: its volume's settings); with `retries`, lost
    trial pods are retried; with `halving`, successive halving over its rungs."""
    placement = (placement or Placement()).check()
    check_parallelism(parallelism)
    trials_dir = TRIALS_DIR if checkpoint else ""
    volume = (workspace or Workspace()).check()
    # the steps' constants: halving_eta 0 is a sweep without halving
    eta, rungs = (halving.eta, halving.rungs) if halving else (0, 1)
    rule = {"halving_eta": eta, "halving_rungs": rungs if halving else 0}

    def rung_of_trials(values: dict, data: dsl.PipelineTask, listed: object, rung: int) -> object:
        with dsl.ParallelFor(listed, parallelism=parallelism) as trial:
            trained = trial_op(
                dataset=data.outputs["dataset"],
                trial=trial,
                workspace=trials_dir,
                training_attempts=TRAIN_RETRIES + 1,
                rung=rung,
                **rule,
            )
            shown = "trial (GPU)" if placement.uses_gpu else "trial"
            rung_name = f", rung {rung + 1} of {rungs}" if halving else ""
            trained.set_display_name(shown + rung_name)
            # with the workspace, one attempt more: the one that reports the trial lost
            attempts = TRAIN_RETRIES + (2 if trials_dir else 1)
            prepare_training(trained, values, placer(placement), retries, attempts)
        return dsl.Collected(trained.outputs["model"])

    def dag(values: dict) -> object:
        data = data_step(values, retries)
        plan = plan_op(**step_inputs("sweep", values), **step_inputs("train", values), **rule)
        plan.set_display_name("plan the trials").set_caching_options(False)
        listed, stopped = plan.outputs["Output"], plan.outputs["stopped"]
        for rung in range(rungs):
            models = rung_of_trials(values, data, listed, rung)
            if rung < rungs - 1:
                kept = keep_op(
                    models=models, stopped_before=stopped, rung=rung, workspace=trials_dir, **rule
                )
                kept.set_display_name(f"keep the best after rung {rung + 1}")
                kept.set_caching_options(False)
                listed, stopped = kept.outputs["Output"], kept.outputs["stopped"]
        chosen = select_op(models=models, stopped=stopped, **rule)
        chosen.set_display_name("select the best trial").set_caching_options(False)
        return judge_and_ship(values, data, chosen.outputs["model"])

    name = "alexnet_sweep" + ("_runtime_placement" if placement.runtime else "")
    pipeline_func = pipeline_function(name, SUMMARY, parameters_for(placement, sweep=True), dag)
    config = dsl.PipelineConfig(workspace=volume.config(workspace_size(parallelism, halving)))
    return dsl.pipeline(
        name=SWEEP_NAME,
        description=DESCRIPTION,
        pipeline_config=config if checkpoint else None,
    )(pipeline_func)


def workspace_size(parallelism: int, halving: Halving | None) -> str:
    """The workspace a sweep needs: a train task's for each trial that runs at once (trial.py
    removes a trial's checkpoint when it ends), and with halving, room for the trials that wait
    between rungs."""
    gib = parallelism * int(WORKSPACE_SIZE.removesuffix("Gi"))
    if halving:
        gib += -(-HALVING_ROOM_TRIALS * PAUSED_TRIAL_MIB // 1024)
    return f"{gib}Gi"


def local_sweep(halving: Halving | None = None) -> GraphComponent:
    """The sweep as `alexnet-kfp run --trials` runs it under kfp.local: one trial at a time (trials
    side by side on a CPU would only share its cores and memory) and no retries (a local run's
    failures are its input's)."""
    return build_sweep(parallelism=1, retries=False, halving=halving)

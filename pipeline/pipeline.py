"""The pipeline: data -> train (GPU node) -> evaluate -> gate -> export -> verify [-> register]
[-> deploy].

    with dsl.If(evaluate.passed == True): export -> verify, then with dsl.If(register_as != ""):
        register (MLflow's registry), and with dsl.If(deploy == True): deploy
    with dsl.Else(): reject (fails the run with the gate's reason)

The gate condition uses the evaluate step's `passed` (`accuracy >= min_accuracy` and, with a
baseline, `accuracy >= baseline - max_regression`): one decision, made and explained once.

Two pipelines, one per GPU placement mode (placement.py): `alexnet_pipeline` writes the train
task's placement as constants; `alexnet_pipeline_runtime_placement` adds four placement parameters
(backends from 2.5). Both are made from the parameter table (parameters.py): their signatures and
the `Args:` that become the parameter descriptions of the Kubeflow UI's run form; each task takes
its inputs from the table by step.

The train task is retried when its pod is lost and, by default, checkpoints every epoch into the
run's KFP workspace, a volume the retried pod mounts again, so it continues after its last
finished epoch. The workspace needs a KFP backend from 2.15.0 (earlier ones reject the pipeline:
docs/kubeflow.md); `checkpoint=False` compiles one that every backend from 2.2 runs, which
retries the train task from its first epoch.
"""

import inspect
from collections.abc import Callable

from kfp import dsl
from kfp.dsl.graph_component import GraphComponent

from alexnet_kfp.components.data import data_op
from alexnet_kfp.components.deploy import deploy_op
from alexnet_kfp.components.evaluate import evaluate_op, reject_op
from alexnet_kfp.components.export import export_op
from alexnet_kfp.components.register import register_op
from alexnet_kfp.components.train import train_op
from alexnet_kfp.components.verify import verify_op
from alexnet_kfp.pipeline.parameters import (
    Parameter,
    docstring,
    parameters_for,
    step_inputs,
)
from alexnet_kfp.pipeline.placement import (
    Placement,
    place_at_run_time,
    place_literally,
    set_train_resources,
)
from alexnet_kfp.pipeline.workspace import Workspace

PIPELINE_NAME = "alexnet-cifar10"
DESCRIPTION = (
    "AlexNet on CIFAR-10: data, GPU training, evaluation gate, ONNX export and "
    "Keras-vs-onnxruntime parity."
)
SUMMARY = "Train AlexNet on CIFAR-10, gate it on test accuracy, export it to ONNX and verify it."
_DEFAULT = Placement()
# The run's workspace holds the train task's checkpoint: the article network's weights and Adam's
# two moments (~310 MB) plus its best weights (~100 MB), twice while an epoch's files replace the
# last ones.
WORKSPACE_SIZE = "2Gi"
CHECKPOINT_DIR = f"{dsl.WORKSPACE_PATH_PLACEHOLDER}/train-checkpoint"
TRAIN_RETRIES = 3
# Argo counts a retry window (retryStrategy.backoff.maxDuration) from the first attempt's start:
# past it no attempt starts, and a retried pod is killed at its end. It must hold every attempt of
# the longest training expected; one attempt of the default (100 epochs) takes minutes on a GPU
# node and under 3 hours on a CPU node (docs/kubeflow.md).
ATTEMPT_HOURS = 24
RETRY_BACKOFF_S, RETRY_BACKOFF_FACTOR = 60, 2


def retry_window_s(attempts: int) -> int:
    """Seconds from a training task's first start in which all `attempts` can run to their end:
    each up to ATTEMPT_HOURS, with the backoffs between them."""
    backoffs = sum(RETRY_BACKOFF_S * RETRY_BACKOFF_FACTOR**i for i in range(attempts - 1))
    return attempts * ATTEMPT_HOURS * 3600 + backoffs


def build_pipeline(
    placement: Placement | None = None,
    checkpoint: bool = True,
    retries: bool = True,
    workspace: Workspace | None = None,
) -> GraphComponent:
    """The pipeline for `placement` (default: one NVIDIA GPU, as constants); with `checkpoint`,
    the train task keeps its checkpoint in the run's workspace (`workspace`: its volume's access
    mode and StorageClass, default the cluster's); with `retries`, the data and train tasks are
    retried (kfp.local honours them too, sleeping between attempts: a local run, whose failures
    are its input's, goes without)."""
    placement = (placement or _DEFAULT).check()

    def dag(values: dict) -> object:
        checkpoint_dir = CHECKPOINT_DIR if checkpoint else ""
        return _dag(values, placer(placement), placement.uses_gpu, checkpoint_dir, retries)

    name = "alexnet_pipeline" + ("_runtime_placement" if placement.runtime else "")
    pipeline_func = pipeline_function(name, SUMMARY, parameters_for(placement), dag)
    config = dsl.PipelineConfig(workspace=(workspace or Workspace()).check().config(WORKSPACE_SIZE))
    return dsl.pipeline(
        name=PIPELINE_NAME,
        description=DESCRIPTION,
        pipeline_config=config if checkpoint else None,
    )(pipeline_func)


def placer(placement: Placement) -> Callable[[dsl.PipelineTask, dict], None]:
    """What puts a training task on its node: `placement`'s constants, or in the run-time mode
    the pipeline's placement parameters."""

    def place(task: dsl.PipelineTask, values: dict) -> None:
        if placement.runtime:
            place_at_run_time(task, *step_inputs("placement", values).values())
        else:
            place_literally(task, placement)

    return place


def pipeline_function(
    name: str, summary: str, parameters: tuple[Parameter, ...], dag: Callable[[dict], object]
) -> Callable:
    """A function whose signature and `Args:` are the table's: KFP reads the pipeline's inputs,
    their types, defaults and descriptions from them, and calls it with one channel per input."""

    def pipeline_func(*channels):
        return dag(dict(zip([p.name for p in parameters], channels, strict=True)))

    pipeline_func.__name__ = pipeline_func.__qualname__ = name
    pipeline_func.__doc__ = docstring(summary, parameters)
    pipeline_func.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                p.name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=p.default,
                annotation=p.type,
            )
            for p in parameters
        ],
        return_annotation=float,
    )
    return pipeline_func


def _dag(
    values: dict,
    place_train: Callable[[dsl.PipelineTask, dict], None],
    uses_gpu: bool,
    checkpoint_dir: str,
    retries: bool,
):
    data = data_step(values, retries)
    train = train_op(
        dataset=data.outputs["dataset"],
        checkpoint_dir=checkpoint_dir,
        **step_inputs("train", values),
    )
    train.set_display_name("train AlexNet (GPU)" if uses_gpu else "train AlexNet")
    prepare_training(train, values, place_train, retries)
    return judge_and_ship(values, data, train.outputs["model"])


def data_step(values: dict, retries: bool) -> dsl.PipelineTask:
    """The data task, retried (a download that failed half-way) when `retries`."""
    data = data_op(**step_inputs("data", values))
    data.set_display_name("data: fetch, verify, split")
    if retries:
        data.set_retry(num_retries=3, backoff_duration="30s", backoff_factor=2)
    return data


def prepare_training(
    task: dsl.PipelineTask,
    values: dict,
    place: Callable[[dsl.PipelineTask, dict], None],
    retries: bool,
    attempts: int = TRAIN_RETRIES + 1,
) -> None:
    """A training task's resources and GPU node, and with `retries`, `attempts` in all when its
    pod fails (a preempted GPU node, a pod killed for memory; with a checkpoint it goes on)."""
    if retries:
        task.set_retry(
            num_retries=attempts - 1,
            backoff_duration=f"{RETRY_BACKOFF_S}s",
            backoff_factor=RETRY_BACKOFF_FACTOR,
            backoff_max_duration=f"{retry_window_s(attempts)}s",
        )
    set_train_resources(task)
    place(task, values)


def judge_and_ship(values: dict, data: dsl.PipelineTask, model: object):
    """evaluate and gate `model` on the test split; if it passed, export, verify and (when asked)
    deploy it, else reject it. Returns the test accuracy."""
    evaluation = evaluate_op(
        dataset=data.outputs["dataset"],
        model=model,
        **step_inputs("evaluate", values),
    )
    evaluation.set_display_name("evaluate and gate").set_caching_options(False)

    with dsl.If(evaluation.outputs["passed"] == True, name="gate-passed"):  # noqa: E712 (a KFP condition)
        onnx = export_op(
            model=model,
            evaluation=evaluation.outputs["evaluation"],
            dataset=data.outputs["dataset"],
        )
        onnx.set_display_name("export ONNX").set_memory_request("4G").set_memory_limit("8G")
        verify = verify_op(
            dataset=data.outputs["dataset"],
            model=model,
            onnx_model=onnx.outputs["onnx_model"],
            evaluation=evaluation.outputs["evaluation"],
            **step_inputs("verify", values),
        )
        verify.set_display_name("verify ONNX parity").set_caching_options(False)
        with dsl.If(values["register_as"] != "", name="register-requested"):
            registered = register_op(
                onnx_model=onnx.outputs["onnx_model"],
                model_repository=onnx.outputs["model_repository"],
                evaluation=evaluation.outputs["evaluation"],
                parity_report=verify.outputs["parity_report"],
                dataset=data.outputs["dataset"],
                mlflow_model=onnx.outputs["Output"],
                kfp_run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
                **step_inputs("register", values),
            )
            registered.set_display_name("register in MLflow").set_caching_options(False)
        with dsl.If(values["deploy"] == True, name="deploy-requested"):  # noqa: E712 (a KFP condition)
            served = deploy_op(
                model_repository=onnx.outputs["model_repository"],
                **step_inputs("deploy", values),
            ).after(verify)
            served.set_display_name("deploy to KServe").set_caching_options(False)
    with dsl.Else(name="gate-failed"):
        reject = reject_op(reason=evaluation.outputs["reason"])
        reject.set_display_name("reject: gate failed").set_caching_options(False)
    return evaluation.outputs["accuracy"]


alexnet_pipeline = build_pipeline()

"""The pipeline: data -> train (GPU node) -> evaluate -> gate -> export -> verify [-> deploy].

    with dsl.If(evaluate.passed == True): export -> verify, and with dsl.If(deploy == True): deploy
    with dsl.Else(): reject (fails the run with the gate's reason)

The gate condition uses the evaluate step's `passed` (`accuracy >= min_accuracy` and, with a
baseline, `accuracy >= baseline - max_regression`): one decision, made and explained once.

Two pipelines, one per GPU placement mode (placement.py): `alexnet_pipeline` writes the train
task's placement as constants; `alexnet_pipeline_runtime_placement` adds four placement parameters
(backends from 2.5). Their docstrings' `Args:` become the parameter descriptions of the Kubeflow
UI's run form.

The train task is retried when its pod is lost and, by default, checkpoints every epoch into the
run's KFP workspace, a volume the retried pod mounts again, so it continues after its last
finished epoch. The workspace needs a KFP backend from 2.15.0 (earlier ones reject the pipeline:
docs/kubeflow.md); `checkpoint=False` compiles one that every backend from 2.2 runs, which
retries the train task from its first epoch.
"""

from collections.abc import Callable
from dataclasses import replace

from kfp import dsl
from kfp.dsl.graph_component import GraphComponent

from alexnet_kfp.components.data import data_op
from alexnet_kfp.components.deploy import deploy_op
from alexnet_kfp.components.evaluate import evaluate_op, reject_op
from alexnet_kfp.components.export import export_op
from alexnet_kfp.components.train import train_op
from alexnet_kfp.components.verify import verify_op
from alexnet_kfp.data.prepare import DEFAULT_SEED, DEFAULT_VAL_FRACTION, OFFICIAL_URL
from alexnet_kfp.deploy.manifests import DEFAULT_NAME as DEFAULT_SERVICE_NAME
from alexnet_kfp.evaluate.gate import DEFAULT_MAX_REGRESSION, DEFAULT_MIN_ACCURACY
from alexnet_kfp.export import DEFAULT_ATOL, DEFAULT_INT8_MAX_LOSS
from alexnet_kfp.pipeline.placement import (
    Placement,
    place_at_run_time,
    place_literally,
    set_train_resources,
)
from alexnet_kfp.pipeline.profiles import GPU_NODE
from alexnet_kfp.train.config import TrainConfig

PIPELINE_NAME = "alexnet-cifar10"
DESCRIPTION = (
    "AlexNet on CIFAR-10: data, GPU training, evaluation gate, ONNX export and "
    "Keras-vs-onnxruntime parity."
)
_TRAIN = replace(TrainConfig(), **GPU_NODE.values)
_DEFAULT = Placement()
# The run's workspace holds the train task's checkpoint: the article network's weights and Adam's
# two moments (~310 MB) plus its best weights (~100 MB), twice while an epoch's files replace the
# last ones.
WORKSPACE_SIZE = "2Gi"
CHECKPOINT_DIR = f"{dsl.WORKSPACE_PATH_PLACEHOLDER}/train-checkpoint"
TRAIN_RETRIES = 3


def build_pipeline(
    placement: Placement | None = None, checkpoint: bool = True, retries: bool = True
) -> GraphComponent:
    """The pipeline for `placement` (default: one NVIDIA GPU, as constants); with `checkpoint`,
    the train task keeps its checkpoint in the run's workspace; with `retries`, the data and train
    tasks are retried (kfp.local honours them too, sleeping between attempts: a local run, whose
    failures are its input's, goes without)."""
    placement = (placement or _DEFAULT).check()
    build = _with_runtime_placement if placement.runtime else _with_literal_placement
    pipeline_func = build(placement, CHECKPOINT_DIR if checkpoint else "", retries)
    config = dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(size=WORKSPACE_SIZE))
    return dsl.pipeline(
        name=PIPELINE_NAME,
        description=DESCRIPTION,
        pipeline_config=config if checkpoint else None,
    )(pipeline_func)


def _with_literal_placement(placement: Placement, checkpoint_dir: str, retries: bool) -> Callable:
    def alexnet_pipeline(
        source: str = OFFICIAL_URL,
        sha256: str = "",
        md5: str = "",
        val_fraction: float = DEFAULT_VAL_FRACTION,
        seed: int = DEFAULT_SEED,
        limit_per_class: int = 0,
        variant: str = _TRAIN.variant,
        epochs: int = _TRAIN.epochs,
        batch_size: int = _TRAIN.batch_size,
        learning_rate: float = _TRAIN.learning_rate,
        precision: str = _TRAIN.precision,
        crop_padding: int = _TRAIN.crop_padding,
        plateau_patience: int = _TRAIN.plateau_patience,
        final_decay_fraction: float = _TRAIN.final_decay_fraction,
        require_gpu: bool = placement.uses_gpu,
        min_accuracy: float = DEFAULT_MIN_ACCURACY,
        baseline: str = "",
        max_regression: float = DEFAULT_MAX_REGRESSION,
        parity_atol: float = DEFAULT_ATOL,
        int8_max_loss: float = DEFAULT_INT8_MAX_LOSS,
        deploy: bool = False,
        deploy_name: str = DEFAULT_SERVICE_NAME,
        deploy_namespace: str = "",
    ) -> float:
        """Train AlexNet on CIFAR-10, gate it on test accuracy, export it to ONNX and verify it.

        Args:
            source: The CIFAR-10 python archive: an https URL, or a path the data pod reads.
            sha256: The archive's expected SHA-256 (hex); empty: not checked.
            md5: The archive's expected MD5 (hex); the official URL's is always checked.
            val_fraction: Share of the 50,000 training images held out for validation.
            seed: Random seed of the split, initial weights, shuffling and augmentation.
            limit_per_class: At most this many training images per class (0: all).
            variant: cifar (AlexNet at 32x32, more accurate) or article (faster).
            epochs: Training epochs; the best epoch's weights are kept.
            batch_size: Images per training step.
            learning_rate: Adam's initial rate, decayed when validation accuracy stalls.
            precision: auto (mixed on GPUs and AMX CPUs), float32, mixed_float16, mixed_bfloat16.
            crop_padding: Shift training images at random by up to N pixels (0: off).
            plateau_patience: Epochs without a validation gain before the rate decays.
            final_decay_fraction: The last this share of the epochs trains at a decayed rate.
            require_gpu: Fail the train step at once when its pod sees no GPU.
            min_accuracy: The gate: the least test accuracy (a fraction) to export.
            baseline: A blessed model to compare with (metrics.json, .keras or .onnx).
            max_regression: With a baseline: how far test accuracy may fall below it.
            parity_atol: Largest probability difference allowed, Keras vs onnxruntime.
            int8_max_loss: Most test accuracy (a fraction) int8 may lose against float32.
            deploy: After verify, create or update a KServe InferenceService.
            deploy_name: The InferenceService's name.
            deploy_namespace: The InferenceService's namespace; empty: the run's own.
        """

        def place(train: dsl.PipelineTask) -> None:
            place_literally(train, placement)

        return _dag(
            place,
            placement.uses_gpu,
            checkpoint_dir,
            retries,
            source=source,
            sha256=sha256,
            md5=md5,
            val_fraction=val_fraction,
            seed=seed,
            limit_per_class=limit_per_class,
            variant=variant,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            precision=precision,
            crop_padding=crop_padding,
            plateau_patience=plateau_patience,
            final_decay_fraction=final_decay_fraction,
            require_gpu=require_gpu,
            min_accuracy=min_accuracy,
            baseline=baseline,
            max_regression=max_regression,
            parity_atol=parity_atol,
            int8_max_loss=int8_max_loss,
            deploy=deploy,
            deploy_name=deploy_name,
            deploy_namespace=deploy_namespace,
        )

    return alexnet_pipeline


# The run-time placement's own parameters, appended to alexnet_pipeline's Args (same indent).
_RUNTIME_ARGS = """
            gpu_type: The train pod's accelerator resource, e.g. nvidia.com/gpu or amd.com/gpu.
            gpu_count: GPUs for the train pod (a string: the backend reads this value as one).
            gpu_node_selector: Node labels the train pod must match, e.g. {"pool": "gpu"}.
            gpu_tolerations: Taints the train pod tolerates, as Kubernetes toleration objects.
"""


def _with_runtime_placement(placement: Placement, checkpoint_dir: str, retries: bool) -> Callable:
    def alexnet_pipeline_runtime_placement(
        source: str = OFFICIAL_URL,
        sha256: str = "",
        md5: str = "",
        val_fraction: float = DEFAULT_VAL_FRACTION,
        seed: int = DEFAULT_SEED,
        limit_per_class: int = 0,
        variant: str = _TRAIN.variant,
        epochs: int = _TRAIN.epochs,
        batch_size: int = _TRAIN.batch_size,
        learning_rate: float = _TRAIN.learning_rate,
        precision: str = _TRAIN.precision,
        crop_padding: int = _TRAIN.crop_padding,
        plateau_patience: int = _TRAIN.plateau_patience,
        final_decay_fraction: float = _TRAIN.final_decay_fraction,
        require_gpu: bool = True,
        min_accuracy: float = DEFAULT_MIN_ACCURACY,
        baseline: str = "",
        max_regression: float = DEFAULT_MAX_REGRESSION,
        parity_atol: float = DEFAULT_ATOL,
        int8_max_loss: float = DEFAULT_INT8_MAX_LOSS,
        deploy: bool = False,
        deploy_name: str = DEFAULT_SERVICE_NAME,
        deploy_namespace: str = "",
        gpu_type: str = placement.gpu_type,
        gpu_count: str = str(placement.gpu_count),
        gpu_node_selector: dict = dict(placement.node_selector),  # noqa: B006 (KFP reads defaults from here)
        gpu_tolerations: list = [dict(t) for t in placement.tolerations],  # noqa: B006 (as above; never mutated)
    ) -> float:
        def place(train: dsl.PipelineTask) -> None:
            place_at_run_time(train, gpu_type, gpu_count, gpu_node_selector, gpu_tolerations)

        return _dag(
            place,
            True,
            checkpoint_dir,
            retries,
            source=source,
            sha256=sha256,
            md5=md5,
            val_fraction=val_fraction,
            seed=seed,
            limit_per_class=limit_per_class,
            variant=variant,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            precision=precision,
            crop_padding=crop_padding,
            plateau_patience=plateau_patience,
            final_decay_fraction=final_decay_fraction,
            require_gpu=require_gpu,
            min_accuracy=min_accuracy,
            baseline=baseline,
            max_regression=max_regression,
            parity_atol=parity_atol,
            int8_max_loss=int8_max_loss,
            deploy=deploy,
            deploy_name=deploy_name,
            deploy_namespace=deploy_namespace,
        )

    # alexnet_pipeline's parameters are described once, in its docstring.
    shared_doc = _with_literal_placement(placement, checkpoint_dir, retries).__doc__ or ""
    alexnet_pipeline_runtime_placement.__doc__ = shared_doc.rstrip() + _RUNTIME_ARGS
    return alexnet_pipeline_runtime_placement


def _dag(
    place_train: Callable[[dsl.PipelineTask], None],
    uses_gpu: bool,
    checkpoint_dir: str,
    retries: bool,
    *,
    source: str,
    sha256: str,
    md5: str,
    val_fraction: float,
    seed: int,
    limit_per_class: int,
    variant: str,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    precision: str,
    crop_padding: int,
    plateau_patience: int,
    final_decay_fraction: float,
    require_gpu: bool,
    min_accuracy: float,
    baseline: str,
    max_regression: float,
    parity_atol: float,
    int8_max_loss: float,
    deploy: bool,
    deploy_name: str,
    deploy_namespace: str,
):
    data = data_op(
        source=source,
        sha256=sha256,
        md5=md5,
        val_fraction=val_fraction,
        seed=seed,
        limit_per_class=limit_per_class,
    )
    data.set_display_name("data: fetch, verify, split")
    if retries:  # a download that failed half-way
        data.set_retry(num_retries=3, backoff_duration="30s", backoff_factor=2)

    train = train_op(
        dataset=data.outputs["dataset"],
        variant=variant,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        precision=precision,
        seed=seed,
        crop_padding=crop_padding,
        plateau_patience=plateau_patience,
        final_decay_fraction=final_decay_fraction,
        require_gpu=require_gpu,
        checkpoint_dir=checkpoint_dir,
    )
    train.set_display_name("train AlexNet (GPU)" if uses_gpu else "train AlexNet")
    if retries:  # a lost pod (a preempted or drained GPU node); with a checkpoint it goes on
        train.set_retry(
            num_retries=TRAIN_RETRIES,
            backoff_duration="60s",
            backoff_factor=2,
            backoff_max_duration="600s",
        )
    set_train_resources(train)
    place_train(train)

    evaluation = evaluate_op(
        dataset=data.outputs["dataset"],
        model=train.outputs["model"],
        min_accuracy=min_accuracy,
        baseline=baseline,
        max_regression=max_regression,
    )
    evaluation.set_display_name("evaluate and gate").set_caching_options(False)

    with dsl.If(evaluation.outputs["passed"] == True, name="gate-passed"):  # noqa: E712 (a KFP condition)
        onnx = export_op(
            model=train.outputs["model"],
            evaluation=evaluation.outputs["evaluation"],
            dataset=data.outputs["dataset"],
        )
        onnx.set_display_name("export ONNX").set_memory_request("4G").set_memory_limit("8G")
        verify = verify_op(
            dataset=data.outputs["dataset"],
            model=train.outputs["model"],
            onnx_model=onnx.outputs["onnx_model"],
            atol=parity_atol,
            int8_max_loss=int8_max_loss,
        )
        verify.set_display_name("verify ONNX parity").set_caching_options(False)
        with dsl.If(deploy == True, name="deploy-requested"):  # noqa: E712 (a KFP condition)
            served = deploy_op(
                model_repository=onnx.outputs["model_repository"],
                name=deploy_name,
                namespace=deploy_namespace,
            ).after(verify)
            served.set_display_name("deploy to KServe").set_caching_options(False)
    with dsl.Else(name="gate-failed"):
        reject = reject_op(reason=evaluation.outputs["reason"])
        reject.set_display_name("reject: gate failed").set_caching_options(False)
    return evaluation.outputs["accuracy"]


alexnet_pipeline = build_pipeline()

"""The pipeline: data -> train (GPU node) -> evaluate -> gate -> export -> verify.

    with dsl.If(evaluate.passed == True): export -> verify
    with dsl.Else(): reject (fails the run with the gate's reason)

The gate condition uses the evaluate step's `passed`, which is `accuracy >= min_accuracy` and,
with a baseline, `accuracy >= baseline - max_regression`: one decision, made and explained once.
"""

from kfp import dsl, kubernetes

from alexnet_kfp.components.data import DEFAULT_SEED, OFFICIAL_URL
from alexnet_kfp.components.train_config import TrainConfig
from alexnet_kfp.pipeline.ops import data_op, evaluate_op, export_op, reject_op, train_op, verify_op

PIPELINE_NAME = "alexnet-cifar10"
_TRAIN = TrainConfig()
# The train pod: one GPU on a GPU node. CPU and memory feed tf.data's augmentation and hold the data.
TRAIN_CPU_REQUEST, TRAIN_CPU_LIMIT = "4", "8"
TRAIN_MEMORY_REQUEST, TRAIN_MEMORY_LIMIT = "16G", "32G"
GPU_NODE_SELECTOR = {"nvidia.com/gpu.present": "true"}  # the NVIDIA GPU operator's node label
GPU_TOLERATIONS = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


@dsl.pipeline(name=PIPELINE_NAME, description="AlexNet on CIFAR-10: data, GPU training, evaluation gate, "
              "ONNX export and Keras-vs-onnxruntime parity.")
def alexnet_pipeline(
    source: str = OFFICIAL_URL,
    sha256: str = "",
    md5: str = "",  # empty: the official URL is still checked against its published md5 by the data step
    val_fraction: float = 0.3,
    seed: int = DEFAULT_SEED,
    limit_per_class: int = 0,
    variant: str = _TRAIN.variant,
    epochs: int = _TRAIN.epochs,
    batch_size: int = _TRAIN.batch_size,
    learning_rate: float = _TRAIN.learning_rate,
    precision: str = _TRAIN.precision,
    min_accuracy: float = 0.65,
    baseline: str = "",
    max_regression: float = 0.01,
    parity_atol: float = 1e-4,
    gpu_type: str = "nvidia.com/gpu",
    gpu_count: int = 1,
    gpu_node_selector: dict = GPU_NODE_SELECTOR,
    gpu_tolerations: list = GPU_TOLERATIONS,
) -> float:
    data = data_op(source=source, sha256=sha256, md5=md5, val_fraction=val_fraction, seed=seed,
                   limit_per_class=limit_per_class)
    data.set_display_name("data: fetch, verify, split").set_retry(num_retries=3, backoff_duration="30s",
                                                                   backoff_factor=2)

    train = train_op(dataset=data.outputs["dataset"], variant=variant, epochs=epochs, batch_size=batch_size,
                     learning_rate=learning_rate, precision=precision, seed=seed)
    train.set_display_name("train AlexNet (GPU)")
    train.set_accelerator_type(gpu_type).set_accelerator_limit(gpu_count)
    train.set_cpu_request(TRAIN_CPU_REQUEST).set_cpu_limit(TRAIN_CPU_LIMIT)
    train.set_memory_request(TRAIN_MEMORY_REQUEST).set_memory_limit(TRAIN_MEMORY_LIMIT)
    kubernetes.add_node_selector_json(train, gpu_node_selector)
    kubernetes.add_toleration_json(train, gpu_tolerations)

    evaluation = evaluate_op(dataset=data.outputs["dataset"], model=train.outputs["model"],
                             min_accuracy=min_accuracy, baseline=baseline, max_regression=max_regression)
    evaluation.set_display_name("evaluate and gate").set_caching_options(False)

    with dsl.If(evaluation.outputs["passed"] == True, name="gate-passed"):  # noqa: E712 (a KFP condition)
        onnx = export_op(model=train.outputs["model"], evaluation=evaluation.outputs["evaluation"])
        onnx.set_display_name("export ONNX").set_memory_request("4G").set_memory_limit("8G")
        verify = verify_op(dataset=data.outputs["dataset"], model=train.outputs["model"],
                           onnx_model=onnx.outputs["onnx_model"], atol=parity_atol)
        verify.set_display_name("verify ONNX parity").set_caching_options(False)
    with dsl.Else(name="gate-failed"):
        reject = reject_op(reason=evaluation.outputs["reason"])
        reject.set_display_name("reject: gate failed").set_caching_options(False)
    return evaluation.outputs["accuracy"]

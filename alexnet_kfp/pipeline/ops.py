"""The Kubeflow components: one per step, thin. Each body imports its step from
alexnet_kfp.components (installed in the project image) and calls it; no logic lives here.

They are Lightweight Python components on the project image (`install_kfp_package=False`: the
image already has kfp), so the same code runs in a cluster, under kfp.local's SubprocessRunner
and under its DockerRunner. Set ALEXNET_KFP_IMAGE at compile time to use your own registry.
"""

import os
from typing import NamedTuple

from kfp import dsl
from kfp.dsl import HTML, Artifact, ClassificationMetrics, Dataset, Input, Metrics, Model, Output

from alexnet_kfp import __version__

IMAGE = os.environ.get("ALEXNET_KFP_IMAGE", f"ghcr.io/alexnet-kfp/alexnet-kfp:{__version__}")


def _component(func):
    return dsl.component(func, base_image=IMAGE, install_kfp_package=False)


@_component
def data_op(source: str, sha256: str, md5: str, val_fraction: float, seed: int, limit_per_class: int,
            dataset: Output[Dataset]):
    """Fetch, verify, parse and split CIFAR-10 (limit_per_class 0 = all images)."""
    from alexnet_kfp.components.data import prepare_dataset
    from alexnet_kfp.components.log_setup import configure

    configure()
    record = prepare_dataset(dataset.path, source=source, sha256=sha256 or None, md5=md5 or None,
                             val_fraction=val_fraction, seed=seed, limit_per_class=limit_per_class or None)
    dataset.metadata.update({name: split["count"] for name, split in record["splits"].items()})


@_component
def train_op(dataset: Input[Dataset], variant: str, epochs: int, batch_size: int, learning_rate: float,
             precision: str, seed: int, require_gpu: bool, model: Output[Model]):
    """Train AlexNet; the Model artifact is the directory (model.keras, history.json, train.json).
    With require_gpu, fail at once when the pod sees no GPU instead of training on its CPU."""
    from alexnet_kfp.components.log_setup import configure
    from alexnet_kfp.components.train import train
    from alexnet_kfp.components.train_config import TrainConfig

    configure()
    config = TrainConfig(variant=variant, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                         precision=precision, seed=seed, require_gpu=require_gpu)
    record = train(dataset.path, model.path, config)
    model.metadata.update({"framework": "keras", "best_val_accuracy": record["best_val_accuracy"],
                           "precision": record["precision"], "device": record["device"]})


@_component
def evaluate_op(dataset: Input[Dataset], model: Input[Model], min_accuracy: float, baseline: str,
                max_regression: float, evaluation: Output[Artifact], metrics: Output[Metrics],
                confusion: Output[ClassificationMetrics], report: Output[HTML],
                ) -> NamedTuple("GateOutputs", [("accuracy", float), ("passed", bool), ("reason", str)]):
    """Metrics, pictures and report; returns the gate's decision for the pipeline's dsl.If."""
    import shutil
    from collections import namedtuple

    from alexnet_kfp.components.evaluate import evaluate
    from alexnet_kfp.components.log_setup import configure

    configure()
    result = evaluate(dataset.path, model.path, evaluation.path, min_accuracy=min_accuracy,
                      baseline=baseline or None, max_regression=max_regression)
    metrics.log_metric("accuracy", result["accuracy"])
    metrics.log_metric("macro_f1", result["macro_f1"])
    for name, per_class in result["per_class"].items():
        metrics.log_metric(f"f1_{name}", per_class["f1"])
    confusion.log_confusion_matrix(result["class_names"], result["confusion_matrix"])
    shutil.copyfile(f"{evaluation.path}/report.html", report.path)
    gate = result["gate"]
    print(f"gate {'passed' if gate['passed'] else 'failed'}: {gate['reason']}")
    return namedtuple("GateOutputs", ["accuracy", "passed", "reason"])(result["accuracy"], gate["passed"], gate["reason"])


@_component
def reject_op(reason: str):
    """The Else branch of the gate: fail the run, saying why."""
    raise SystemExit(f"model rejected by the evaluation gate: {reason}")


@_component
def export_op(model: Input[Model], evaluation: Input[Artifact], onnx_model: Output[Model]):
    """Keras -> ONNX; the artifact is the directory (model.onnx, export.json)."""
    from alexnet_kfp.components.export import export
    from alexnet_kfp.components.log_setup import configure

    configure()
    record = export(model.path, onnx_model.path, metrics_path=f"{evaluation.path}/metrics.json")
    onnx_model.metadata.update({"framework": "onnx", "opset": record["opset"], "sha256": record["sha256"]})


@_component
def verify_op(dataset: Input[Dataset], model: Input[Model], onnx_model: Input[Model], atol: float,
              parity: Output[Metrics], parity_report: Output[Artifact]):
    """Keras vs onnxruntime on the whole test split; fails the run on a mismatch."""
    from alexnet_kfp.components.log_setup import configure
    from alexnet_kfp.components.parity import verify

    configure()
    result = verify(dataset.path, model.path, onnx_model.path, atol=atol, out_dir=parity_report.path)
    for key in ("max_abs_diff", "mean_abs_diff", "argmax_agreement"):
        parity.log_metric(key, result[key])

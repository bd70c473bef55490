"""The int8 quantisation choices, side by side in one run, on one trained model: for each recipe,
test accuracy on the whole test split, top-1 agreement with the float32 model, file size, and
batch-1 latency and batch-256 throughput as ratios to the float32 model's, measured in turn.

    python bench/int8_choices.py ONNX_DIR DATASET_DIR [--seeds N]

ONNX_DIR holds model.onnx from `alexnet-kfp export`; calibration images come from DATASET_DIR's
training split, as in the export step. With --seeds N, the default recipe is also calibrated on N
different samples, to show how much of a difference between recipes is calibration noise.
Goals (issue 12): throughput >= 3x float32, latency <= 0.2x, agreement >= 99 %, accuracy within
0.3 point, file <= 1/3.5.
"""

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
from measure import best_of, ort_predictor, print_machine

from alexnet_kfp.data.npz import load_split
from alexnet_kfp.export.quantize import Int8Recipe, calibration_sample, quantize
from alexnet_kfp.inference.onnx_classifier import OnnxClassifier

DEFAULT = Int8Recipe()
CHOICES = [
    (
        "default: QDQ, s8 per-channel weights, u8 activations, minmax moving average, 512 "
        "images, input scaling float32",
        DEFAULT,
    ),
    ("QOperator format (QLinearConv ...)", replace(DEFAULT, format="qoperator")),
    ("per-tensor weights", replace(DEFAULT, per_channel=False)),
    ("s8 activations", replace(DEFAULT, activations="s8")),
    ("u8 weights", replace(DEFAULT, weights="u8")),
    (
        "minmax, extremes instead of moving average",
        replace(DEFAULT, calibration="minmax", moving_average=False),
    ),
    ("entropy calibration", replace(DEFAULT, calibration="entropy")),
    ("percentile 99.999", replace(DEFAULT, calibration="percentile", percentile=99.999)),
    ("percentile 99.99", replace(DEFAULT, calibration="percentile", percentile=99.99)),
    ("128 calibration images", replace(DEFAULT, calibration_images=128)),
    ("2048 calibration images", replace(DEFAULT, calibration_images=2048)),
    (
        "quant_pre_process " + ("off" if DEFAULT.preprocess else "on"),
        replace(DEFAULT, preprocess=not DEFAULT.preprocess),
    ),
    (
        "input scaling " + ("in int8 too" if DEFAULT.float_input_scaling else "kept float32"),
        replace(DEFAULT, float_input_scaling=not DEFAULT.float_input_scaling),
    ),
    ("conv1 kept float32", replace(DEFAULT, keep_float=("conv1",))),
    ("Dense layers (Gemm) kept float32", replace(DEFAULT, keep_float=("Gemm",))),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("onnx_dir", type=Path)
    parser.add_argument("dataset_dir", type=Path)
    parser.add_argument(
        "--seeds", type=int, default=3, help="calibration samples for the default recipe"
    )
    args = parser.parse_args()
    print_machine()
    float_path = args.onnx_dir / "model.onnx"
    x_train, y_train = load_split(args.dataset_dir, "train")
    x_test, y_test = load_split(args.dataset_dir, "test")
    rng = np.random.default_rng(0)
    one, batch = x_test[:1], x_test[rng.choice(len(x_test), 256, replace=False)]
    reference = OnnxClassifier(float_path).predict(x_test)
    float_accuracy = float((reference.argmax(1) == y_test).mean())
    float_latency, float_throughput = best_of({"float32": ort_predictor(float_path)}, one, batch)[
        "float32"
    ]
    float_bytes = float_path.stat().st_size
    print(
        f"float32: accuracy {float_accuracy:.2%}, {float_bytes / 2**20:.1f} MiB, batch 1 "
        f"{float_latency:.2f} ms, batch 256 {float_throughput:,.0f} img/s\n"
    )
    print(
        "| choice | test accuracy | Δ vs float32 | top-1 agreement | file | batch 1 latency | "
        "batch 256 |"
    )
    print("|---|---|---|---|---|---|---|")
    runs = [(name, recipe, 0) for name, recipe in CHOICES]
    runs += [
        (f"default, calibration sample {seed}", DEFAULT, seed) for seed in range(1, args.seeds)
    ]
    with tempfile.TemporaryDirectory() as scratch:
        for name, recipe, seed in runs:
            images, _ = calibration_sample(x_train, y_train, recipe.calibration_images, seed=seed)
            path = Path(scratch) / "model.int8.onnx"
            quantize(float_path, path, images, recipe)
            probabilities = OnnxClassifier(path).predict(x_test)
            accuracy = float((probabilities.argmax(1) == y_test).mean())
            agreement = float((probabilities.argmax(1) == reference.argmax(1)).mean())
            speeds = best_of(
                {"float32": ort_predictor(float_path), "int8": ort_predictor(path)}, one, batch
            )
            (float_latency, float_throughput), (latency, throughput) = (
                speeds["float32"],
                speeds["int8"],
            )
            print(
                f"| {name} | {accuracy:.2%} | {100 * (accuracy - float_accuracy):+.2f} | "
                f"{agreement:.2%} | {path.stat().st_size / float_bytes:.3f}x | {latency:.2f} ms "
                f"({latency / float_latency:.2f}x) | {throughput:,.0f} img/s "
                f"({throughput / float_throughput:.2f}x) |",
                flush=True,
            )


if __name__ == "__main__":
    main()

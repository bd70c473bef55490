"""Inference side by side, one run, same weights: onnxruntime on model.onnx (float32) and on
model.int8.onnx (when the export made one) vs Keras `model.predict` vs the fastest Keras path (the
model called inside a `tf.function`):

  - batch 1: median latency over repeated single-image calls;
  - batch 256: images/s;
  - peak RSS of a fresh process that only loads the model and predicts 256 images; file size.
Each path is measured in turn three times and its best reading kept (measure.best_of).

    python bench/onnx_vs_keras.py MODEL_DIR ONNX_DIR
Goals: float32 onnxruntime against tf.function >= 2x at batch 1, >= 1.5x at batch 256, RSS <= 1/4;
int8 against float32 onnxruntime (issue 12) >= 3x at batch 256, batch-1 latency <= 0.2x, file <=
1/3.5.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from measure import best_of, ort_predictor, peak_rss_mib, print_machine

from alexnet_kfp.inference import FLOAT_FILE, INT8_FILE


def main() -> None:
    model_dir, onnx_dir = Path(sys.argv[1]), Path(sys.argv[2])
    import keras
    import tensorflow as tf

    print_machine()
    rng = np.random.default_rng(0)
    one = rng.integers(0, 256, (1, 32, 32, 3), dtype=np.uint8)
    batch = rng.integers(0, 256, (256, 32, 32, 3), dtype=np.uint8)
    keras_path = model_dir / "model.keras"
    model = keras.models.load_model(keras_path, compile=False)
    graph_call = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    files = {
        "onnxruntime float32": onnx_dir / FLOAT_FILE,
        "onnxruntime int8": onnx_dir / INT8_FILE,
        "keras model.predict": keras_path,
        "keras tf.function": keras_path,
    }
    paths = {"onnxruntime float32": ort_predictor(files["onnxruntime float32"])}
    if files["onnxruntime int8"].is_file():
        paths["onnxruntime int8"] = ort_predictor(files["onnxruntime int8"])
    paths["keras model.predict"] = lambda x: model.predict(x, verbose=0, batch_size=len(x))
    paths["keras tf.function"] = lambda x: graph_call(x).numpy()
    np.testing.assert_allclose(
        paths["onnxruntime float32"](batch), paths["keras tf.function"](batch), atol=1e-4
    )
    rows = best_of(paths, one, batch)
    rss = {
        name: peak_rss_mib("keras" if name.startswith("keras") else "onnx", files[name])
        for name in paths
        if name != "keras model.predict"
    }
    rss["keras model.predict"] = rss["keras tf.function"]
    print(
        "| path | batch 1, median latency | batch 256, images/s | peak RSS (load + predict 256) "
        "| file |"
    )
    print("|---|---|---|---|---|")
    for name, (latency, throughput) in rows.items():
        print(
            f"| {name} | {latency:.2f} ms | {throughput:,.0f} | {rss[name]:,.0f} MiB | "
            f"{files[name].stat().st_size / 2**20:.1f} MiB |"
        )
    fast_latency, fast_throughput = rows["keras tf.function"]
    ort_latency, ort_throughput = rows["onnxruntime float32"]
    print(
        f"onnxruntime float32 vs tf.function: {fast_latency / ort_latency:.2f}x at batch 1 (goal "
        f">= 2), {ort_throughput / fast_throughput:.2f}x at batch 256 (goal >= 1.5), RSS "
        f"{rss['onnxruntime float32'] / rss['keras tf.function']:.2f} (goal <= 0.25)"
    )
    if "onnxruntime int8" in rows:
        int8_latency, int8_throughput = rows["onnxruntime int8"]
        size = {
            name: files[name].stat().st_size for name in ("onnxruntime int8", "onnxruntime float32")
        }
        size_ratio = size["onnxruntime int8"] / size["onnxruntime float32"]
        print(
            f"onnxruntime int8 vs float32: batch-1 latency {int8_latency / ort_latency:.2f}x "
            f"(goal <= 0.2), batch 256 {int8_throughput / ort_throughput:.2f}x (goal >= 3), file "
            f"{size_ratio:.3f}x (goal <= {1 / 3.5:.3f}), RSS "
            f"{rss['onnxruntime int8'] / rss['onnxruntime float32']:.2f}x"
        )


if __name__ == "__main__":
    main()

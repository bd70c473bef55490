"""Inference side by side, one run, same weights: onnxruntime (OnnxClassifier's session) vs Keras
`model.predict` vs the fastest Keras path (the model called inside a `tf.function`):

  - batch 1: median latency over repeated single-image calls;
  - batch 256: images/s;
  - peak RSS of a fresh process that only loads the model and predicts 256 images.

    python bench/onnx_vs_keras.py MODEL_DIR ONNX_DIR
Goals against the tf.function path: >= 2x at batch 1, >= 1.5x at batch 256, RSS <= 1/4.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from measure import images_per_second, median_latency_ms, peak_rss_mib, print_machine  # noqa: E402


def main() -> None:
    model_dir, onnx_dir = Path(sys.argv[1]), Path(sys.argv[2])
    import keras
    import tensorflow as tf

    from alexnet_kfp.serve.onnx_classifier import OnnxClassifier

    print_machine()
    rng = np.random.default_rng(0)
    one = rng.integers(0, 256, (1, 32, 32, 3), dtype=np.uint8)
    batch = rng.integers(0, 256, (256, 32, 32, 3), dtype=np.uint8)
    model = keras.models.load_model(model_dir / "model.keras", compile=False)
    graph_call = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    session = OnnxClassifier(onnx_dir / "model.onnx").session

    def ort(x):
        return session.run(None, {"image": x})[0]

    paths = {
        "onnxruntime": ort,
        "keras model.predict": lambda x: model.predict(x, verbose=0, batch_size=len(x)),
        "keras tf.function": lambda x: graph_call(x).numpy(),
    }
    np.testing.assert_allclose(ort(batch), paths["keras tf.function"](batch), atol=1e-4)
    rows = {name: (median_latency_ms(f, one), images_per_second(f, batch)) for name, f in paths.items()}
    rss = {"onnxruntime": peak_rss_mib("onnx", onnx_dir / "model.onnx"),
           "keras": peak_rss_mib("keras", model_dir / "model.keras")}
    fastest = rows["keras tf.function"]
    print(f"{'path':22s} {'batch 1 (median ms)':>20s} {'batch 256 (img/s)':>18s}")
    for name, (latency, throughput) in rows.items():
        print(f"{name:22s} {latency:14.2f} ms {throughput:14.0f}")
    ort_latency, ort_throughput = rows["onnxruntime"]
    print(f"onnxruntime vs tf.function: {fastest[0] / ort_latency:.2f}x at batch 1 (goal >= 2), "
          f"{ort_throughput / fastest[1]:.2f}x at batch 256 (goal >= 1.5)")
    print(f"peak RSS, load + predict 256: onnxruntime {rss['onnxruntime']:.0f} MiB, keras {rss['keras']:.0f} MiB "
          f"({rss['onnxruntime'] / rss['keras']:.2f}, goal <= 0.25)")


if __name__ == "__main__":
    main()

"""`alexnet-kfp export`, `verify` and `predict`: the ONNX model, its parity with Keras, and using
it."""

import argparse
import sys
from pathlib import Path

from alexnet_kfp.cli.exits import EXIT_PARITY_FAILED
from alexnet_kfp.cli.options import (
    DATASET_DIR,
    MODEL_DIR,
    command,
    config_flags,
    config_from,
    directories,
    model_path,
    new_dir,
    option,
)
from alexnet_kfp.errors import InputError
from alexnet_kfp.export import ExportConfig, VerifyConfig
from alexnet_kfp.inference import INT8_FILE
from alexnet_kfp.process import import_tensorflow


def _cmd_export(args: argparse.Namespace) -> int:
    """Convert model.keras to model.onnx with tf2onnx: input `image` uint8 [N,32,32,3] raw RGB
    pixels, output `probabilities` float32 [N,10]; class names and provenance in the model's
    metadata. With --data, also {int8_file} (the same contract; onnxruntime's static
    quantisation, calibrated on training images)."""
    config = config_from(ExportConfig, args)  # checked before TensorFlow is imported
    import_tensorflow()
    from alexnet_kfp.export.onnx_export import export
    from alexnet_kfp.export.quantize import Int8Recipe

    recipe = Int8Recipe(calibration_images=config.calibration_images)
    inputs = {"metrics_path": args.metrics, "dataset_dir": args.data}
    record = export(args.model, args.out, opset=config.opset, int8=recipe, **inputs).record
    print(
        f"wrote {args.out}/model.onnx: {record.bytes / 1e6:.1f} MB, opset {record.opset}, "
        f"{record.conversion_seconds:.0f} s, peak RSS {record.process_peak_rss_mib} MiB"
    )
    int8 = record.int8
    print(
        f"wrote {args.out}/{INT8_FILE}: {int8.bytes / 1e6:.1f} MB, calibrated on "
        f"{int8.calibration.images} training images in {int8.quantization_seconds:.0f} s"
        if int8
        else f"no {INT8_FILE}: pass --data DIR (the Dataset) to calibrate one"
    )
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    """Run Keras and onnxruntime on every test image and write parity.json. Exit {failed}
    when max |delta p| > atol or a top-1 class differs beyond a tie, or when {int8_file} (if
    exported) loses more test accuracy than --int8-max-loss."""
    config = config_from(VerifyConfig, args)  # checked before TensorFlow is imported
    import_tensorflow()
    from alexnet_kfp.export.parity import ParityError, verify

    try:
        result = verify(
            args.data,
            args.model,
            args.onnx,
            config,
            out_dir=args.out,
            evaluation_dir=args.evaluation,
        )
    except ParityError as e:
        print(f"alexnet-kfp verify: FAILED: {e}", file=sys.stderr)
        return EXIT_PARITY_FAILED
    print(
        f"parity passed on {result.images} test images: max |delta p| "
        f"{result.max_abs_diff:.2g}, mean {result.mean_abs_diff:.2g}, top-1 agreement "
        f"{result.argmax_agreement:.2%}"
    )
    if result.int8:
        print(
            f"int8 passed: {result.int8.reason}; top-1 agreement with float32 "
            f"{result.int8.top1_agreement:.2%}"
        )
    else:
        print(f"no {INT8_FILE} to check (export without --data)")
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    """Classify PNG/JPEG/BMP/WebP/GIF/TIFF files of any size and mode with model.onnx.
    Unreadable files are reported one by one; the exit code is 2 if any failed. A trial model
    (trained on a sample of the data) says so on stderr and in --json's "trial"."""
    import json

    from alexnet_kfp.inference.onnx_classifier import OnnxClassifier, expand_image_paths

    if args.top_k < 1:
        raise InputError(f"--top-k must be at least 1, got {args.top_k}")
    paths = expand_image_paths(args.images)
    args.model = model_path(args.model)
    if not Path(args.model).exists():
        raise InputError(
            f"--model {args.model}: no such file or directory (expected `alexnet-kfp export`'s "
            "directory or a model file in it)"
        )
    classifier = OnnxClassifier(args.model, int8=args.int8)
    if classifier.trial:
        print(f"alexnet-kfp predict: warning: {classifier.trial}", file=sys.stderr)
    results = classifier.predict_files(paths, top_k=args.top_k)
    for result in results:
        if result.error:
            print(f"alexnet-kfp predict: error: {result.path}: {result.error}", file=sys.stderr)
        elif not args.json:
            print(f"{result.path}: " + ", ".join(f"{name} {p:.3f}" for name, p in result.top))
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "path": r.path,
                        "top": [{"label": n, "probability": p} for n, p in r.top],
                        "error": r.error,
                        "trial": classifier.trial,  # None, or why the model is not to ship
                    }
                    for r in results
                ],
                indent=2,
            )
        )
    return 2 if any(r.error for r in results) else 0


def add(sub) -> None:
    help_text = "convert a Model to ONNX (model.onnx, model.int8.onnx, export.json)"
    p = command(sub, _cmd_export, help_text, int8_file=INT8_FILE)
    directories(p, model=MODEL_DIR, out=new_dir("ONNX model"))
    config_flags(p, ExportConfig)
    metrics = "metrics.json from `alexnet-kfp evaluate`, to record the test accuracy in the model"
    p.add_argument("--metrics", metavar="FILE", help=metrics)
    calibration = f"Dataset directory whose training split calibrates {INT8_FILE} (else: none)"
    p.add_argument("--data", metavar="DIR", help=calibration)

    help_text = "prove onnxruntime matches Keras on the whole test split"
    p = command(sub, _cmd_verify, help_text, int8_file=INT8_FILE, failed=EXIT_PARITY_FAILED)
    onnx_dir = f"ONNX directory (model.onnx, {INT8_FILE})"
    directories(p, data=DATASET_DIR, model=MODEL_DIR, onnx=onnx_dir)
    config_flags(p, VerifyConfig)
    p.add_argument("--out", metavar="DIR", help="new directory for parity.json (default: --onnx)")
    evaluation = "`alexnet-kfp evaluate`'s directory: also write the run's report.html (the "
    evaluation += "evaluation with the ONNX results) beside parity.json"
    p.add_argument("--evaluation", metavar="DIR", help=evaluation)

    help_text = "classify image files with an exported model (no TensorFlow needed)"
    p = command(sub, _cmd_predict, help_text)
    p.add_argument("images", nargs="+", metavar="IMAGE_OR_DIR", help="image files or folders")
    model = "the directory `alexnet-kfp export` wrote (its model.onnx), a model file, or a "
    model += "registered model of MLflow's registry: models:/NAME@ALIAS or models:/NAME/VERSION "
    model += "(with MLFLOW_TRACKING_URI; docs/tracking.md)"
    p.add_argument("--model", required=True, metavar="PATH_OR_URI", help=model)
    int8 = f"use the directory's {INT8_FILE}: 4x smaller, faster on CPUs with VNNI"
    p.add_argument("--int8", action="store_true", help=int8)
    option(p, "--top-k", 3, "labels per image", metavar="K")
    p.add_argument("--json", action="store_true", help="print JSON instead of one line per image")

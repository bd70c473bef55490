"""`alexnet-kfp`: the command-line face of the steps. Each subcommand calls the same function
that the Kubeflow component calls. Heavy frameworks are imported inside the subcommand that
needs them, so `--help` and the light subcommands stay fast.

Exit codes: 0 success, 2 bad input (one line on stderr), 3 evaluation gate failed,
4 ONNX parity failed, 1 unexpected failure.
"""

import argparse
import sys
from pathlib import Path

from alexnet_kfp import __version__
from alexnet_kfp.components.errors import InputError
from alexnet_kfp.components.log_setup import configure as configure_logging

EXIT_GATE_FAILED = 3
EXIT_PARITY_FAILED = 4


def _cmd_data(args: argparse.Namespace) -> int:
    from alexnet_kfp.components.data import prepare_dataset

    record = prepare_dataset(
        args.out,
        source=args.source,
        sha256=args.sha256,
        md5=args.md5,
        val_fraction=args.val_fraction,
        seed=args.seed,
        limit_per_class=args.limit_per_class,
        cache_dir=args.cache_dir,
    )
    counts = ", ".join(f"{name} {split['count']}" for name, split in record["splits"].items())
    print(f"wrote {args.out}: {counts} images, {len(record['class_names'])} classes")
    return 0


def _add_source_options(p, default: str | None) -> None:
    p.add_argument("--source", default=default, help="http(s):// or file:// URL, .tar.gz path, or extracted "
                   "cifar-10-batches-py/-bin directory (default: the official URL, checked against its md5)")
    checks = p.add_mutually_exclusive_group()
    checks.add_argument("--sha256", metavar="HEX", help="expected sha256 of the source archive")
    checks.add_argument("--md5", metavar="HEX", help="expected md5 of the source archive")


def _add_data(sub) -> None:
    from alexnet_kfp.components.data import DEFAULT_SEED, DEFAULT_VAL_FRACTION, OFFICIAL_URL

    p = sub.add_parser(
        "data",
        help="fetch, verify, parse and split CIFAR-10 into a Dataset directory",
        description="Fetch CIFAR-10 (URL, file:// URL, archive path or extracted directory; python or binary "
        "layout), verify its checksum, parse it without executing pickled code, and write a stratified "
        "train/val split plus the official test batch as train.npz, val.npz, test.npz and dataset.json.",
    )
    _add_source_options(p, OFFICIAL_URL)
    p.add_argument("--val-fraction", type=float, default=DEFAULT_VAL_FRACTION, metavar="F",
                   help=f"share of each class held out for validation (default {DEFAULT_VAL_FRACTION})")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"split seed (default {DEFAULT_SEED})")
    p.add_argument("--limit-per-class", type=int, metavar="N",
                   help="keep at most N images per class from the train batches and from the test batch (quick runs)")
    p.add_argument("--cache-dir", metavar="D", help="where downloads are kept (default ~/.cache/alexnet-kfp)")
    p.add_argument("--out", required=True, metavar="DIR", help="new (or empty) directory for the Dataset")
    p.set_defaults(func=_cmd_data)


def _cmd_train(args: argparse.Namespace) -> int:
    from alexnet_kfp.components.train import train
    from alexnet_kfp.components.train_config import TrainConfig

    config = TrainConfig(
        variant=args.variant, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
        precision=args.precision, seed=args.seed, plateau_factor=args.plateau_factor,
        plateau_patience=args.plateau_patience, min_learning_rate=args.min_lr,
        early_stopping_patience=args.early_stopping, augment=not args.no_augment, jit_compile=args.jit_compile,
        deterministic=not args.no_deterministic, require_gpu=args.require_gpu,
    )
    record = train(args.data, args.out, config)
    print(f"wrote {args.out}: best val_accuracy {record['best_val_accuracy']:.4f} at epoch {record['best_epoch']} "
          f"of {record['epochs_run']} ({record['precision']}, {record['images_per_second']:.0f} img/s, {record['device']})")
    return 0


def _add_train(sub) -> None:
    from alexnet_kfp.components.train_config import PRECISIONS, VARIANTS, TrainConfig

    defaults = TrainConfig()
    p = sub.add_parser(
        "train",
        help="train AlexNet on a Dataset directory",
        description="Train AlexNet with the article's augmentation (flip, +-2 deg rotation, 10%% zoom) and "
        "plateau learning-rate decay on val_accuracy; keep the best epoch. Writes model.keras (float32), "
        "history.json and train.json.",
    )
    p.add_argument("--data", required=True, metavar="DIR", help="Dataset directory from `alexnet-kfp data`")
    p.add_argument("--out", required=True, metavar="DIR", help="new (or empty) directory for the Model")
    p.add_argument("--variant", choices=VARIANTS, default=defaults.variant,
                   help="seed: the article's network (fast, 25.7 M parameters); cifar: AlexNet adapted to "
                   "32x32 inputs (7.8x the compute, more accurate; for GPUs). Default: %(default)s")
    p.add_argument("--epochs", type=int, default=defaults.epochs, help="default: %(default)s")
    p.add_argument("--batch-size", type=int, default=defaults.batch_size, help="default: %(default)s")
    p.add_argument("--learning-rate", type=float, default=defaults.learning_rate, help="Adam's, default: %(default)s")
    p.add_argument("--precision", choices=PRECISIONS,
                   default=defaults.precision, help="auto: mixed_float16 on NVIDIA GPUs, mixed_bfloat16 on CPUs "
                   "with AMX-BF16, float32 otherwise (default: %(default)s)")
    p.add_argument("--seed", type=int, default=defaults.seed, help="default: %(default)s")
    p.add_argument("--plateau-factor", type=float, default=defaults.plateau_factor,
                   help="multiply the learning rate by this when val_accuracy stalls (default: %(default)s)")
    p.add_argument("--plateau-patience", type=int, default=defaults.plateau_patience,
                   help="epochs without val_accuracy gain before the decay (default: %(default)s)")
    p.add_argument("--min-lr", type=float, default=defaults.min_learning_rate, help="default: %(default)s")
    p.add_argument("--early-stopping", type=int, metavar="N", help="stop after N epochs without val_accuracy gain")
    p.add_argument("--no-augment", action="store_true", help="train without augmentation")
    p.add_argument("--jit-compile", action="store_true", help="XLA (helps on GPUs; 6x slower on the CPU measured)")
    p.add_argument("--no-deterministic", action="store_true",
                   help="allow nondeterministic kernels (about 4%% faster on the CPU measured; runs stop being repeatable)")
    p.add_argument("--require-gpu", action="store_true",
                   help="fail at once when no GPU is visible instead of training on the CPU")
    p.set_defaults(func=_cmd_train)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from alexnet_kfp.components.evaluate import evaluate

    metrics = evaluate(args.data, args.model, args.out, min_accuracy=args.min_accuracy,
                       baseline=args.baseline, max_regression=args.max_regression)
    gate = metrics["gate"]
    print(f"test accuracy {metrics['accuracy']:.4f}, macro F1 {metrics['macro_f1']:.4f}; "
          f"gate {'passed' if gate['passed'] else 'FAILED'}: {gate['reason']}; report: {args.out}/report.html")
    return 0 if gate["passed"] else EXIT_GATE_FAILED


def _add_evaluate(sub) -> None:
    from alexnet_kfp.components.gate import DEFAULT_MAX_REGRESSION, DEFAULT_MIN_ACCURACY

    p = sub.add_parser(
        "evaluate",
        help="test-set metrics, pictures, an HTML report and the accuracy gate",
        description="Evaluate a Model on the Dataset's test split: accuracy, per-class precision/recall/F1, "
        "confusion matrices, training curves, the most confident mistakes, report.html and metrics.json. "
        f"Exit code 0 when the gate passes, {EXIT_GATE_FAILED} when it fails (the report is still written), "
        "2 on bad input.",
    )
    p.add_argument("--data", required=True, metavar="DIR", help="Dataset directory from `alexnet-kfp data`")
    p.add_argument("--model", required=True, metavar="DIR", help="Model directory from `alexnet-kfp train`")
    p.add_argument("--out", required=True, metavar="DIR", help="new (or empty) directory for the Evaluation")
    p.add_argument("--min-accuracy", type=float, default=DEFAULT_MIN_ACCURACY, metavar="F",
                   help="the gate: test accuracy must reach this (default: %(default)s)")
    p.add_argument("--baseline", metavar="PATH",
                   help="the last blessed model: its metrics.json, model.keras or model.onnx (or their directory)")
    p.add_argument("--max-regression", type=float, default=DEFAULT_MAX_REGRESSION, metavar="F",
                   help="with --baseline: accuracy may fall at most this far below it (default: %(default)s)")
    p.set_defaults(func=_cmd_evaluate)


def _cmd_export(args: argparse.Namespace) -> int:
    from alexnet_kfp.components.export import export

    record = export(args.model, args.out, opset=args.opset, metrics_path=args.metrics)
    print(f"wrote {args.out}/model.onnx: {record['bytes'] / 1e6:.1f} MB, opset {record['opset']}, "
          f"{record['conversion_seconds']:.0f} s, peak RSS {record['process_peak_rss_mib']} MiB")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from alexnet_kfp.components.parity import ParityError, verify

    try:
        result = verify(args.data, args.model, args.onnx, atol=args.atol, out_dir=args.out)
    except ParityError as e:
        print(f"alexnet-kfp verify: FAILED: {e}", file=sys.stderr)
        return EXIT_PARITY_FAILED
    print(f"parity passed on {result['images']} test images: max |delta p| {result['max_abs_diff']:.2g}, "
          f"mean {result['mean_abs_diff']:.2g}, top-1 agreement {result['argmax_agreement']:.2%}")
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    import json

    from alexnet_kfp.components.onnx_model import OnnxClassifier, expand_image_paths

    if not Path(args.model).is_file():
        raise InputError(f"--model {args.model}: no such file (expected model.onnx from `alexnet-kfp export`)")
    results = OnnxClassifier(args.model).predict_files(expand_image_paths(args.images), top_k=args.top_k)
    for result in results:
        if result.error:
            print(f"alexnet-kfp predict: error: {result.path}: {result.error}", file=sys.stderr)
        elif not args.json:
            print(f"{result.path}: " + ", ".join(f"{name} {p:.3f}" for name, p in result.top))
    if args.json:
        print(json.dumps([{"path": r.path, "top": [{"label": n, "probability": p} for n, p in r.top], "error": r.error}
                          for r in results], indent=2))
    return 2 if any(r.error for r in results) else 0


def _add_onnx_commands(sub) -> None:
    p = sub.add_parser("export", help="convert a Model to ONNX (model.onnx + export.json)",
                       description="Convert model.keras to model.onnx with tf2onnx: input `image` uint8 "
                       "[N,32,32,3] raw RGB pixels, output `probabilities` float32 [N,10]; class names and "
                       "provenance in the model's metadata.")
    p.add_argument("--model", required=True, metavar="DIR", help="Model directory from `alexnet-kfp train`")
    p.add_argument("--out", required=True, metavar="DIR", help="new (or empty) directory for the ONNX model")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default: %(default)s)")
    p.add_argument("--metrics", metavar="FILE", help="metrics.json from `alexnet-kfp evaluate`, to record the "
                   "test accuracy in the model's metadata")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("verify", help="prove onnxruntime matches Keras on the whole test split",
                       description="Run Keras and onnxruntime on every test image; write parity.json; exit "
                       f"{EXIT_PARITY_FAILED} when max |delta p| > atol or a top-1 class differs beyond a tie.")
    p.add_argument("--data", required=True, metavar="DIR", help="Dataset directory")
    p.add_argument("--model", required=True, metavar="DIR", help="Model directory (model.keras)")
    p.add_argument("--onnx", required=True, metavar="DIR", help="ONNX directory (model.onnx)")
    p.add_argument("--atol", type=float, default=1e-4, help="largest allowed |delta p| (default: %(default)s)")
    p.add_argument("--out", metavar="DIR", help="new directory for parity.json (default: into --onnx)")
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("predict", help="classify image files with an exported model (no TensorFlow needed)",
                       description="Classify PNG/JPEG/BMP/WebP/GIF/TIFF files of any size and mode with model.onnx. "
                       "Unreadable files are reported one by one; the exit code is 2 if any failed.")
    p.add_argument("images", nargs="+", metavar="IMAGE_OR_DIR", help="image files or directories of them")
    p.add_argument("--model", required=True, metavar="FILE", help="model.onnx from `alexnet-kfp export`")
    p.add_argument("--top-k", type=int, default=3, metavar="K", help="labels per image (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print JSON instead of one line per image")
    p.set_defaults(func=_cmd_predict)


REPO_PIPELINE_YAML = Path("pipeline.yaml")


def _cmd_compile(args: argparse.Namespace) -> int:
    from alexnet_kfp.pipeline.compile import compile_pipeline
    from alexnet_kfp.pipeline.ops import IMAGE
    from alexnet_kfp.pipeline.placement import Placement, parse_node_selector, parse_toleration

    defaults = Placement()
    node_selector = {} if args.no_node_selector else (
        parse_node_selector(args.node_selector) if args.node_selector else defaults.node_selector)
    tolerations = () if args.no_toleration else (
        tuple(map(parse_toleration, args.toleration)) if args.toleration else defaults.tolerations)
    placement = Placement(args.gpu_type, args.gpu_count, node_selector, tolerations, args.runtime_placement).check()
    compile_pipeline(Path(args.output), placement)
    where = ("CPU only" if not placement.uses_gpu else
             f"{placement.gpu_count} x {placement.gpu_type}, node selector {placement.node_selector or 'none'}, "
             f"{len(placement.tolerations)} toleration(s)" + (", as run-time parameters" if placement.runtime else ""))
    print(f"wrote {args.output} (components run in {IMAGE}; train task: {where})")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from alexnet_kfp.pipeline.local_run import QUICK, check_runnable, run_locally
    from alexnet_kfp.pipeline.parameters import parse_parameters

    check_runnable()
    parameters = dict(QUICK) if args.quick else {}
    chosen = {"source": args.source, "sha256": args.sha256, "md5": args.md5, "epochs": args.epochs,
              "variant": args.variant, "min_accuracy": args.min_accuracy, "limit_per_class": args.limit_per_class}
    parameters.update({k: v for k, v in chosen.items() if v is not None})
    if args.param:
        import tempfile

        from alexnet_kfp.pipeline.compile import compile_pipeline
        from alexnet_kfp.pipeline.parameters import declared_parameters

        with tempfile.TemporaryDirectory() as scratch:  # the installed pipeline's own declaration
            compile_pipeline(Path(scratch) / "pipeline.yaml")
            parameters.update(parse_parameters(args.param, declared_parameters(Path(scratch) / "pipeline.yaml")))
    try:
        summary = run_locally(parameters, Path(args.runs))
    except RuntimeError as e:
        print(f"alexnet-kfp run: FAILED: {e}", file=sys.stderr)
        return 1
    gate, parity = summary["gate"] or {}, summary["parity"] or {}
    print(f"\nrun finished in {summary['seconds']:.0f} s: {summary['run_dir']}")
    print(f"  test accuracy  {summary['accuracy']:.4f}")
    print(f"  gate           {'passed' if gate.get('passed') else 'failed'}: {gate.get('reason')}")
    print(f"  parity         max |delta p| {parity.get('max_abs_diff', float('nan')):.2g}, "
          f"top-1 agreement {parity.get('argmax_agreement', float('nan')):.2%} on {parity.get('images')} images")
    print(f"  report         {summary['report']}")
    print(f"  ONNX model     {summary['onnx_model']}")
    return 0


def _cmd_submit(args: argparse.Namespace) -> int:
    from alexnet_kfp.pipeline.submit import submit

    result = submit(Path(args.pipeline), args.host, args.namespace, args.token_env, args.experiment,
                    args.run_name, args.param or [], upload=args.upload)
    print(f"submitted run {result['run_id']} to {result['endpoint']}, namespace {result['namespace']}"
          + (f": {result['url']}" if result["url"] else ""))
    return 0


def _add_pipeline_commands(sub) -> None:
    from alexnet_kfp.pipeline.local_run import QUICK
    from alexnet_kfp.pipeline.placement import DEFAULT_GPU_TYPE, DEFAULT_NODE_SELECTOR

    p = sub.add_parser("compile", help="compile the Kubeflow pipeline to YAML",
                       description="Compile the pipeline to KFP v2 YAML. Components use the image in "
                       "ALEXNET_KFP_IMAGE (default: the project image tagged with the package version).")
    p.add_argument("--output", default=str(REPO_PIPELINE_YAML), metavar="FILE", help="default: %(default)s")
    gpu = p.add_argument_group("the train task's GPU node (written as constants: every KFP backend from 2.2 reads them)")
    gpu.add_argument("--gpu-type", default=DEFAULT_GPU_TYPE, metavar="RESOURCE",
                     help="the accelerator's extended resource name (default: %(default)s; amd.com/gpu for AMD)")
    gpu.add_argument("--gpu-count", type=int, default=1, metavar="N",
                     help="GPUs for the train pod; 0 compiles a CPU-only pipeline (default: %(default)s)")
    gpu.add_argument("--node-selector", action="append", metavar="KEY=VALUE",
                     help="node label the train pod must match (repeatable; default: "
                     + ", ".join(f"{k}={v}" for k, v in DEFAULT_NODE_SELECTOR.items()) + ")")
    gpu.add_argument("--no-node-selector", action="store_true", help="no node selector at all")
    gpu.add_argument("--toleration", action="append", metavar="KEY[=VALUE]:EFFECT",
                     help="a taint the train pod tolerates, as `kubectl taint` writes it (repeatable; default: "
                     "nvidia.com/gpu:NoSchedule, any value)")
    gpu.add_argument("--no-toleration", action="store_true", help="no toleration at all")
    gpu.add_argument("--runtime-placement", action="store_true",
                     help="instead of constants, make the placement four run-time pipeline parameters (gpu_type, "
                     "gpu_count, gpu_node_selector, gpu_tolerations) with the values above as defaults; needs "
                     "a KFP backend >= 2.5.0 (Kubeflow >= 1.10.1)")
    p.set_defaults(func=_cmd_compile)

    p = sub.add_parser("run", help="run the whole pipeline locally (kfp.local, no cluster, no Docker)",
                       description="Run data -> train -> evaluate -> gate -> export -> verify on this machine "
                       "with kfp.local's SubprocessRunner; artifacts under RUNS/<UTC timestamp>/.")
    _add_source_options(p, None)
    p.add_argument("--quick", action="store_true", help="a laptop-sized run: " + ", ".join(
        f"{key}={value}" for key, value in QUICK.items()))
    p.add_argument("--epochs", type=int)
    p.add_argument("--variant", choices=("seed", "cifar"))
    p.add_argument("--min-accuracy", type=float, metavar="F")
    p.add_argument("--limit-per-class", type=int, metavar="N")
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help="any other pipeline parameter (repeatable)")
    p.add_argument("--runs", default="runs", metavar="DIR", help="where run directories go (default: %(default)s)")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("submit", help="submit pipeline.yaml to a Kubeflow Pipelines endpoint",
                       description="Create a run of the compiled pipeline on Kubeflow Pipelines.")
    p.add_argument("--host", help="KFP API endpoint (default: $KF_PIPELINES_ENDPOINT; inside a Kubeflow Notebook "
                   "the in-cluster service with the pod's pipelines token; else the kubeconfig's cluster)")
    p.add_argument("--namespace", help="Kubeflow profile namespace (default: the notebook pod's own, or the "
                   "kubeconfig context's, else kubeflow)")
    p.add_argument("--token-env", metavar="NAME", help="environment variable holding a bearer token (never printed)")
    p.add_argument("--experiment", default="alexnet-kfp", help="default: %(default)s")
    p.add_argument("--run-name", help="default: chosen by KFP")
    p.add_argument("--pipeline", default=str(REPO_PIPELINE_YAML), metavar="FILE", help="default: %(default)s")
    p.add_argument("--upload", action="store_true", help="also register the package as a pipeline version")
    p.add_argument("param", nargs="*", metavar="KEY=VALUE", help="pipeline parameters, e.g. epochs=60")
    p.set_defaults(func=_cmd_submit)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alexnet-kfp",
        description="AlexNet on CIFAR-10 as a Kubeflow pipeline: each step as a command.",
    )
    parser.add_argument("--version", action="version", version=f"alexnet-kfp {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_data(sub)
    _add_train(sub)
    _add_evaluate(sub)
    _add_onnx_commands(sub)
    _add_pipeline_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()
    try:
        return args.func(args)
    except InputError as e:
        if args.debug:
            raise
        print(f"alexnet-kfp {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"alexnet-kfp {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        if args.debug:
            raise
        print(f"alexnet-kfp {args.command}: failed: {type(e).__name__}: {e} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return 1

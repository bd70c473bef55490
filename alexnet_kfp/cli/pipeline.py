"""`alexnet-kfp compile`, `run` and `submit`: the Kubeflow pipeline's faces
(alexnet_kfp.pipeline)."""

import argparse
import sys
from pathlib import Path

from alexnet_kfp.cli.options import command, option
from alexnet_kfp.errors import InputError
from alexnet_kfp.pipeline.parameters import PARAMETERS, PLACEMENT_PARAMETERS
from alexnet_kfp.pipeline.profiles import LOCAL, QUICK

REPO_PIPELINE_YAML = Path("pipeline.yaml")


def _cmd_compile(args: argparse.Namespace) -> int:
    """Compile the pipeline to KFP v2 YAML. Components use the image in ALEXNET_KFP_IMAGE
    (default: the project image tagged with the package version)."""
    from alexnet_kfp.components import IMAGE
    from alexnet_kfp.pipeline.compile import compile_pipeline
    from alexnet_kfp.pipeline.placement import Placement, parse_node_selector, parse_toleration

    defaults = Placement()
    node_selector = (
        {}
        if args.no_node_selector
        else (
            parse_node_selector(args.node_selector)
            if args.node_selector
            else defaults.node_selector
        )
    )
    tolerations = (
        ()
        if args.no_toleration
        else (
            tuple(map(parse_toleration, args.toleration))
            if args.toleration
            else defaults.tolerations
        )
    )
    placement = Placement(
        args.gpu_type, args.gpu_count, node_selector, tolerations, args.runtime_placement
    ).check()
    compile_pipeline(Path(args.output), placement, checkpoint=not args.no_checkpoint)
    where = (
        "CPU only"
        if not placement.uses_gpu
        else f"{placement.gpu_count} x {placement.gpu_type}, node selector "
        f"{placement.node_selector or 'none'}, {len(placement.tolerations)} toleration(s)"
        + (", as run-time parameters" if placement.runtime else "")
    )
    where += "; no checkpoint" if args.no_checkpoint else "; checkpoint in the run's workspace"
    print(f"wrote {args.output} (components run in {IMAGE}; train task: {where})")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    """Run data -> train -> evaluate -> gate -> export -> verify on this machine with
    kfp.local's SubprocessRunner; artifacts under RUNS/<UTC timestamp>/. It trains on the CPU, so
    its defaults differ from the compiled pipeline's (GPU): {local}."""
    from alexnet_kfp.data.fetch import is_url, local_path
    from alexnet_kfp.pipeline.local_run import (
        PipelineFailed,
        check_runnable,
        run_locally,
    )

    check_runnable()
    from alexnet_kfp.pipeline.arguments import (
        check_arguments,
        parse_parameters,
        pipeline_parameters,
    )
    from alexnet_kfp.pipeline.pipeline import alexnet_pipeline

    parameters = dict(QUICK.values) if args.quick else {}
    chosen = {p.name: getattr(args, p.name) for p in PARAMETERS}
    parameters.update({k: v for k, v in chosen.items() if v is not None})
    declared = pipeline_parameters(alexnet_pipeline)
    parameters.update(parse_parameters(args.param or [], declared))
    check_arguments({**LOCAL.values, **parameters}, declared)
    if parameters.get("source") and not is_url(parameters["source"]):
        try:  # the data step's own check, before any step starts; here the value came from --source
            local_path(parameters["source"])
        except InputError as e:
            raise InputError(f"--{e}") from None
    try:
        summary = run_locally(parameters, Path(args.runs), verbose=args.verbose)
    except PipelineFailed as e:
        refusal = e.bad_input()
        if refusal:
            raise InputError(f"{refusal} (full log: {e.log})") from None
        print(f"alexnet-kfp run: FAILED: {e}", file=sys.stderr)
        return 1
    gate, parity = summary["gate"] or {}, summary["parity"] or {}
    print(f"\nrun finished in {summary['seconds']:.0f} s: {summary['run_dir']}")
    print(f"  test accuracy  {summary['accuracy']:.4f}")
    print(f"  gate           {'passed' if gate.get('passed') else 'failed'}: {gate.get('reason')}")
    print(
        f"  parity         max |delta p| {parity.get('max_abs_diff', float('nan')):.2g}, top-1 "
        f"agreement {parity.get('argmax_agreement', float('nan')):.2%} on {parity.get('images')} "
        "images"
    )
    int8 = parity.get("int8") or {}
    print(
        f"  int8           accuracy {int8.get('int8_accuracy', float('nan')):.4f} vs float32 "
        f"{int8.get('float32_accuracy', float('nan')):.4f}, top-1 agreement "
        f"{int8.get('top1_agreement', float('nan')):.2%}"
    )
    latest = Path(args.runs) / "latest"
    print(f"  report         {latest / 'report.html'}")
    print(f"  ONNX models    {latest / 'onnx_model'} (model.onnx, model.int8.onnx)")
    print("next:")
    print(f"  alexnet-kfp predict {latest / 'samples'} --model {latest / 'onnx_model'}")
    print(f"  alexnet-kfp serve --model {latest / 'onnx_model'}   # needs the serve extra")
    return 0


def _cmd_submit(args: argparse.Namespace) -> int:
    """Create a run of the compiled pipeline on Kubeflow Pipelines."""
    from alexnet_kfp.pipeline.submit import submit

    result = submit(
        Path(args.pipeline) if args.pipeline else None,
        args.host,
        args.namespace,
        args.token_env,
        args.experiment,
        args.run_name,
        args.param or [],
        upload=args.upload,
        timeout_s=args.timeout,
    )
    print(
        f"submitted run {result['run_id']} to {result['endpoint']}, namespace {result['namespace']}"
        + (f": {result['url']}" if result["url"] else "")
    )
    return 0


def add(sub) -> None:
    from alexnet_kfp.pipeline.endpoint import DEFAULT_TIMEOUT_S
    from alexnet_kfp.pipeline.placement import DEFAULT_GPU_TYPE, DEFAULT_NODE_SELECTOR

    p = command(sub, _cmd_compile, "compile the Kubeflow pipeline to YAML")
    option(p, "--output", str(REPO_PIPELINE_YAML), "the YAML file to write", metavar="FILE")
    keep = "no checkpoint in the run's KFP workspace (which needs a KFP backend >= 2.15.0): a "
    keep += "retried train task starts again from its first epoch; every backend from 2.2 runs it"
    p.add_argument("--no-checkpoint", action="store_true", help=keep)
    gpu = p.add_argument_group(
        "the train task's GPU node (written as constants: every KFP backend from 2.2 reads them)"
    )
    resource = "the accelerator's extended resource name (amd.com/gpu for AMD)"
    option(gpu, "--gpu-type", DEFAULT_GPU_TYPE, resource, metavar="RESOURCE")
    option(
        gpu, "--gpu-count", 1, "GPUs for the train pod; 0 compiles a CPU-only pipeline", metavar="N"
    )
    selector = ", ".join(f"{k}={v}" for k, v in DEFAULT_NODE_SELECTOR.items())
    label = f"node label the train pod must match (repeatable; default: {selector})"
    gpu.add_argument("--node-selector", action="append", metavar="KEY=VALUE", help=label)
    gpu.add_argument("--no-node-selector", action="store_true", help="no node selector at all")
    taint = "a taint the train pod tolerates, as `kubectl taint` writes it (repeatable; default: "
    taint += "nvidia.com/gpu:NoSchedule, any value)"
    gpu.add_argument("--toleration", action="append", metavar="KEY[=VALUE]:EFFECT", help=taint)
    gpu.add_argument("--no-toleration", action="store_true", help="no toleration at all")
    runtime = "instead of constants, make the placement four run-time pipeline parameters "
    runtime += "(gpu_type, gpu_count, gpu_node_selector, gpu_tolerations) with the values above as "
    runtime += "defaults; needs a KFP backend >= 2.5.0 (Kubeflow >= 1.10.1)"
    gpu.add_argument("--runtime-placement", action="store_true", help=runtime)

    local = ", ".join(f"{key}={value}" for key, value in LOCAL.values.items())
    help_text = "run the whole pipeline locally (kfp.local, no cluster, no Docker)"
    p = command(sub, _cmd_run, help_text, local=local)
    quick = ", ".join(f"{key}={value}" for key, value in QUICK.changes(LOCAL).items())
    p.add_argument("--quick", action="store_true", help=f"a small, fast run: {quick}")
    other = "any pipeline parameter as KEY=VALUE (repeatable; the flags below are the same)"
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help=other)
    option(p, "--runs", "runs", "where run directories go", metavar="DIR")
    everything = "show kfp.local's whole output (default: each step, the epochs and the gate; the "
    everything += "rest is in the run's run.log)"
    p.add_argument("--verbose", action="store_true", help=everything)
    _parameter_flags(
        p.add_argument_group("pipeline parameters (default: the pipeline's, or local's)")
    )

    p = command(
        sub,
        _cmd_submit,
        "submit pipeline.yaml to a Kubeflow Pipelines endpoint",
        epilog=_parameter_list(),
    )
    host = "KFP API endpoint (default: $KF_PIPELINES_ENDPOINT; inside a Kubeflow Notebook the "
    host += "in-cluster service with the pod's pipelines token; else the kubeconfig's cluster)"
    p.add_argument("--host", help=host)
    namespace = "Kubeflow profile namespace (default: the notebook pod's own, or the kubeconfig "
    namespace += "context's, else kubeflow)"
    p.add_argument("--namespace", help=namespace)
    token = "environment variable holding a bearer token (never printed)"
    p.add_argument("--token-env", metavar="NAME", help=token)
    option(p, "--experiment", "alexnet-kfp", "the KFP experiment")
    p.add_argument("--run-name", help="default: chosen by KFP")
    pipeline = "a compiled pipeline (e.g. from `alexnet-kfp compile --gpu-count 2`); default: the "
    pipeline += "pipeline this installation carries, compiled afresh (pipeline.yaml's bytes)"
    p.add_argument("--pipeline", metavar="FILE", help=pipeline)
    upload = "also register the package as a pipeline version"
    p.add_argument("--upload", action="store_true", help=upload)
    timeout = "give up when the endpoint has not answered within this, retries included"
    option(p, "--timeout", DEFAULT_TIMEOUT_S, timeout, metavar="SECONDS")
    example = "pipeline parameters, e.g. epochs=60"
    p.add_argument("param", nargs="*", metavar="KEY=VALUE", help=example)


_METAVARS = {str: "TEXT", int: "N", float: "F"}


def _parameter_flags(group) -> None:
    """One flag per pipeline parameter, from the table: --learning-rate 3e-4 is
    --param learning_rate=3e-4. Unset flags leave the profile's or the pipeline's default."""
    local = LOCAL.values
    for parameter in PARAMETERS:
        default = local.get(parameter.name, parameter.default)
        shown = "empty" if default == "" else default
        settings: dict = {"help": f"{parameter.help} (default: {shown})".replace("%", "%%")}
        if parameter.type is bool:
            settings["action"] = argparse.BooleanOptionalAction
        elif parameter.choices:
            settings.update(type=parameter.type, choices=parameter.choices)
        else:
            settings.update(type=parameter.type, metavar=_METAVARS[parameter.type])
        group.add_argument(f"--{parameter.name.replace('_', '-')}", **settings)


def _parameter_list() -> str:
    """`submit --help`'s list of the pipeline's parameters, from the table."""
    lines = ["pipeline parameters (KEY=VALUE; default: the compiled pipeline's):"]
    for parameter in PARAMETERS + PLACEMENT_PARAMETERS:
        lines.append(
            f"  {parameter.name} ({parameter.type.__name__}, default {parameter.default!r})"
        )
        lines.append(f"      {parameter.described}")
    lines.append("  (the last four only in a pipeline compiled with --runtime-placement)")
    return "\n".join(lines).replace("%", "%%")

"""`alexnet-kfp compile`, `run` and `submit`: the Kubeflow pipeline's faces
(alexnet_kfp.pipeline)."""

import argparse
import json
import sys
import tempfile
import textwrap
from pathlib import Path

from alexnet_kfp.cli.options import (
    argument_type,
    command,
    config_flags,
    config_from,
    integer_argument,
    option,
)
from alexnet_kfp.errors import InputError
from alexnet_kfp.pipeline.parameters import (
    DEFAULT_PARALLELISM,
    PARAMETERS,
    PLACEMENT_PARAMETERS,
    check_parallelism,
)
from alexnet_kfp.pipeline.profiles import LOCAL, PROFILES, QUICK
from alexnet_kfp.pipeline.sampling import DISTRIBUTIONS
from alexnet_kfp.pipeline.submit_config import SubmitConfig
from alexnet_kfp.train.halving import DEFAULT_RUNGS, ETAS, RUNGS, Halving
from alexnet_kfp.untrusted import MAX_VALUE_FILE_BYTES, integer, json_value, read_file

REPO_PIPELINE_YAML = Path("pipeline.yaml")
REPO_SWEEP_YAML = Path("sweep.yaml")


# What a workspace's access mode does to trials that run at once (docs/sweep.md).
WORKSPACE_SHARING = {
    "ReadWriteOnce": " (a ReadWriteOnce workspace: trials on a second node wait for it)",
    "ReadWriteOncePod": " (a ReadWriteOncePod workspace: one trial at a time)",
}


def _cmd_compile(args: argparse.Namespace) -> int:
    """Compile the pipeline to KFP v2 YAML. Components use the image in ALEXNET_KFP_IMAGE
    (default: the project image tagged with the package version)."""
    from alexnet_kfp.components import IMAGE
    from alexnet_kfp.files import output_file
    from alexnet_kfp.pipeline.compile import compile_pipeline
    from alexnet_kfp.pipeline.placement import Placement, parse_node_selector, parse_toleration
    from alexnet_kfp.pipeline.workspace import DEFAULT_ACCESS_MODE, Workspace

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
    if args.parallelism is not None and not args.sweep:
        raise InputError("--parallelism is the sweep's: add --sweep")
    parallelism = None
    if args.sweep:
        given = DEFAULT_PARALLELISM if args.parallelism is None else args.parallelism
        parallelism = check_parallelism(given)
    output = output_file(
        args.output or str(REPO_SWEEP_YAML if args.sweep else REPO_PIPELINE_YAML), "--output"
    )
    workspace = Workspace(
        args.workspace_access_mode or DEFAULT_ACCESS_MODE, args.workspace_storage_class or ""
    )
    if args.no_checkpoint and (args.workspace_access_mode or args.workspace_storage_class):
        raise InputError("--workspace-* set the checkpoint's volume: drop them or --no-checkpoint")
    if args.trials and not args.sweep:
        raise InputError("--trials is the sweep's: add --sweep")
    halving = _halving_of(args, "--sweep" if args.sweep else "")
    if halving and args.no_checkpoint:
        raise InputError("--halving goes on from each trial's checkpoint: drop --no-checkpoint")
    listed = _read_trials(Path(args.trials)) if args.trials else None
    with tempfile.TemporaryDirectory() as scratch:
        written = output or Path(scratch) / "pipeline.yaml"  # `-`: compiled, then printed
        checkpoint = not args.no_checkpoint
        compile_pipeline(written, placement, checkpoint, parallelism, workspace, listed, halving)
        if output is None:
            sys.stdout.write(written.read_text())
    where = (
        "CPU only"
        if not placement.uses_gpu
        else f"{placement.gpu_count} x {placement.gpu_type}, node selector "
        f"{placement.node_selector or 'none'}, {len(placement.tolerations)} toleration(s)"
        + (", as run-time parameters" if placement.runtime else "")
    )
    where += "; no checkpoint" if args.no_checkpoint else "; checkpoint in the run's workspace"
    if halving:
        where = f"{where}; successive halving by {halving.eta} over {halving.rungs} rungs"
    if parallelism:
        where = f"{where}; at most {parallelism} trials at once"
        if parallelism > 1 and not args.no_checkpoint:
            where += WORKSPACE_SHARING.get(workspace.access_mode, "")
    task = "each trial" if args.sweep else "train task"
    said = f"wrote {output or 'the YAML to standard output'} (components run in {IMAGE}; "
    print(f"{said}{task}: {where})", file=sys.stdout if output else sys.stderr)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    """Run data -> train -> evaluate -> gate -> export -> verify on this machine with
    kfp.local's SubprocessRunner; artifacts under RUNS/<UTC timestamp>/. It trains on the CPU, so
    it overrides some of the pipeline's defaults by a profile: {local}; with --quick, {quick}."""
    from alexnet_kfp.pipeline.local_run import PipelineFailed, run
    from alexnet_kfp.pipeline.run_summary import summary_lines

    chosen = {p.name: getattr(args, p.name) for p in PARAMETERS}
    given = {name: value for name, value in chosen.items() if value is not None}
    if args.trials:
        given["trials"] = _read_trials(Path(args.trials))
    halving = _halving_of(args, "--trials FILE" if args.trials else "")
    try:
        summary = run(
            given, args.param or [], Path(args.runs), args.quick, args.verbose, args.mlflow, halving
        )
    except PipelineFailed as e:
        print(f"alexnet-kfp run: FAILED: {e}", file=sys.stderr)
        return 1
    print("\n".join(summary_lines(summary, Path(args.runs))))
    return 0


def _halving_of(args: argparse.Namespace, sweep: str) -> Halving | None:
    """The successive halving `--halving ETA [--rungs R]` ask for, or one line; `sweep`: the flag
    that makes the command a sweep, empty when absent."""
    if args.rungs is not None and args.halving is None:
        raise InputError("--rungs is successive halving's: add --halving ETA")
    if args.halving is None:
        return None
    if not sweep:
        raise InputError("--halving is the sweep's: add --trials FILE (compile: --sweep)")
    rungs = DEFAULT_RUNGS if args.rungs is None else args.rungs
    return Halving(args.halving, rungs).check()


def _add_halving(p: argparse.ArgumentParser) -> None:
    """--halving and --rungs, for `run --trials` and `compile --sweep`."""
    eta = f"successive halving: after each rung keep the best 1/ETA of the trials ({ETAS[0]}-"
    eta += f"{ETAS[-1]}); the others stop, the kept go on from their checkpoints (docs/sweep.md)"
    p.add_argument("--halving", type=integer_argument, metavar="ETA", help=eta)
    rungs = f"the rungs of --halving ({RUNGS[0]}-{RUNGS[-1]}, default {DEFAULT_RUNGS}): the first "
    rungs += "trains epochs/ETA^(R-1) epochs, the last the whole budget"
    p.add_argument("--rungs", type=integer_argument, metavar="R", help=rungs)


def _read_trials(path: Path) -> object:
    """The JSON in `path` (`run --trials FILE`), checked with the run's parameters later: its size
    and nesting first."""
    what = f"--trials {path}"
    return json_value(read_file(path, what, MAX_VALUE_FILE_BYTES), what)


def _cmd_sweep(args: argparse.Namespace) -> int:
    """Write a sweep's trials: the product of the --grid values, or --count trials drawn from the
    --sample distributions (then each with every one of --seeds), as the JSON list that
    `alexnet-kfp run --trials FILE` and `alexnet-kfp submit --pipeline sweep.yaml trials=@FILE`
    take, each trial checked as the sweep's plan step will check it. Examples:
    alexnet-kfp sweep --grid learning_rate=1e-3,3e-4 --grid variant=article,cifar --seeds 0,1
    alexnet-kfp sweep --sample learning_rate=loguniform:1e-4:1e-2 --sample
    variant=choice:article,cifar --count 16 --seed 0"""
    from alexnet_kfp.files import STDOUT, output_file, write_atomically
    from alexnet_kfp.pipeline.grid import grid_trials
    from alexnet_kfp.pipeline.sampling import sampled_trials

    output = output_file(args.output or STDOUT, "--output")
    if args.sample and args.grid:
        raise InputError("give --grid or --sample, not both: a grid lists values, a sample draws")
    if args.sample:
        if args.count is None:
            raise InputError("--sample draws --count N trials: give --count")
        trials = sampled_trials(args.sample, args.count, args.seed, args.seeds)
    else:
        if args.count is not None:
            raise InputError("--count draws --sample trials: a --grid's count is its product")
        trials = grid_trials(args.grid or [], args.seeds)
    text = "[\n" + ",\n".join(f"  {json.dumps(trial)}" for trial in trials) + "\n]\n"
    if output:
        write_atomically(output, text)
        print(f"wrote {len(trials)} trials to {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _seeds(text: str) -> list[int]:
    try:
        return [integer(seed, "seed") for seed in text.split(",")]
    except InputError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of seeds"
        ) from None


def _cmd_submit(args: argparse.Namespace) -> int:
    """Create a run of the compiled pipeline on Kubeflow Pipelines."""
    from alexnet_kfp.pipeline.submit import submit

    result = submit(config_from(SubmitConfig, args), args.param or [])
    print(
        f"submitted run {result.run_id} to {result.endpoint}, namespace {result.namespace}"
        + (f": {result.url}" if result.url else "")
    )
    return 0


def add(sub) -> None:
    _add_compile(sub)
    _add_run(sub)
    _add_sweep(sub)
    _add_submit(sub)


def _add_compile(sub) -> None:
    """`compile`: the pipeline or the sweep as YAML, with the GPU node's placement."""
    from alexnet_kfp.pipeline.placement import DEFAULT_GPU_TYPE, DEFAULT_NODE_SELECTOR

    p = command(sub, _cmd_compile, "compile the Kubeflow pipeline (or the sweep) to YAML")
    written = f"the YAML file to write, - for standard output (default: {REPO_PIPELINE_YAML}, "
    written += f"with --sweep {REPO_SWEEP_YAML})"
    p.add_argument("--output", metavar="FILE", help=written)
    sweep = "the sweep instead: trials of training settings fanned out over GPU nodes, the best "
    sweep += "by validation accuracy evaluated, exported and verified (docs/sweep.md)"
    p.add_argument("--sweep", action="store_true", help=sweep)
    at_once = "the sweep's trials that run at once, each on its own GPU (default: "
    at_once += f"{DEFAULT_PARALLELISM}; KFP fixes it when compiling)"
    p.add_argument("--parallelism", type=integer_argument, metavar="N", help=at_once)
    listed = "the sweep's default trials, from FILE (a JSON list: `alexnet-kfp sweep` writes one; "
    listed += "default: two learning rates), checked before anything is written"
    p.add_argument("--trials", metavar="FILE", help=listed)
    _add_halving(p)
    keep = "no checkpoint in the run's KFP workspace (which needs a KFP backend >= 2.15.0): a "
    keep += "retried train task starts again from its first epoch; every backend from 2.2 runs it"
    p.add_argument("--no-checkpoint", action="store_true", help=keep)
    mode = "the workspace volume's access mode: ReadWriteOnce (default: every StorageClass has "
    mode += "it), ReadWriteMany (a sweep's trials on several GPU nodes at once need it), "
    mode += "ReadWriteOncePod, or server (the KFP API server's workspace config names it)"
    p.add_argument("--workspace-access-mode", metavar="MODE", help=mode)
    storage = "the workspace volume's StorageClass (default: the KFP API server's, else the "
    storage += "cluster's default)"
    p.add_argument("--workspace-storage-class", metavar="NAME", help=storage)
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


def _add_run(sub) -> None:
    """`run`: the pipeline on this machine, one flag per pipeline parameter."""
    help_text = "run the whole pipeline locally (kfp.local, no cluster, no Docker)"
    p = command(sub, _cmd_run, help_text, local=LOCAL.described(), quick=QUICK.described())
    quick = ", ".join(f"{key} {value}" for key, value in QUICK.changes(LOCAL).items())
    p.add_argument("--quick", action="store_true", help=f"a small, fast run: {quick}")
    other = "any pipeline parameter as KEY=VALUE (repeatable; the flags below are the same)"
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help=other)
    option(p, "--runs", "runs", "where run directories go", metavar="DIR")
    everything = "show kfp.local's whole output (default: each step, the epochs and the gate; the "
    everything += "rest is in the run's run.log)"
    p.add_argument("--verbose", action="store_true", help=everything)
    tracked = "log the run to this MLflow tracking server, e.g. http://127.0.0.1:5000: one MLflow "
    tracked += "run with the parameters, each step a nested run (default: $MLFLOW_TRACKING_URI; "
    tracked += "needs the tracking extra; docs/tracking.md)"
    p.add_argument("--mlflow", metavar="URI", help=tracked)
    _parameter_flags(
        p.add_argument_group(
            "pipeline parameters (default: the pipeline's, or the profile's where it sets one)"
        )
    )

    p.add_argument(
        "--trials",
        metavar="FILE",
        help="run the sweep over the trials in FILE (a JSON list: `alexnet-kfp sweep` writes "
        "one); the parameters below are each trial's defaults",
    )
    _add_halving(p)


def _add_sweep(sub) -> None:
    """`sweep`: a grid of trials, or trials drawn at random, as JSON."""
    p = command(
        sub,
        _cmd_sweep,
        "write a sweep's trials: a grid of training settings, or settings drawn at random",
    )
    grid = "a training parameter and its values, e.g. learning_rate=1e-3,3e-4 (repeatable: the "
    grid += "trials are the product)"
    p.add_argument("--grid", action="append", metavar="KEY=V1,V2", help=grid)
    seeds = "also repeat every trial with each of these seeds, e.g. 0,1,2 (weights, shuffling, "
    seeds += "augmentation; the data split keeps the run's seed)"
    p.add_argument("--seeds", type=_seeds, metavar="S1,S2", help=seeds)
    sample = "a training parameter and the distribution its values are drawn from (repeatable): "
    sample += "; ".join(DISTRIBUTIONS.values())
    p.add_argument("--sample", action="append", metavar="KEY=DIST:ARGS", help=sample)
    p.add_argument(
        "--count", type=integer_argument, metavar="N", help="how many --sample trials to draw"
    )
    drawn = "the seed of the --sample draws: the same seed, the same trials (default: 0)"
    p.add_argument("--seed", type=integer_argument, default=0, metavar="S", help=drawn)
    listed = "write the list to FILE (default, or -: standard output)"
    p.add_argument("--output", metavar="FILE", help=listed)


def _add_submit(sub) -> None:
    """`submit`: a compiled pipeline to a Kubeflow Pipelines endpoint."""
    p = command(
        sub,
        _cmd_submit,
        "submit pipeline.yaml to a Kubeflow Pipelines endpoint",
        epilog=_parameter_list(),
    )
    config_flags(p, SubmitConfig)
    example = "pipeline parameters, e.g. epochs=60"
    p.add_argument("param", nargs="*", metavar="KEY=VALUE", help=example)


_METAVARS = {str: "TEXT", int: "N", float: "F"}


def _parameter_flags(group) -> None:
    """One flag per pipeline parameter, from the table: --learning-rate 3e-4 is
    --param learning_rate=3e-4. Unset flags leave the profile's or the pipeline's default; the
    help says both: "(pipeline: 100; profile local: 8, quick: 6)"."""
    for parameter in PARAMETERS:
        shown = "empty" if parameter.default == "" else parameter.default
        overrides = [
            f"{profile.name}: {profile.values[parameter.name]}"
            for profile in PROFILES
            if parameter.name in profile.values
        ]
        default = f"pipeline: {shown}" + (f"; profile {', '.join(overrides)}" if overrides else "")
        settings: dict = {"help": f"{parameter.help} ({default})".replace("%", "%%")}
        if parameter.type is bool:
            settings["action"] = argparse.BooleanOptionalAction
        elif parameter.choices:
            settings.update(type=argument_type(parameter.type), choices=parameter.choices)
        else:
            kind = argument_type(parameter.type)
            settings.update(type=kind, metavar=_METAVARS[parameter.type])
        group.add_argument(f"--{parameter.name.replace('_', '-')}", **settings)


def _parameter_list() -> str:
    """`submit --help`'s list of the pipeline's parameters, from the table."""
    lines = ["pipeline parameters (KEY=VALUE; default: the compiled pipeline's):"]
    for parameter in PARAMETERS + PLACEMENT_PARAMETERS:
        kind, default = parameter.type.__name__, json.dumps(parameter.default)
        lines.append(f"  {parameter.name} ({kind}, default {default})")
        lines += textwrap.wrap(
            parameter.described, 78, initial_indent=" " * 6, subsequent_indent=" " * 6
        )
    lines.append("  (the last four only in a pipeline compiled with --runtime-placement)")
    return "\n".join(lines).replace("%", "%%")

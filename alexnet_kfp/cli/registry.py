"""`alexnet-kfp register` and `promote`: a finished run's model into MLflow's registry after the
fact, and an alias moved from one version to another by a rule."""

import argparse
import contextlib
import sys
from pathlib import Path

from alexnet_kfp.cli.options import command
from alexnet_kfp.tracking.registry import DEFAULT_ALIAS


def _cmd_register(args: argparse.Namespace) -> int:
    """Register a finished run of `alexnet-kfp run` (its gate passed, its ONNX model verified)
    in the MLflow registry of MLFLOW_TRACKING_URI, as one made without a tracker."""
    from alexnet_kfp.tracking.registry import register_run

    with contextlib.redirect_stdout(sys.stderr):  # MLflow prints a link to each run it ends
        registered = register_run(Path(args.run_dir), args.name, args.alias)
    alias = f"alias {registered.alias}" if registered.alias else "a trial model: no alias"
    print(f"registered {registered.uri} ({alias})")
    if registered.alias:
        print(f"next: alexnet-kfp promote {args.name} --from {registered.alias}")
    return 0


def _cmd_promote(args: argparse.Namespace) -> int:
    """Move alias --to of a registered model to the version alias --from names, when that
    version passed its gate and verify, is not a trial and scores no lower on its test split
    than the version --to names now (--force: anyway, recorded in the version's tags)."""
    from alexnet_kfp.tracking.promotion import FORCED_TAG, promote

    done = promote(args.name, args.source, args.target, args.force)
    chosen, previous = done.chosen, done.previous
    uri = f"models:/{done.name}/{chosen.number}"
    if not done.changed:
        print(f"{done.name}@{done.target} is {uri} already: nothing to move")
        return 0
    was = f"models:/{done.name}/{previous.number}" if previous else "no version"
    score = f"test accuracy {chosen.tags.get('test_accuracy', '?')}"
    if previous:
        score += f" (was {previous.tags.get('test_accuracy', '?')})"
    print(f"promoted {uri} ({done.source}) to {done.target}, which named {was}: {score}")
    if done.broken:
        print(f"forced past: {'; '.join(done.broken)} (recorded in its tag {FORCED_TAG})")
    print(f"serve it: alexnet-kfp serve --model models:/{done.name}@{done.target}")
    return 0


def add(sub) -> None:
    p = command(sub, _cmd_register, "register a finished run's verified model in MLflow")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run of `alexnet-kfp run` (runs/latest)")
    p.add_argument("--name", required=True, help="the registered model's name")
    alias = f"the alias the new version gets (default: {DEFAULT_ALIAS}; a trial model gets one "
    alias += "only when it is given)"
    p.add_argument("--alias", help=alias)

    p = command(sub, _cmd_promote, "move an alias to another registered version, by a rule")
    p.add_argument("name", metavar="NAME", help="the registered model's name")
    source = f"the alias of the version to promote (default: {DEFAULT_ALIAS})"
    p.add_argument("--from", dest="source", metavar="ALIAS", default=DEFAULT_ALIAS, help=source)
    target = "the alias to move to it (default: production)"
    p.add_argument("--to", dest="target", metavar="ALIAS", default="production", help=target)
    forced = "promote it even where the rule says no; the output and the version's "
    forced += "promoted_by_force tag say which rule"
    p.add_argument("--force", action="store_true", help=forced)

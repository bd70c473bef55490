"""The sweep's own components: plan (check and complete the trials), trial (train one, its
failure reported as its result), keep (a halving sweep's best of a rung, which go on) and select
(the best by validation, and the table of all). The rest of the sweep is the pipeline's own
components. `halving_eta` 0 is a sweep without halving."""

from typing import List, NamedTuple  # noqa: UP035 (KFP reads typing.List in an input's type)

from kfp.dsl import Artifact, Dataset, Input, Markdown, Metrics, Model, Output

from alexnet_kfp.components import component


@component
def plan_op(
    trials: list,
    variant: str,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    precision: str,
    seed: int,
    crop_padding: int,
    plateau_patience: int,
    plateau_factor: float,
    final_decay_fraction: float,
    require_gpu: bool,
    halving_eta: int,
    halving_rungs: int,
    stopped: Output[Artifact],
) -> List[dict]:  # noqa: UP006 (KFP reads typing.List; the item type makes each trial a STRUCT)
    """The trials, checked and completed: each {"index", "given": what it sets, "settings": every
    training parameter, the run's own where it sets none}; and `stopped`, the trials stopped so
    far (none: a halving sweep's keep steps add theirs). Every argument but `trials` and the
    halving's is a TrainConfig field of the same name."""
    from alexnet_kfp.process import one_line_errors, setup
    from alexnet_kfp.progress import finished, tell
    from alexnet_kfp.records import TrainingValues
    from alexnet_kfp.train.halving import parse_halving, write_trials
    from alexnet_kfp.train.trials import plan_trials

    defaults: TrainingValues = {
        "variant": variant,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "precision": precision,
        "seed": seed,
        "crop_padding": crop_padding,
        "plateau_patience": plateau_patience,
        "plateau_factor": plateau_factor,
        "final_decay_fraction": final_decay_fraction,
        "require_gpu": require_gpu,
    }
    setup("plan")
    with one_line_errors("plan"):
        planned = plan_trials(trials, defaults, parse_halving(halving_eta, halving_rungs))
        write_trials([], stopped.path)
    tell("plan", f"plan: {len(planned)} trials")
    finished("plan")
    return [dict(trial) for trial in planned]


@component
def trial_op(
    dataset: Input[Dataset],
    trial: dict,
    workspace: str,
    training_attempts: int,
    halving_eta: int,
    halving_rungs: int,
    rung: int,
    model: Output[Model],
    metrics: Output[Metrics],
):
    """Train one planned trial on the train and validation splits (in a halving sweep, to the end
    of rung `rung`, from 0). It never fails for its own sake: a diverged loss or a fault is its
    result (trial.json), and past `training_attempts` pods counted in `workspace` (empty: none)
    it reports itself lost."""
    from alexnet_kfp.process import one_line_errors, setup
    from alexnet_kfp.progress import finished
    from alexnet_kfp.train.halving import parse_halving, trial_step

    halving = parse_halving(halving_eta, halving_rungs)
    step = trial_step(int(trial["index"]), halving, rung)
    setup(step, tensorflow=True)
    from alexnet_kfp.train.trial import run_trial  # after the quiet TensorFlow import

    with one_line_errors("trial"):
        record = run_trial(
            dataset.path, model.path, trial, workspace or None, training_attempts, halving, rung
        )
    outcome = record.reason or f"best val_accuracy {record.best_val_accuracy:.4f}"
    print(f"{step} {record.status}: {outcome}", flush=True)
    metrics.log_metric("trained", float(record.status == "trained"))
    for name in ("best_val_accuracy", "best_epoch", "epochs_run", "images_per_second", "rung"):
        value = getattr(record, name)
        if value is not None:
            metrics.log_metric(name, float(value))
    model.metadata.update({"trial": record.index, "status": record.status})
    finished(step, f"{record.status}: {outcome}", model=model.path)


@component
def keep_op(
    models: Input[List[Model]],  # noqa: UP006 (KFP reads typing.List)
    stopped_before: Input[Artifact],
    halving_eta: int,
    halving_rungs: int,
    rung: int,
    workspace: str,
    stopped: Output[Artifact],
) -> List[dict]:  # noqa: UP006 (KFP reads typing.List; the item type makes each trial a STRUCT)
    """A halving sweep after rung `rung` (from 0): the best 1/`halving_eta` of its trials by
    validation accuracy, which go on (returned as the plan step made them), and `stopped`, every
    trial stopped so far (`stopped_before`'s and this rung's: a file, as a parameter would grow
    the next step's command line with every trial). Their checkpoints leave `workspace`. Fails
    only when every trial failed."""
    from alexnet_kfp.process import one_line_errors, setup
    from alexnet_kfp.progress import finished, tell
    from alexnet_kfp.train.halving import Halving, keep_rung

    step = f"keep after rung {rung + 1}"
    setup(step)
    with one_line_errors("keep"):
        halving = Halving(halving_eta, halving_rungs).check()
        dirs = [m.path for m in models]
        going_on = keep_rung(
            dirs, (stopped_before.path, stopped.path), halving, rung, workspace or None
        )
    names = ", ".join(str(trial["index"]) for trial in going_on)
    tell(step, f"{step}: trials {names} go on, of {len(models)}")
    finished(step)
    return going_on


@component
def select_op(
    models: Input[List[Model]],  # noqa: UP006 (KFP reads typing.List)
    stopped: Input[Artifact],
    halving_eta: int,
    halving_rungs: int,
    model: Output[Model],
    comparison: Output[Markdown],
) -> NamedTuple(  # type: ignore[valid-type] # KFP's form: the pod runs this function alone
    "Selection", [("winner", int), ("settings", dict)]
):
    """The trial with the best validation accuracy (its model, with sweep.json: every trial and
    the rule), and the table of every trial, those a halving sweep `stopped` included (its last
    keep step's; the plan step's, none, without halving). Fails only when every trial failed."""
    from collections import namedtuple

    from alexnet_kfp.process import one_line_errors, setup
    from alexnet_kfp.progress import finished, tell
    from alexnet_kfp.train.halving import parse_halving, read_stopped
    from alexnet_kfp.train.selection import comparison_markdown, select

    setup("select")
    with one_line_errors("select"):
        earlier = read_stopped(stopped.path)
        halving = parse_halving(halving_eta, halving_rungs)
        sweep = select([m.path for m in models], model.path, earlier, halving)
    with open(comparison.path, "w") as f:
        f.write(comparison_markdown(sweep))
    winner = next(t for t in sweep.trials if t.index == sweep.winner)
    tell(
        "select",
        f"select: trial {winner.index} of {len(sweep.trials)} ({winner.best_val_accuracy:.4f})",
    )
    model.metadata.update(
        {"framework": "keras", "trial": winner.index, "best_val_accuracy": winner.best_val_accuracy}
    )
    finished("select", model=model.path, comparison=comparison.path)
    Selection = namedtuple("Selection", ["winner", "settings"])
    return Selection(winner.index, winner.settings)

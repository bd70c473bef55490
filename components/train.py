"""The train component: Dataset artifact -> Model artifact (the directory of model.keras, history,
train.json)."""

from kfp.dsl import Dataset, Input, Metrics, Model, Output

from alexnet_kfp.components import component


@component
def train_op(
    dataset: Input[Dataset],
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
    checkpoint_dir: str,
    model: Output[Model],
    metrics: Output[Metrics],
):
    """Train AlexNet; the Model artifact is the directory (model.keras, history.json, tensorboard/,
    train.json). Every argument but the artifacts and checkpoint_dir is a TrainConfig field of the
    same name. With checkpoint_dir (a path on a volume that outlives the pod; empty: none), save
    the training state every epoch and continue from it when the task is retried. `metrics`: the
    training's scalars (best validation accuracy and its epoch, epochs, images/s), for the KFP
    UI's run comparison and KFP's MLflow plugin."""
    arguments = dict(locals())  # first, while the task's inputs are all there is
    from pathlib import Path

    from alexnet_kfp.process import one_line_errors, setup
    from alexnet_kfp.tracking.environment import kfp_logs_inputs
    from alexnet_kfp.train.config import TrainConfig

    setup(tensorflow=True)
    kfp_logs_inputs(arguments)  # KFP's MLflow plugin logs them; the step logs the rest
    # after the quiet TensorFlow import
    from alexnet_kfp.train.checkpoint import unwritable
    from alexnet_kfp.train.fit import train

    config = TrainConfig.of(arguments)
    checkpoint = Path(checkpoint_dir) if checkpoint_dir else None
    if checkpoint is not None and (problem := unwritable(checkpoint)):
        # a volume the pod's user may not write (no fsGroup): train, as without a workspace
        print(f"train: no checkpoint: {problem}; a retried task starts from epoch 1", flush=True)
        checkpoint = None
    with one_line_errors("train"):
        info = train(dataset.path, model.path, config, checkpoint_dir=checkpoint)
    model.metadata.update(
        {
            "framework": "keras",
            "best_val_accuracy": info["best_val_accuracy"],
            "precision": info["precision"],
            "device": info["device"],
        }
    )
    for key in ("best_val_accuracy", "best_epoch", "epochs_run", "images_per_second"):
        metrics.log_metric(key, info[key])

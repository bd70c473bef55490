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
    inputs = list(locals())  # the task's inputs' names, first, while they are all there is
    from pathlib import Path

    from alexnet_kfp.process import one_line_errors, setup
    from alexnet_kfp.progress import finished, tell
    from alexnet_kfp.tracking.environment import kfp_logs_inputs
    from alexnet_kfp.train.config import TrainConfig

    setup("train", tensorflow=True)
    kfp_logs_inputs(inputs)  # KFP's MLflow plugin logs them; the step logs the rest
    # after the quiet TensorFlow import
    from alexnet_kfp.train.checkpoint import unwritable
    from alexnet_kfp.train.fit import train

    config = TrainConfig(
        variant=variant,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        precision=precision,
        seed=seed,
        crop_padding=crop_padding,
        plateau_patience=plateau_patience,
        plateau_factor=plateau_factor,
        final_decay_fraction=final_decay_fraction,
        require_gpu=require_gpu,
    )
    checkpoint = Path(checkpoint_dir) if checkpoint_dir else None
    if checkpoint is not None and (problem := unwritable(checkpoint)):
        # a volume the pod's user may not write (no fsGroup): train, as without a workspace
        tell("train", f"train: no checkpoint: {problem}; a retried task starts from epoch 1")
        checkpoint = None
    with one_line_errors("train"):
        record = train(dataset.path, model.path, config, checkpoint_dir=checkpoint)
    model.metadata.update(
        {
            "framework": "keras",
            "best_val_accuracy": record.best_val_accuracy,
            "precision": record.precision,
            "device": record.device,
        }
    )
    for key, value in record.results().items():
        metrics.log_metric(key, value)
    finished("train", model=model.path)

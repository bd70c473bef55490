"""`alexnet-kfp train`: train AlexNet (alexnet_kfp.train.fit). One flag per TrainConfig field, made
from the field's type, default and help, so a new training option needs no CLI code."""

import argparse

from alexnet_kfp.cli.options import (
    DATASET_DIR,
    command,
    config_flags,
    config_from,
    directories,
    new_dir,
)
from alexnet_kfp.process import import_tensorflow
from alexnet_kfp.train.config import TrainConfig


def _cmd_train(args: argparse.Namespace) -> int:
    """Train AlexNet with the article's augmentation and plateau learning-rate decay on
    val_accuracy; keep the best epoch. Writes model.keras (float32), history.json and
    train.json."""
    config = config_from(TrainConfig, args)  # checked before TensorFlow is imported
    import_tensorflow()
    from alexnet_kfp.train.fit import train

    record = train(args.data, args.out, config, checkpoint_dir=args.checkpoint_dir)
    print(
        f"wrote {args.out}: best val_accuracy {record.best_val_accuracy:.4f} at epoch "
        f"{record.best_epoch} of {record.epochs_run} ({record.precision}, "
        f"{record.images_per_second:.0f} img/s, {record.device})"
    )
    return 0


def add(sub) -> None:
    p = command(sub, _cmd_train, "train AlexNet on a Dataset directory")
    directories(p, data=DATASET_DIR, out=new_dir("Model"))
    checkpoint = "save the training state here after every epoch; run the same command again to "
    checkpoint += (
        "continue an interrupted run from its last finished epoch, with a larger --epochs "
    )
    checkpoint += "to extend it, or with --epochs set to the epochs done to write its model now "
    checkpoint += "(other parameters must match)"
    p.add_argument("--checkpoint-dir", metavar="DIR", help=checkpoint)
    config_flags(p, TrainConfig)

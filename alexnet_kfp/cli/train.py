"""`alexnet-kfp train`: train AlexNet (alexnet_kfp.train.fit)."""

import argparse


def _cmd_train(args: argparse.Namespace) -> int:
    from alexnet_kfp.train.fit import train
    from alexnet_kfp.train.config import TrainConfig

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


def add(sub) -> None:
    from alexnet_kfp.train.config import PRECISIONS, VARIANTS, TrainConfig

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

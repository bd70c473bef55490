"""The training configuration: a small typed object with defaults, each field's help beside it.
Free of TensorFlow, so the CLI (which makes one flag per field) and the Kubeflow pipeline definition
read the defaults cheaply."""

import math
from dataclasses import dataclass

from alexnet_kfp.config import StepConfig, option
from alexnet_kfp.data.split import check_seed
from alexnet_kfp.errors import InputError

VARIANTS = ("article", "cifar")
PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")
MAX_CROP_PADDING = 16  # half the image: beyond it a shift shows mostly padding


@dataclass
class TrainConfig(StepConfig):
    """Everything that decides a training run; recorded in train.json."""

    variant: str = option(
        "cifar",
        "article: the article's network (fast); cifar: AlexNet kept at 32x32 resolution (more "
        "compute, more accurate)",
        choices=VARIANTS,
    )
    epochs: int = option(100, "epochs to train (the best epoch's weights are kept)")
    batch_size: int = option(100, "images per step")
    learning_rate: float = option(1e-3, "Adam's initial learning rate")
    precision: str = option(
        "auto",
        "auto (mixed_float16 on NVIDIA GPUs, mixed_bfloat16 on CPUs with AMX-BF16, else "
        "float32), float32, mixed_float16 or mixed_bfloat16",
        choices=PRECISIONS,
    )
    seed: int = option(42, "random seed of weights, shuffling and augmentation")
    plateau_factor: float = option(
        0.2, "multiply the learning rate by this when val_accuracy stalls"
    )
    plateau_patience: int = option(
        5, "epochs without a val_accuracy gain before the learning rate decays"
    )
    plateau_min_delta: float = option(1e-4, "a val_accuracy gain below this counts as no gain")
    plateau_cooldown: int = option(0, "epochs after a decay before val_accuracy is watched again")
    min_learning_rate: float = option(1e-5, "the decay stops here")
    final_decay_fraction: float = option(
        0.15,
        "the last this share of the epochs trains at a decayed rate: if the plateau rule has not "
        "decayed it within as many epochs when they begin, it is decayed then (0: off)",
    )
    early_stopping_patience: int | None = option(
        None, "stop after N epochs without a val_accuracy gain (default: off)", metavar="N"
    )
    augment: bool = option(
        True, "augment training images: horizontal flip, +-2 deg rotation, 10% zoom"
    )
    crop_padding: int = option(
        4, "also shift each training image at random by up to this many pixels (0: off)"
    )
    jit_compile: bool = option(False, "compile the training step with XLA")
    deterministic: bool = option(
        True, "deterministic kernels: the same seed, data and machine give the same history"
    )
    require_gpu: bool = option(
        False, "fail at once when no GPU is visible instead of training on the CPU"
    )

    def check(self) -> "TrainConfig":
        if self.variant not in VARIANTS:
            raise InputError(f"variant must be one of {', '.join(VARIANTS)}, got {self.variant!r}")
        if self.precision not in PRECISIONS:
            raise InputError(
                f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"
            )
        for name, least in (
            ("epochs", 1),
            ("batch_size", 1),
            ("plateau_patience", 0),
            ("plateau_cooldown", 0),
            ("crop_padding", 0),
        ):
            if getattr(self, name) < least:
                raise InputError(f"{name} must be at least {least}, got {getattr(self, name)}")
        check_seed(self.seed)
        if self.crop_padding > MAX_CROP_PADDING:
            raise InputError(
                f"crop_padding must be at most {MAX_CROP_PADDING} pixels, got {self.crop_padding}"
            )
        if self.jit_compile and self.deterministic:
            # Keras would drop XLA without a word: not every op has a deterministic XLA kernel
            raise InputError(
                "jit_compile needs deterministic off (XLA has no deterministic kernels for every "
                "op); pass --no-deterministic with --jit-compile"
            )
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            raise InputError(
                "early_stopping_patience must be at least 1 (or unset), got "
                f"{self.early_stopping_patience}"
            )
        # Written so that NaN fails: every comparison with NaN is False.
        if not 0 < self.learning_rate < math.inf:
            raise InputError(f"learning_rate must be a positive number, got {self.learning_rate}")
        if not 0 < self.plateau_factor < 1:
            raise InputError(
                f"plateau_factor must lie strictly between 0 and 1, got {self.plateau_factor}"
            )
        if not 0 <= self.final_decay_fraction < 1:
            raise InputError(
                f"final_decay_fraction must lie in [0, 1), got {self.final_decay_fraction}"
            )
        for name in ("plateau_min_delta", "min_learning_rate"):
            if not 0 <= getattr(self, name) < math.inf:
                raise InputError(f"{name} must be a number >= 0, got {getattr(self, name)}")
        return self

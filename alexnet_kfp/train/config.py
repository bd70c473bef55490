"""The training configuration: a small typed object with defaults. Free of TensorFlow, so the
CLI's `--help` and the Kubeflow pipeline definition can read the defaults cheaply."""

from dataclasses import dataclass

from alexnet_kfp.errors import InputError

VARIANTS = ("seed", "cifar")
PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")


@dataclass
class TrainConfig:
    """Everything that decides a training run; recorded in train.json."""

    variant: str = "seed"
    epochs: int = 40
    batch_size: int = 100  # the article's
    learning_rate: float = 1e-3  # Adam's default, the article's
    precision: str = "auto"  # auto | float32 | mixed_float16 | mixed_bfloat16
    seed: int = 42
    plateau_factor: float = 0.2
    plateau_patience: int = 3
    plateau_min_delta: float = 1e-4  # a val_accuracy gain below this counts as no gain
    min_learning_rate: float = 1e-5
    early_stopping_patience: int | None = None  # epochs without val_accuracy gain; None = off
    augment: bool = True
    jit_compile: bool = False  # XLA: measured 6x slower on this CPU; try it on GPUs
    deterministic: bool = True  # same seed + data + CPU = same history; costs ~4 % speed here
    require_gpu: bool = False  # fail before training when no GPU is visible (the pipeline's GPU node)

    def check(self) -> None:
        if self.variant not in VARIANTS:
            raise InputError(f"variant must be one of {', '.join(VARIANTS)}, got {self.variant!r}")
        if self.precision not in PRECISIONS:
            raise InputError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.learning_rate > 0 or not 0 < self.plateau_factor < 1:
            raise InputError("learning_rate must be > 0 and plateau_factor between 0 and 1")

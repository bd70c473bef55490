"""Seeded, exactly stratified splits: every class contributes round(n_c * fraction) images."""

import numpy as np

from alexnet_kfp.errors import InputError

# numpy's legacy seeding (keras.utils.set_random_seed calls np.random.seed) takes 32 bits.
MAX_SEED = 2**32 - 1


def check_seed(seed: int) -> None:
    """A seed every seeded library takes: the split's numpy, the training's Keras and TF."""
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"seed must lie between 0 and {MAX_SEED}, got {seed}")


def check_parameters(val_fraction: float, limit: int | None, seed: int = 0) -> None:
    """Fail before any download when the split cannot be made (NaN fails every comparison here)."""
    if not 0.0 < val_fraction < 1.0:
        raise InputError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}")
    if limit is not None and limit < 2:
        raise InputError(
            f"limit_per_class must be at least 2 (one image each for train and val), got {limit}"
        )
    check_seed(seed)
    if limit is not None:
        check_split_sizes({"each class": limit}, val_fraction)


def check_split_sizes(class_sizes: dict[str, int], val_fraction: float) -> None:
    """Every class must keep at least one image in train and in val."""
    for name, n in class_sizes.items():
        n_val = int(round(n * val_fraction))
        if n_val < 1 or n_val > n - 1:
            side = "validation" if n_val < 1 else "training"
            raise InputError(
                f"val_fraction {val_fraction} leaves {name} ({n} images) with no {side} image; "
                f"choose a val_fraction between {1 / n:.3g} and {1 - 1 / n:.3g} or more images"
            )


def limit_per_class(y: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    """Indices (in original order) of at most `limit` randomly chosen images per class."""
    keep = [rng.permutation(np.flatnonzero(y == c))[:limit] for c in np.unique(y)]
    return np.sort(np.concatenate(keep))


def stratified_split(
    y: np.ndarray, val_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices), each shuffled, with every class split in the same
    proportion."""
    check_parameters(val_fraction, None)
    train, val = [], []
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        n_val = int(round(len(members) * val_fraction))
        val.append(members[:n_val])
        train.append(members[n_val:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(val))

"""Seeded, exactly stratified splits: every class contributes round(n_c * fraction) images."""

import numpy as np

from alexnet_kfp.errors import InputError


def check_parameters(val_fraction: float, limit: int | None) -> None:
    """Fail before any download when the split cannot be made."""
    if not 0.0 < val_fraction < 1.0:
        raise InputError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}")
    if limit is not None and limit < 2:
        raise InputError(f"limit_per_class must be at least 2 (one image each for train and val), got {limit}")


def limit_per_class(y: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    """Indices (in original order) of at most `limit` randomly chosen images per class."""
    keep = [rng.permutation(np.flatnonzero(y == c))[:limit] for c in np.unique(y)]
    return np.sort(np.concatenate(keep))


def stratified_split(y: np.ndarray, val_fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices), each shuffled, with every class split in the same proportion."""
    check_parameters(val_fraction, None)
    train, val = [], []
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        n_val = int(round(len(members) * val_fraction))
        val.append(members[:n_val])
        train.append(members[n_val:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(val))

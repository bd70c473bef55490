"""The training input pipeline's optional random crop: per-image shifts, repeatable by seed, and
nothing changed when it is off."""

import keras
import numpy as np
import tensorflow as tf

from alexnet_kfp.train.input import RandomPadCrop, training_dataset

IMAGES = np.random.default_rng(0).integers(1, 256, (64, 32, 32, 3), dtype=np.uint8)  # no zero pixel
LABELS = np.zeros(64, np.int64)


def _first_batch(crop: int, seed: int = 1) -> np.ndarray:
    keras.utils.set_random_seed(seed)
    return next(iter(training_dataset(IMAGES, LABELS, 64, seed, augment=True, crop_padding=crop)))[
        0
    ].numpy()


def test_random_crop_is_repeatable_and_keeps_the_contract():
    tf.config.experimental.enable_op_determinism()
    first, again, other = _first_batch(4), _first_batch(4), _first_batch(4, seed=2)
    assert first.dtype == np.uint8 and first.shape == (64, 32, 32, 3)
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert (_first_batch(0) == 0).mean() < (
        first == 0
    ).mean()  # the padding shows only with the crop


def test_each_image_gets_its_own_shift_within_the_padding():
    layer = RandomPadCrop(4, seed=0)
    x = tf.constant(np.arange(32 * 32, dtype=np.float32).reshape(1, 32, 32, 1) + 1)
    shifted = layer(tf.repeat(x, 16, axis=0), training=True).numpy()
    offsets = set()
    for image in shifted:
        nonzero = np.argwhere(image[..., 0] > 0)
        top, left = nonzero.min(0)
        value = image[top, left, 0]  # the original pixel now at the first visible place
        source = np.argwhere(x.numpy()[0, ..., 0] == value)[0]
        offsets.add((int(source[0] - top), int(source[1] - left)))
    assert len(offsets) > 1 and all(-4 <= dy <= 4 and -4 <= dx <= 4 for dy, dx in offsets)
    assert np.array_equal(layer(x, training=False).numpy(), x.numpy())

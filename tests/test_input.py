"""The training input: each epoch's order follows from (seed, epoch) alone, so a resumed pipeline
gives the uninterrupted one's batches; augmentation is a stateless function of (images, seed) that
shifts each image on its own, keeps the uint8 contract and compiles with XLA."""

import numpy as np
import pytest
import tensorflow as tf

from alexnet_kfp.train.augment import augment, step_seed
from alexnet_kfp.train.input import steps_per_epoch, training_dataset

pytestmark = pytest.mark.unit

IMAGES = np.random.default_rng(0).integers(1, 256, (64, 32, 32, 3), dtype=np.uint8)  # no zero pixel
LABELS = np.arange(64) % 10


def _batches(first_epoch: int, epochs: int, seed: int = 3, batch: int = 10) -> list:
    dataset = training_dataset(IMAGES, LABELS, batch, seed, first_epoch, epochs)
    return list(dataset.as_numpy_iterator())


def test_every_epoch_visits_every_image_once_with_its_label():
    batches = _batches(0, 2)
    steps = steps_per_epoch(len(IMAGES), 10)
    assert steps == 7 and len(batches) == 2 * steps and len(batches[steps - 1][0]) == 4
    label_of = {image.tobytes(): label for image, label in zip(IMAGES, LABELS, strict=True)}
    for epoch in (batches[:steps], batches[steps:]):
        images = [i.tobytes() for b in epoch for i in b[0]]
        assert sorted(images) == sorted(i.tobytes() for i in IMAGES)
        assert all(label_of[i.tobytes()] == y for b in epoch for i, y in zip(*b, strict=True))
    first, second = (np.concatenate([b[1] for b in e]) for e in (batches[:steps], batches[steps:]))
    assert not np.array_equal(first, second)  # reshuffled every epoch


def test_a_resumed_pipeline_gives_the_uninterrupted_batches():
    whole, resumed = _batches(0, 5), _batches(3, 5)
    steps = steps_per_epoch(len(IMAGES), 10)
    assert len(resumed) == 2 * steps
    for a, b in zip(whole[3 * steps :], resumed, strict=True):
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    other = _batches(3, 5, seed=4)
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(resumed, other, strict=True))


@pytest.mark.parametrize("crop", [0, 4])
def test_augmentation_is_a_function_of_its_seed(crop):
    seed = step_seed(1, 17)
    first, again = (augment(tf.constant(IMAGES), seed, crop).numpy() for _ in range(2))
    other = augment(tf.constant(IMAGES), step_seed(1, 18), crop).numpy()
    assert first.dtype == np.uint8 and first.shape == IMAGES.shape
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert (first != IMAGES).any(axis=(1, 2, 3)).mean() > 0.9  # almost every image changed
    replica = augment(tf.constant(IMAGES), step_seed(1, 17, replica=1), crop).numpy()
    assert not np.array_equal(first, replica)  # each replica its own draws


def test_each_image_gets_its_own_shift_within_the_padding():
    # a one-pixel marker on a constant image; the geometric part moves it a pixel at most
    image = np.full((32, 32, 3), 100, np.uint8)
    image[16, 16] = 255
    shifted = augment(tf.constant(np.repeat(image[None], 32, 0)), step_seed(0, 5), 4).numpy()
    padding_seen = (shifted == 0).all(axis=-1).any(axis=(1, 2))
    assert padding_seen.mean() > 0.5  # zero padding shows where the image moved away
    offsets = {tuple(np.argwhere(s[..., 0] == s[..., 0].max())[0] - 16) for s in shifted}
    assert len(offsets) > 3 and all(abs(dy) <= 5 and abs(dx) <= 5 for dy, dx in offsets)


def test_augmentation_compiles_with_xla_and_agrees():
    seed = step_seed(2, 3)
    eager = augment(tf.constant(IMAGES), seed, 4).numpy().astype(int)
    compiled = tf.function(lambda x, s: augment(x, s, 4), jit_compile=True)
    xla = compiled(tf.constant(IMAGES), seed).numpy().astype(int)
    assert np.abs(eager - xla).max() <= 1  # rounding of the same arithmetic

"""The training input pipeline: tf.data batches of raw uint8 images from the Dataset's npz files.

Each epoch visits every training image once in an order drawn from (seed, epoch) alone, so a run
resumed after epoch k gets exactly the batches an uninterrupted run gets from epoch k + 1 on. The
CPU's only work is gathering a batch by index: augmentation runs in the training step
(training_model.py), on the accelerator when there is one.
"""

import math

import numpy as np
import tensorflow as tf


def steps_per_epoch(images: int, batch_size: int) -> int:
    """Batches per epoch: every image once, the last batch smaller when they do not divide."""
    return math.ceil(images / batch_size)


def epoch_order(images: int, seed: int, epoch: int) -> tf.Tensor:
    """The order in which epoch `epoch` (0-based) visits the images: a permutation that depends on
    (seed, epoch) only."""
    return tf.random.experimental.stateless_shuffle(
        tf.range(images, dtype=tf.int64),
        seed=tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)]),
    )


def training_dataset(
    x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, first_epoch: int, epochs: int
) -> tf.data.Dataset:
    """The batches of epochs first_epoch + 1 .. epochs (of 1-based epochs), in order, prefetched;
    pass steps_per_epoch(len(x), batch_size) to fit."""
    count = len(x)
    steps = steps_per_epoch(count, batch_size)
    images, labels = tf.constant(x), tf.constant(y)

    def batch(step):
        epoch = step // steps
        start = (step % steps) * batch_size
        picked = epoch_order(count, seed, epoch)[start : start + batch_size]
        return tf.gather(images, picked), tf.gather(labels, picked)

    ds = tf.data.Dataset.range(first_epoch * steps, epochs * steps)
    return ds.map(batch, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def evaluation_dataset(x: np.ndarray, y: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """In order, every image exactly once, never augmented."""
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size).prefetch(tf.data.AUTOTUNE)

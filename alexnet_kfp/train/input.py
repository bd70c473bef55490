"""The training input pipeline: tf.data from the Dataset's npz files, with the article's
augmentation (horizontal flip, +-2 degree rotation, 10 % zoom) done by Keras preprocessing layers
on whole batches in parallel with training, and on the training split only."""

import keras
import numpy as np
import tensorflow as tf

ROTATION_DEGREES = 2.0
ZOOM = 0.1


def make_augmenter(seed: int) -> keras.Sequential:
    """The article's ImageDataGenerator(rotation_range=2, horizontal_flip=True, zoom_range=.1), as layers."""
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=seed),
            keras.layers.RandomRotation(ROTATION_DEGREES / 360.0, fill_mode="nearest", seed=seed + 1),
            keras.layers.RandomZoom(ZOOM, fill_mode="nearest", seed=seed + 2),
        ],
        name="augmentation",
    )


def training_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, augment: bool = True) -> tf.data.Dataset:
    """Shuffled every epoch, batched, augmented (back to uint8, as the model's input), prefetched."""
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment:
        augmenter = make_augmenter(seed)

        def apply(images, labels):
            out = augmenter(tf.cast(images, tf.float32), training=True)
            return tf.cast(tf.clip_by_value(tf.round(out), 0.0, 255.0), tf.uint8), labels

        ds = ds.map(apply, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def evaluation_dataset(x: np.ndarray, y: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """In order, every image exactly once, never augmented."""
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size).prefetch(tf.data.AUTOTUNE)

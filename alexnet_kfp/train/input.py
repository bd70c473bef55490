"""The training input pipeline: tf.data from the Dataset's npz files, with the article's
augmentation (horizontal flip, +-2 degree rotation, 10 % zoom) done by Keras preprocessing layers
on whole batches in parallel with training, and on the training split only. Optionally, the
CIFAR-standard random crop of a zero-padded image (each image its own offset) after them."""

import keras
import numpy as np
import tensorflow as tf

ROTATION_DEGREES = 2.0
ZOOM = 0.1


class RandomPadCrop(keras.layers.Layer):
    """Pad each image with `padding` zero pixels per side, then cut a random same-size window out of
    it, a fresh offset per image (Keras's RandomCrop draws one offset per batch). Shifts of up to
    `padding` pixels: the augmentation of the CIFAR ResNet papers."""

    def __init__(self, padding: int, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.padding = padding
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training or not self.padding:
            return images
        p = self.padding
        height, width = images.shape[1], images.shape[2]
        padded = tf.pad(images, [[0, 0], [p, p], [p, p], [0, 0]])
        batch = tf.shape(images)[0]
        offsets = keras.random.randint(
            (2, batch), 0, 2 * p + 1, dtype="int32", seed=self.seed_generator
        )
        rows = offsets[0][:, None] + tf.range(height)[None, :]
        cols = offsets[1][:, None] + tf.range(width)[None, :]
        cropped = tf.gather(padded, rows, axis=1, batch_dims=1)
        return tf.gather(cropped, cols, axis=2, batch_dims=1)


def make_augmenter(seed: int, crop_padding: int = 0) -> keras.Sequential:
    """The article's ImageDataGenerator(rotation_range=2, horizontal_flip=True, zoom_range=.1), as
    layers; with `crop_padding`, random shifts of up to that many pixels after them."""
    augmentations = [
        keras.layers.RandomFlip("horizontal", seed=seed),
        keras.layers.RandomRotation(ROTATION_DEGREES / 360.0, fill_mode="nearest", seed=seed + 1),
        keras.layers.RandomZoom(ZOOM, fill_mode="nearest", seed=seed + 2),
    ]
    if crop_padding:
        augmentations.append(RandomPadCrop(crop_padding, seed=seed + 3, name="random_pad_crop"))
    return keras.Sequential(augmentations, name="augmentation")


def training_dataset(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    seed: int,
    augment: bool = True,
    crop_padding: int = 0,
) -> tf.data.Dataset:
    """Shuffled every epoch, batched, augmented (back to uint8, as the model's input),
    prefetched."""
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(
        len(x), seed=seed, reshuffle_each_iteration=True
    )
    ds = ds.batch(batch_size)
    if augment:
        augmenter = make_augmenter(seed, crop_padding)

        def apply(images, labels):
            out = augmenter(tf.cast(images, tf.float32), training=True)
            return tf.cast(tf.clip_by_value(tf.round(out), 0.0, 255.0), tf.uint8), labels

        ds = ds.map(apply, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def evaluation_dataset(x: np.ndarray, y: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """In order, every image exactly once, never augmented."""
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size).prefetch(tf.data.AUTOTUNE)

"""The training images' augmentation as one stateless function of (batch, seed): the article's
horizontal flip, +-2 degree rotation and 10 % zoom, then a random shift of up to `crop_padding`
pixels (the crop of a zero-padded image), each image its own draw.

Stateless, so a resumed run draws exactly what an uninterrupted one would (the seed is made of the
run's seed and the optimizer's step, which the checkpoint keeps); built from gathers and arithmetic
only, so it compiles with XLA and runs inside the training step on the accelerator. The geometric
part is one bilinear resampling with the edges extended (Keras's fill_mode="nearest").
"""

import math

import tensorflow as tf

ROTATION_DEGREES = 2.0
ZOOM = 0.1
# One algorithm everywhere: "auto_select" picks another under XLA, which would draw other numbers.
_ALG = "philox"
_STEPS = 2**24  # uniform floats are made from integer draws: XLA turns bits into floats otherwise


def step_seed(seed: int, step: tf.Tensor, replica: int | tf.Tensor = 0) -> tf.Tensor:
    """The stateless seed of one batch: the run's seed, the optimizer's step and the replica (each
    replica of a MirroredStrategy augments its own share of the batch with its own draws)."""
    base = tf.constant([seed, 0], dtype=tf.int64)
    per_step = tf.random.experimental.stateless_fold_in(base, tf.cast(step, tf.int64), alg=_ALG)
    return tf.random.experimental.stateless_fold_in(per_step, tf.cast(replica, tf.int64), alg=_ALG)


def augment(images: tf.Tensor, seed: tf.Tensor, crop_padding: int = 0) -> tf.Tensor:
    """uint8 images (N, H, W, C) -> uint8 images of the same shape, randomly flipped, rotated,
    zoomed and shifted; `seed` is a stateless seed (shape (2,), step_seed)."""
    flip_seed, angle_seed, zoom_seed, shift_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, 4, alg=_ALG)
    )
    batch = tf.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    limit = math.radians(ROTATION_DEGREES)
    angle = _uniform(batch, angle_seed, -limit, limit)
    zoom = 1.0 + _uniform(batch, zoom_seed, -ZOOM, ZOOM)
    flip = _uniform(batch, flip_seed, 0.0, 1.0) < 0.5

    rows = tf.range(height, dtype=tf.float32)[None, :, None] + tf.zeros([batch, 1, 1])
    cols = tf.range(width, dtype=tf.float32)[None, None, :] + tf.zeros([batch, 1, 1])
    inside = tf.ones([batch, height, width])
    if crop_padding:
        # output pixel p shows the shifted image's pixel p + offset - padding (zero outside it)
        shifts = tf.random.stateless_uniform(
            [2, batch], shift_seed, 0, 2 * crop_padding + 1, dtype=tf.int32, alg=_ALG
        )
        rows += tf.cast(shifts[0] - crop_padding, tf.float32)[:, None, None]
        cols += tf.cast(shifts[1] - crop_padding, tf.float32)[:, None, None]
        inside = tf.cast(
            (rows >= 0) & (rows <= height - 1) & (cols >= 0) & (cols <= width - 1), tf.float32
        )
    # rotate and zoom about the centre: where in the flipped image each output pixel comes from
    centre_row, centre_col = (height - 1) / 2, (width - 1) / 2
    cos = (tf.cos(angle) * zoom)[:, None, None]
    sin = (tf.sin(angle) * zoom)[:, None, None]
    dr, dc = rows - centre_row, cols - centre_col
    source_rows = centre_row + cos * dr - sin * dc
    source_cols = centre_col + sin * dr + cos * dc
    source_cols = tf.where(flip[:, None, None], (width - 1) - source_cols, source_cols)
    sampled = _bilinear(tf.cast(images, tf.float32), source_rows, source_cols)
    out = sampled * inside[..., None]
    return tf.cast(tf.clip_by_value(tf.round(out), 0.0, 255.0), tf.uint8)


def _uniform(count: tf.Tensor, seed: tf.Tensor, low: float, high: float) -> tf.Tensor:
    """`count` floats drawn uniformly from [low, high), the same with and without XLA."""
    steps = tf.random.stateless_uniform([count], seed, 0, _STEPS, dtype=tf.int32, alg=_ALG)
    return low + (high - low) * tf.cast(steps, tf.float32) / _STEPS


def _bilinear(images: tf.Tensor, rows: tf.Tensor, cols: tf.Tensor) -> tf.Tensor:
    """images (N, H, W, C) sampled at fractional (rows, cols) of shape (N, H, W); positions outside
    the image take the nearest edge pixel."""
    height, width = images.shape[1], images.shape[2]
    rows = tf.clip_by_value(rows, 0.0, height - 1.0)
    cols = tf.clip_by_value(cols, 0.0, width - 1.0)
    top, left = tf.floor(rows), tf.floor(cols)
    row_weight, col_weight = (rows - top)[..., None], (cols - left)[..., None]
    top_i, left_i = tf.cast(top, tf.int32), tf.cast(left, tf.int32)
    bottom_i, right_i = tf.minimum(top_i + 1, height - 1), tf.minimum(left_i + 1, width - 1)

    def at(r, c):
        return tf.gather_nd(images, tf.stack([r, c], axis=-1), batch_dims=1)

    upper = at(top_i, left_i) * (1 - col_weight) + at(top_i, right_i) * col_weight
    lower = at(bottom_i, left_i) * (1 - col_weight) + at(bottom_i, right_i) * col_weight
    return upper * (1 - row_weight) + lower * row_weight

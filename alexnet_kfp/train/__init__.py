"""The train step: Dataset directory -> Model directory (AlexNet, tf.data input, callbacks,
devices)."""

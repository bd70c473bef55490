"""The network as it trains: each batch augmented inside the compiled training step, so that on a
GPU node the GPU does it (the pod's few CPU cores only gather batches), and seeded by the
optimizer's step, which a checkpoint keeps, so that a resumed run augments as an uninterrupted one
would. Weights, inference and the saved model are the wrapped network's own."""

import keras
import tensorflow as tf

from alexnet_kfp.train.augment import augment, step_seed


class AugmentingModel(keras.Model):
    """`network`, trained on batches that `augment` changes afresh at every step."""

    def __init__(self, network: keras.Model, seed: int, crop_padding: int, **kwargs):
        super().__init__(name=network.name, **kwargs)
        self.network = network
        self.augment_seed = seed
        self.crop_padding = crop_padding
        self.built = True  # the network is

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    def train_step(self, data):
        images, labels = data
        replica = tf.distribute.get_replica_context().replica_id_in_sync_group
        seed = step_seed(self.augment_seed, self.optimizer.iterations, replica)
        return super().train_step((augment(images, seed, self.crop_padding), labels))

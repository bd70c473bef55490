"""The two networks: documented size and cost, raw uint8 input, the article's bugs fixed."""

import keras
import numpy as np
import pytest

from alexnet_kfp.train.alexnet import build_alexnet, count_macs

pytestmark = pytest.mark.unit

# The figures the docstring and README quote.
EXPECTED = {"article": (25_730_466, 46_378_768), "cifar": (8_983_818, 363_374_592)}


@pytest.mark.parametrize("variant", ["article", "cifar"])
def test_variant_has_documented_size_and_takes_uint8(variant):
    model = build_alexnet(variant)
    assert (model.count_params(), count_macs(model)) == EXPECTED[variant]
    assert model.inputs[0].dtype == "uint8" and tuple(model.inputs[0].shape) == (None, 32, 32, 3)
    images = np.random.default_rng(0).integers(0, 256, size=(4, 32, 32, 3), dtype=np.uint8)
    probabilities = keras.ops.convert_to_numpy(model(images, training=False))
    assert probabilities.shape == (4, 10) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_seed_topology_is_the_articles():
    model = build_alexnet("article")
    convs = [
        (layer.filters, layer.kernel_size, layer.strides)
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D)
    ]
    assert convs == [
        (96, (11, 11), (4, 4)),
        (256, (5, 5), (1, 1)),
        (384, (3, 3), (1, 1)),
        (384, (3, 3), (1, 1)),
        (256, (3, 3), (1, 1)),
    ]
    dense = [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert dense == [4096, 4096, 1000, 10]
    assert [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)] == [
        0.4
    ] * 3


def test_no_batchnorm_before_the_softmax_and_softmax_in_float32():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = build_alexnet("article")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    names = [layer.name for layer in model.layers]
    assert names[-2:] == ["classifier", "probabilities"]
    assert model.outputs[0].dtype == "float32"


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="unknown variant"):
        build_alexnet("vgg")

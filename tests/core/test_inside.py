import numpy as np
import pytest

from core.architectures import build
from core.inside import (feature_maps, first_conv_filters, first_dense_weight_images, predict_probabilities,
                         saliency)
from tests.core.test_preprocess import stroke
from core.preprocess import prepare_digit


@pytest.fixture(scope="module")
def digit():
    return prepare_digit(stroke()).pixels  # (28, 28)


@pytest.fixture(scope="module")
def models():
    import keras

    keras.utils.set_random_seed(0)
    return {"flat": build("flat"), "conv": build("conv")}


def test_predictions_are_probabilities(models, digit):
    for model in models.values():
        probabilities = predict_probabilities(model, digit)
        assert probabilities.shape == (10,) and probabilities.sum() == pytest.approx(1.0, abs=1e-5)


def test_conv_feature_maps_have_the_layer_shapes(models, digit):
    maps = feature_maps(models["conv"], digit)
    assert {name: array.shape for name, array in maps.items()} == {"conv2d_1": (26, 26, 32),
                                                                   "conv2d_2": (24, 24, 32)}
    assert feature_maps(models["flat"], digit) == {}


def test_first_filters_and_flat_weight_images(models):
    assert first_conv_filters(models["conv"]).shape == (32, 3, 3)
    assert first_conv_filters(models["flat"]) is None
    weights = first_dense_weight_images(models["flat"])
    assert weights.shape == (50, 28, 28)
    np.testing.assert_array_equal(weights[3].reshape(-1), np.asarray(models["flat"].layers[1].kernel)[:, 3])
    assert first_dense_weight_images(models["conv"]) is None


@pytest.mark.parametrize("name", ["flat", "conv"])
def test_saliency_is_nonzero_where_the_ink_is(models, digit, name):
    map_ = saliency(models[name], digit)
    assert map_.shape == (28, 28) and np.isfinite(map_).all()
    assert map_.max() == pytest.approx(1.0)
    assert map_[digit > 0.5].mean() > 0


def test_a_wrong_shape_is_a_value_error(models):
    with pytest.raises(ValueError, match="28x28"):
        predict_probabilities(models["flat"], np.zeros((10, 10)))

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


def test_a_look_holds_what_try_it_shows_for_each_kind_of_network(models, digit):
    from core.inside import look

    conv, flat = look(models["conv"], digit), look(models["flat"], digit)
    assert conv.probabilities.shape == (10,) and conv.saliency.shape == (28, 28)
    assert conv.filters.shape == (32, 3, 3) and conv.dense_weights is None and len(conv.feature_maps) == 2
    assert flat.filters is None and flat.feature_maps == {} and flat.dense_weights.shape == (50, 28, 28)


def test_looks_in_a_worker_read_the_stored_models(digits, tmp_path):
    """What the app's worker runs for Try it: the stored model's answer equals the model's own."""
    from core.config import TrainConfig
    from core.inside import looks_in_worker
    from core.runs import RunStore
    from tests.fakes import FakeTrainer, service

    store = RunStore(tmp_path / "store")
    run = service(store, FakeTrainer()).get_or_train(TrainConfig(sample_size=100, num_epochs=1), digits).run
    image = digits.x_test[0] / 255.0
    looks = looks_in_worker(str(store.root), [run.run_id], image)
    assert np.allclose(looks[run.run_id].probabilities, predict_probabilities(run.load_model(), image), atol=1e-6)
    with pytest.raises(ValueError, match="cannot be opened"):
        looks_in_worker(str(store.root), ["0123456789abcdef"], image)

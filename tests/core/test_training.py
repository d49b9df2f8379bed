from dataclasses import replace

import numpy as np
import pytest

from core import memory, training
from core.config import TrainConfig
from core.records import EpochReport
from core.training import PREDICT_BATCH_SIZE, loss_and_accuracy, predict, split_indices, train


@pytest.fixture(scope="module")
def flat_run(digits):
    reports = []
    result = train(TrainConfig(architecture="flat", sample_size=300, num_epochs=2), digits, on_epoch=reports.append)
    return result, reports


def test_on_epoch_is_called_once_per_epoch_with_a_frozen_report(flat_run):
    _, reports = flat_run
    assert [report.epoch for report in reports] == [1, 2]
    assert all(isinstance(r, EpochReport) and r.num_epochs == 2 and r.seconds > 0 for r in reports)
    assert set(reports[0].metrics) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    with pytest.raises(AttributeError):
        reports[0].epoch = 5


def test_a_run_records_history_metrics_predictions_and_timing(flat_run, digits):
    result, reports = flat_run
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"}
    assert all(len(values) == 2 for values in result.history.values())
    assert result.history["val_accuracy"][-1] == reports[-1].metrics["val_accuracy"]
    assert result.num_params == 42_310
    assert result.test_probabilities.shape == (len(digits.y_test), 10)
    np.testing.assert_allclose(result.test_probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert result.test_accuracy == pytest.approx((result.test_probabilities.argmax(1) == digits.y_test).mean())
    assert result.train_seconds >= sum(result.history["seconds"]) * 0.9
    assert result.inference_ms_per_image > 0
    if memory.resident_megabytes() is not None:  # Linux
        assert 200 < result.peak_memory_mb < 24 * 1024  # TensorFlow alone is several hundred MB
    assert result.num_validation == 1000
    assert result.data_key == digits.key


def test_two_epochs_on_real_digits_beat_chance_by_far(flat_run):
    assert flat_run[0].test_accuracy > 0.3  # chance is 0.1


@pytest.mark.slow  # real Keras training or tracing: a conv net, several runs or another process
def test_conv_trains_and_learns(digits):
    result = train(TrainConfig(architecture="conv", sample_size=200, num_epochs=2, batch_size=64), digits)
    assert result.num_params == 600_810
    assert result.test_accuracy > 0.3


def test_the_same_config_gives_the_same_sample_and_result(digits, flat_run):
    again = train(TrainConfig(architecture="flat", sample_size=300, num_epochs=2), digits)
    assert again.test_accuracy == pytest.approx(flat_run[0].test_accuracy, abs=0.01)


def test_validation_comes_from_the_pool_outside_the_sample(digits):
    train_index, validation_index = split_indices(digits, TrainConfig(sample_size=3500))
    assert len(validation_index) == 500  # only 500 pool digits left outside the sample
    assert not set(train_index) & set(validation_index)
    assert validation_index.max() < digits.pool_size  # indices into the training pool, not the test set


def test_no_validation_when_the_sample_is_the_whole_pool(digits):
    _, validation_index = split_indices(digits, TrainConfig(sample_size=digits.pool_size))
    assert len(validation_index) == 0


def test_a_sample_larger_than_the_pool_is_refused_before_training(digits):
    with pytest.raises(ValueError, match="larger than the 4,000"):
        train(TrainConfig(sample_size=5000), digits)


def test_config_and_dataset_must_agree(digits):
    with pytest.raises(ValueError, match="fashion_mnist"):
        train(TrainConfig(dataset="fashion_mnist"), digits)


@pytest.mark.parametrize("num_images", [0, 1, PREDICT_BATCH_SIZE, PREDICT_BATCH_SIZE + 3])
def test_predict_in_padded_batches_gives_each_image_its_own_probabilities(flat_run, digits, num_images):
    model = flat_run[0].model
    images = digits.x_test[:num_images].reshape(-1, 28, 28, 1).astype(np.float32) / 255
    probabilities = predict(model, images)
    assert probabilities.shape == (num_images, 10) and probabilities.dtype == np.float32
    if num_images:  # the padding's zeros change no real image's answer
        np.testing.assert_allclose(probabilities, np.asarray(model(images, training=False)), atol=1e-5)


def test_loss_and_accuracy_from_probabilities_by_hand():
    probabilities = np.array([[0.5, 0.5], [0.1, 0.9], [1.0, 0.0]])
    loss, accuracy = loss_and_accuracy(np.array([0, 1, 1]), probabilities)
    assert accuracy == pytest.approx(2 / 3)  # argmax of a tie is the first class: right
    assert loss == pytest.approx((-np.log(0.5) - np.log(0.9) - np.log(1e-7)) / 3)


@pytest.mark.slow  # real Keras training or tracing: a conv net, several runs or another process
def test_bfloat16_conv_trains_learns_and_reopens_with_the_same_predictions(digits, tmp_path):
    import keras

    result = train(TrainConfig(architecture="conv", sample_size=300, num_epochs=2, precision="bfloat16"), digits)
    assert result.model.get_layer("conv2d_2").dtype_policy.compute_dtype == "bfloat16"
    assert result.num_params == 600_810
    assert result.test_accuracy > 0.5
    path = tmp_path / "model.keras"
    result.model.save(path)
    reopened = keras.saving.load_model(path, compile=False, safe_mode=True)
    assert reopened.get_layer("conv2d_2").dtype_policy.compute_dtype == "bfloat16"
    images = digits.x_test[:50, :, :, None].astype("float32") / 255.0
    np.testing.assert_allclose(reopened.predict(images, verbose=0), result.model.predict(images, verbose=0),
                               atol=1e-6)


@pytest.mark.slow  # real Keras training or tracing: a conv net, several runs or another process
def test_a_pooled_model_trains_exactly_as_a_new_one(digits):
    """The second run of a kind reuses the first run's compiled model (no tracing); resetting it must
    leave nothing behind: weights, dropout seeds, optimizer state."""
    from core.model_pool import MODEL_POOL

    config = TrainConfig(architecture="conv", sample_size=100, num_epochs=2, seed=3)
    MODEL_POOL.clear()
    new = train(config, digits)
    new_weights = new.model.get_weights()
    assert MODEL_POOL.take(("nothing",)) is None
    train(TrainConfig(architecture="conv", sample_size=100, num_epochs=2, seed=4), digits)  # moves the state on
    for before, after in zip(new_weights, new.model.get_weights()):  # the caller's model is its own
        np.testing.assert_array_equal(before, after)
    pooled_before = len(MODEL_POOL)
    again = train(config, digits)
    assert pooled_before == len(MODEL_POOL) == 1  # the same compiled model, taken and given back
    np.testing.assert_array_equal(again.test_probabilities, new.test_probabilities)
    assert again.history["loss"] == new.history["loss"]
    assert again.history["val_accuracy"] == new.history["val_accuracy"]
    assert again.model is not new.model  # each caller owns its model; the pooled one stays in the pool
    np.testing.assert_array_equal(again.model.get_weights()[0], new.model.get_weights()[0])


def test_one_compiled_model_serves_every_sample_size_and_trains_each_as_a_new_one(digits):
    """recipes.STEPS_PER_EXECUTION: a changed sample size reuses the compiled model (no tracing anew before the
    click's first epoch) and its run is bitwise the run a newly compiled model gives. Only where the optimizer
    counts the steps (a cosine schedule, a weight average) does the sample size make another kind."""
    from core.model_pool import MODEL_POOL

    small = TrainConfig(architecture="flat", sample_size=100, num_epochs=2, seed=6)
    MODEL_POOL.clear()
    new = train(small, digits)  # compiled for 4 batches an epoch
    MODEL_POOL.clear()
    train(replace(small, sample_size=300), digits)  # compiled for 10 batches an epoch, then given to the pool
    shared = train(small, digits)
    assert len(MODEL_POOL) == 1  # the one model, taken and given back: no second one compiled
    np.testing.assert_array_equal(shared.test_probabilities, new.test_probabilities)
    assert shared.history["loss"] == new.history["loss"]
    assert shared.history["val_accuracy"] == new.history["val_accuracy"]
    for recipe, shares in (("student", True), ("improved", False), ("averaged", False)):
        keys = {training._compiled_key(replace(small, recipe=recipe), steps) for steps in (4, 10)}
        assert (len(keys) == 1) is shares, recipe


def test_the_pool_keeps_one_idle_model_per_kind_and_drops_the_least_recently_used():
    from core.model_pool import ModelPool

    pool = ModelPool(size=2)
    pool.give("a", "model a")
    pool.give("b", "model b")
    pool.give("c", "model c")
    assert pool.take("a") is None
    assert pool.take("b") == "model b" and pool.take("b") is None  # taken out while it trains
    assert pool.take("c") == "model c"


def test_training_registers_nothing_in_tensorflows_global_gradient_registry(digits):
    """The soak benchmark's leak: TensorFlow's all-reduce registered a custom gradient in a global registry
    on every trace and never removed it, which kept each compiled model's training graph alive after the
    model was dropped. (Without the one-replica fix, this training adds two entries.)"""
    from tensorflow.python.framework import ops

    before = len(ops._gradient_registry._registry)
    train(TrainConfig(architecture="flat", sample_size=100, num_epochs=1, seed=5, learning_rate=0.0123), digits)
    assert len(ops._gradient_registry._registry) == before


@pytest.mark.slow  # real Keras training or tracing: a conv net, several runs or another process
def test_a_warm_up_leaves_a_traced_model_that_the_run_then_trains_exactly_as_without_it(digits, monkeypatch):
    """Issue 17: the first Train click waited for TensorFlow's start-up; a warm-up does it ahead of time.
    The run must not depend on whether it happened."""
    from core.model_pool import MODEL_POOL
    from core.training import prepare_training as warm_up

    config = TrainConfig(architecture="conv", sample_size=100, num_epochs=2, seed=8)
    MODEL_POOL.clear()
    cold = train(config, digits)
    MODEL_POOL.clear()
    assert warm_up(config, digits) is True
    assert warm_up(config, digits) is False  # one of its kind is idle and set for this seed: nothing done twice
    assert len(MODEL_POOL) == 1
    warm = train(config, digits)
    assert len(MODEL_POOL) == 1  # the warmed model was taken and given back, no second one built
    np.testing.assert_array_equal(warm.test_probabilities, cold.test_probabilities)
    assert warm.history["loss"] == cold.history["loss"]
    # A warm-up prepares its seed's initial state; a click with another seed (changed meanwhile) gets its own
    other = replace(config, seed=9)
    MODEL_POOL.clear()
    cold_other = train(other, digits)
    MODEL_POOL.clear()
    assert warm_up(config, digits) is True
    warm_other = train(other, digits)
    np.testing.assert_array_equal(warm_other.test_probabilities, cold_other.test_probabilities)
    # ... and a head start asked for that seed sets the idle model to it, so the click builds nothing
    assert warm_up(config, digits) is True and warm_up(other, digits) is True
    assert warm_up(other, digits) is False  # set for seed 9 already
    built = []
    seeded_build = training._seeded_build
    monkeypatch.setattr(training, "_seeded_build", lambda c: built.append(c.seed) or seeded_build(c))
    again = train(other, digits)
    assert built == []
    np.testing.assert_array_equal(again.test_probabilities, cold_other.test_probabilities)


def test_the_private_keras_patch_fails_loudly_when_keras_no_longer_has_the_method(monkeypatch):
    """Keras renaming `_all_reduce_sum_gradients` must not silently bring the per-training leak back."""
    import keras

    from core.training import REPLACED_METHOD, make_optimizer

    patched = make_optimizer("adam", 0.001)
    assert getattr(patched, REPLACED_METHOD)([(1, 2)]) == [(1, 2)]  # the one-replica identity is in place
    for owner in type(patched).__mro__:
        if REPLACED_METHOD in vars(owner):
            monkeypatch.delattr(owner, REPLACED_METHOD)
    with pytest.raises(RuntimeError, match=rf"Keras {keras.__version__}'s Adam optimizer has no method "
                                           rf"{REPLACED_METHOD}"):
        make_optimizer("adam", 0.001)

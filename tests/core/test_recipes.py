import numpy as np
import pytest

from core import recipes
from core.config import TrainConfig, run_id
from core.recipes import RECIPES
from core.training import train
from tests.fakes import service


def first_batch_labels(seed, augment=False):
    x = np.random.default_rng(0).integers(0, 256, (64, 28, 28), dtype=np.uint8)
    y = np.arange(64) % 10
    batch = next(iter(recipes.training_pipeline(x, y, 16, seed, RECIPES['improved' if augment else 'student'])))
    return batch[0].numpy(), batch[1].numpy()


def test_the_student_recipe_is_the_default_and_part_of_the_identity():
    assert TrainConfig().recipe == "student"
    assert run_id(TrainConfig(), "k") != run_id(TrainConfig(recipe="improved"), "k")
    with pytest.raises(ValueError, match="Unknown recipe 'magic'"):
        TrainConfig(recipe="magic")


def test_the_pipeline_shuffles_deterministically_for_a_seed():
    assert np.array_equal(first_batch_labels(1)[1], first_batch_labels(1)[1])
    assert not np.array_equal(first_batch_labels(1)[1], first_batch_labels(2)[1])


def test_augmentation_changes_pixels_but_not_shapes_or_labels():
    plain_images, plain_labels = first_batch_labels(1)
    augmented_images, augmented_labels = first_batch_labels(1, augment=True)
    assert augmented_images.shape == plain_images.shape == (16, 28, 28, 1)
    assert plain_images.dtype == np.float32 and 0.0 <= plain_images.min() and plain_images.max() <= 1.0
    assert np.array_equal(plain_labels, augmented_labels)
    assert not np.allclose(plain_images, augmented_images)


def test_cosine_schedule_warms_up_then_decays():
    schedule = recipes.learning_rate(RECIPES["improved"], 0.002, steps_per_epoch=10, num_epochs=20)
    rates = [float(schedule(step)) for step in (0, 20, 100, 199)]  # warm-up: the first 10% of the steps
    assert rates[0] < rates[1] and rates[1] == pytest.approx(0.002)
    assert rates[1] > rates[2] > rates[3] and rates[3] < 0.0002
    assert recipes.learning_rate(RECIPES["student"], 0.001, 10, 20) == 0.001


def test_early_stopping_only_with_a_validation_split():
    stops = recipes.callbacks(RECIPES["improved"], has_validation=True)
    assert len(stops) == 1 and stops[0].restore_best_weights and stops[0].monitor == "val_loss"
    assert recipes.callbacks(RECIPES["improved"], has_validation=False) == []
    assert recipes.callbacks(RECIPES["student"], has_validation=True) == []


@pytest.mark.slow  # real Keras training or tracing: a conv net, several runs or another process
def test_the_improved_recipe_trains_the_same_architecture(digits):
    result = train(TrainConfig(architecture="conv", sample_size=100, num_epochs=2, recipe="improved",
                               learning_rate=0.002), digits)
    assert result.num_params == 600_810
    assert len(result.history["loss"]) == 2 and result.test_probabilities.shape == (1000, 10)


def test_pipelines_run_without_tf_data_autotuning_or_a_thread_pool():
    """On 2 cores tf.data's autotuner stalled about one epoch in three (benchmarks/README.md)."""
    x = np.zeros((20, 28, 28), dtype=np.uint8)
    y = np.arange(20) % 10
    for pipeline in (recipes.training_pipeline(x, y, 8, 0, RECIPES["student"]),
                     recipes.validation_pipeline(x, y, 8)):
        options = pipeline.options()
        assert options.autotune.enabled is False
        assert options.threading.private_threadpool_size == 1


def test_validation_pipeline_scales_once_and_keeps_the_order():
    x = np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8)
    y = np.arange(20) % 10
    pipeline = recipes.validation_pipeline(x, y, 8)
    for _ in range(2):  # a second epoch reads the cache: the same batches
        batches = list(pipeline)
        assert [len(labels) for _, labels in batches] == [8, 8, 4]
        images = np.concatenate([images.numpy() for images, _ in batches])
        assert images.shape == (20, 28, 28, 1) and images.dtype == np.float32
        np.testing.assert_allclose(images[..., 0], x / 255.0, rtol=1e-6)
        assert np.concatenate([labels.numpy() for _, labels in batches]).tolist() == y.tolist()


def all_batches(recipe, seed, x, y):
    return [(images.numpy(), labels.numpy()) for images, labels in recipes.training_pipeline(x, y, 16, seed, recipe)]


def test_the_benchmarks_elastic_distortion_moves_ink_keeps_labels_and_repeats_with_the_seed(monkeypatch):
    """benchmarks/select_recipe.py's elastic candidates, through the pipeline's batch_distortion hook."""
    import sys
    from dataclasses import fields
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "benchmarks"))
    monkeypatch.delitem(sys.modules, "select_recipe", raising=False)
    from select_recipe import Candidate

    x = np.random.default_rng(0).integers(0, 256, (40, 28, 28), dtype=np.uint8)
    y = np.arange(40) % 10
    plain = RECIPES["student"]
    elastic = Candidate(**{item.name: getattr(plain, item.name) for item in fields(plain)}, elastic=2.0)
    assert plain.batch_distortion(3) is None
    first, again, other = all_batches(elastic, 3, x, y), all_batches(elastic, 3, x, y), all_batches(elastic, 4, x, y)
    undistorted = all_batches(plain, 3, x, y)
    for (images, labels), (same_images, _same_labels), (plain_images, plain_labels) in zip(first, again, undistorted):
        np.testing.assert_array_equal(images, same_images)  # one seed: the same distortions, batch by batch
        np.testing.assert_array_equal(labels, plain_labels)  # the same digits, in the same order
        assert images.shape == plain_images.shape and 0 <= images.min() and images.max() <= 1
        assert np.abs(images - plain_images).mean() > 0.01  # the ink moved
    assert not np.array_equal(first[0][0], other[0][0])


def test_a_weight_average_and_early_stopping_are_refused_together():
    from dataclasses import replace

    with pytest.raises(ValueError, match="do not combine"):
        replace(RECIPES["improved"], ema_momentum=0.99)


def test_with_a_weight_average_fit_ends_with_the_averaged_weights():
    import keras

    from core.training import make_optimizer

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    optimizer = make_optimizer("adam", 0.05, ema_momentum=0.9)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    model.fit(x, np.arange(64) % 3, epochs=3, batch_size=8, verbose=0)
    averages = [variable.numpy() for variable in optimizer._model_variables_moving_average]
    for weight, average in zip(model.trainable_weights, averages):
        np.testing.assert_allclose(weight.numpy(), average)


@pytest.mark.slow  # real Keras training or tracing: a conv net, several runs or another process
def test_the_averaged_recipe_trains_the_same_networks_without_stopping_early(digits):
    recipe = RECIPES["averaged"]
    assert recipe.ema_momentum and recipe.weight_decay and recipe.early_stopping_patience is None
    assert recipes.callbacks(recipe, has_validation=True) == []  # the validation digits only draw the curves
    assert TrainConfig(recipe="averaged").num_epochs == recipe.default_epochs
    assert len({run_id(TrainConfig(recipe=name), "k") for name in RECIPES}) == len(RECIPES)
    for architecture, num_params in (("flat", 42_310), ("conv", 600_810)):
        result = train(TrainConfig(architecture=architecture, sample_size=100, num_epochs=2, recipe="averaged"),
                       digits)
        assert result.num_params == num_params
        assert len(result.history["loss"]) == 2 and result.test_probabilities.shape == (1000, 10)


def test_an_averaged_run_is_stored_and_reopens_with_the_averaged_weights(digits, tmp_path):
    from core.runs import RunStore

    store = RunStore(tmp_path)
    config = TrainConfig(architecture="flat", sample_size=100, num_epochs=2, recipe="averaged")
    trained = service(store).get_or_train(config, digits)
    again = service(RunStore(tmp_path)).get_or_train(config, digits)
    assert not trained.cached and again.cached and again.run.run_id == trained.run.run_id
    reopened = again.run.load_model().predict(digits.x_test[:50].reshape(-1, 28, 28, 1) / 255.0, verbose=0)
    np.testing.assert_allclose(reopened, again.run.probabilities()[:50], atol=1e-5)


@pytest.mark.slow  # real Keras training or tracing: a conv net, several runs or another process
def test_a_short_averaged_run_averages_its_own_training_not_its_initial_weights(digits):
    """With the recipe's momentum (0.995) over 30 steps, the average still held 86% of the random initial
    weights: the conv net ended at 21% test accuracy while its own weights were at 64%."""
    assert recipes.ema_momentum(RECIPES["averaged"], steps_per_epoch=32, num_epochs=200) == 0.995  # as chosen
    assert recipes.ema_momentum(RECIPES["averaged"], steps_per_epoch=10, num_epochs=3) < 0.7
    assert recipes.ema_momentum(RECIPES["student"], 10, 3) is None
    result = train(TrainConfig(architecture="flat", sample_size=300, num_epochs=3, recipe="averaged"), digits)
    own_weights = result.history["val_accuracy"][-1]  # the last epoch's weights, on 1,000 other pool digits
    assert abs(result.test_accuracy - own_weights) < 0.1, (result.test_accuracy, own_weights)

import numpy as np
import pytest

from core import recipes
from core.config import TrainConfig, run_id
from core.recipes import RECIPES
from core.training import train


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

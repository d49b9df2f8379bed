"""The cost model: read off the spec, monotone where it must be, and what-would-fit advice that does fit."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core import costs
from core.architectures import ArchitectureSpec
from core.layers import Conv, Dense, Flatten, MaxPool
from core.config import TrainConfig


def test_multiply_adds_and_activations_of_the_conv_net_by_hand():
    spec = TrainConfig(architecture="conv").spec
    # conv 26*26*(9*1+1)*32, conv 24*24*(9*32+1)*32, dense (4608+1)*128, output (128+1)*10
    assert costs.multiply_adds(spec) == 26 * 26 * 320 + 24 * 24 * 9248 + 589_952 + 1290
    # input 784; conv 26*26*32; conv 24*24*32; pool, dropout, flatten 12*12*32 each; dense 128, dropout 128, out 10
    assert costs.activation_values(spec) == 784 + 21632 + 18432 + 3 * 4608 + 128 + 128 + 10


def test_memory_grows_with_batch_size_and_parameters_and_time_with_images_and_epochs(digits):
    conv = TrainConfig(architecture="conv", sample_size=1000)
    assert costs.peak_mb(replace(conv, batch_size=256), digits) > costs.peak_mb(conv, digits) > costs.WORKER_BASE_MB
    assert costs.peak_mb(TrainConfig(architecture="flat-wide"), digits) > costs.peak_mb(TrainConfig(), digits)
    one = costs.estimate(conv, digits).seconds
    assert costs.estimate(replace(conv, num_epochs=24), digits).seconds > one
    assert costs.estimate(replace(conv, sample_size=2000), digits).seconds > one
    assert costs.estimate(conv, digits).seconds > costs.estimate(TrainConfig(), digits).seconds  # conv is slower


def test_stored_timings_replace_the_arithmetic_for_their_network(digits):
    config = TrainConfig(sample_size=300, num_epochs=2)
    assert (costs.estimate(config, digits, {"flat": 0.01}).seconds
            == pytest.approx(0.01 * 300 * 2 + costs.SECONDS_PER_RUN))


def test_wide_convolutions_cost_what_their_arithmetic_says(digits):
    """Two 700-filter 3x3 convolutions: under the parameter cap, but minutes per epoch (issue 30's example)."""
    wide = ArchitectureSpec("wide", "image", (Conv(700, 3), Conv(700, 3), MaxPool(4), Flatten(), Dense(8)))
    assert wide.num_params < 5_000_000
    config = TrainConfig.for_network(wide, sample_size=100, num_epochs=1)
    conv = TrainConfig(architecture="conv", sample_size=100, num_epochs=1)
    assert costs.estimate(config, digits).seconds > 10 * costs.estimate(conv, digits).seconds


def test_the_largest_batch_within_a_budget_fits_it_and_twice_it_does_not(digits):
    config = TrainConfig(architecture="conv", batch_size=8192)
    budget = costs.WORKER_BASE_MB + 400
    batch = costs.largest_batch_within(config, digits, budget)
    assert batch and costs.peak_mb(replace(config, batch_size=batch), digits) <= budget
    assert costs.peak_mb(replace(config, batch_size=batch * 2), digits) > budget
    assert costs.largest_batch_within(config, digits, costs.WORKER_BASE_MB / 2) is None

"""What a training costs before it runs: the peak memory of the process that trains it, and its time.

Both are read off the network's spec (core/architectures.py: each layer's output shape and parameter count),
the batch size, the sample size and the epochs — no TensorFlow needed, so the web server can cost a request
before a worker takes it (core/runs/workers.py) and refuse what the memory budget cannot hold.

Memory, in MB, of a worker process training one run (measured on these machines: benchmarks/bench_costs.py
prints the estimate beside the peak of real runs, and a slow test checks two of them):

    WORKER_BASE_MB                      Python, TensorFlow and Keras imported, the traced training functions
    + DATA_COPIES × dataset arrays      uint8 training pool and test set, kept by the worker
    + PARAMETER_COPIES × 4 B × params   weights, gradients, Adam's two moments, the weight average
    + ACTIVATION_FACTOR × 4 B × batch × (values every layer outputs for one image)
                                        forward activations kept for the backward pass, their gradients and
                                        the kernels' scratch space
    + the same for a prediction batch (core.training.PREDICT_BATCH_SIZE), forward only

Time: the epochs × images × seconds per image and epoch — the median of this store's runs of the same network
where there are any, else from the network's multiply-adds (3 per forward one: forward, and two for the
backward pass) at MULTIPLY_ADDS_PER_SECOND plus a per-image overhead and one per convolution layer (smaller
with larger batches) — plus a fixed start-up per run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.architectures import ArchitectureSpec
from core.config import TrainConfig
from core.data import Dataset

MB = 1024**2
# Fitted to benchmarks/bench_costs.py's runs (benchmarks/README.md, "The cost model"): estimates within
# 0.95-1.1x of the measured peaks from flat at 1,000 images to conv on Fashion-MNIST's 60,000.
WORKER_BASE_MB = 800.0
DATA_COPIES = 2         # the arrays, and the copies made while reading them
PARAMETER_COPIES = 6
ACTIVATION_FACTOR = 1.5
SAMPLE_COPIES = 2
PREDICT_BATCH = 250  # core.training.PREDICT_BATCH_SIZE (not imported: that module is heavier)
MULTIPLY_ADDS_PER_SECOND = 2.5e10
SECONDS_PER_IMAGE_EPOCH_OVERHEAD = 1.6e-4  # the flat net's time per image and epoch is almost all overhead
SECONDS_PER_CONV_LAYER_AT_BATCH_32 = 5.5e-4  # a convolution's own overhead per image, shrinking with the batch
SECONDS_PER_RUN = 1.5                      # building, the first epoch's tracing, the test predictions


@dataclass(frozen=True)
class Cost:
    peak_mb: float  # the training process's peak resident memory, TensorFlow included
    seconds: float  # training, start-up included

    def describe(self) -> str:
        return f"about {self.peak_mb:,.0f} MB and {self.seconds:,.0f} s"


def activation_values(spec: ArchitectureSpec) -> int:
    """Values all layers output for one image (input included): what a batch keeps per image in memory."""
    return 28 * 28 + sum(math.prod(row.output_shape) for row in spec.rows)


def multiply_adds(spec: ArchitectureSpec) -> int:
    """Multiply-adds of one forward pass of one image: a dense layer's weights once each, a convolution's
    kernel once per output position."""
    total = 0
    for row in spec.rows:
        if row.type == "Conv2D":
            height, width, _ = row.output_shape
            total += height * width * row.params  # params ≈ kernel × kernel × channels × filters (+ bias)
        elif row.type == "Dense":
            total += row.params
    return total


def peak_mb(config: TrainConfig, dataset: Dataset) -> float:
    """The estimated peak resident memory (MB) of a process training `config` on `dataset`."""
    spec = config.spec
    data = DATA_COPIES * _dataset_bytes(dataset) / MB
    parameters = PARAMETER_COPIES * 4 * spec.num_params / MB
    per_image = activation_values(spec) * 4 / MB
    activations = ACTIVATION_FACTOR * per_image * config.batch_size + per_image * PREDICT_BATCH
    sample = SAMPLE_COPIES * config.sample_size * 28 * 28 / MB  # the sample's uint8 copies the pipeline reads
    return WORKER_BASE_MB + data + parameters + activations + sample


PERTURBED_SETS_MB = 160  # core.robustness.MAX_PERTURBED_BYTES: perturbed test sets a worker keeps


def prediction_peak_mb(specs: list[ArchitectureSpec], dataset: Dataset | None = None, images: int = 1,
                       gradient: bool = False) -> float:
    """The estimated peak resident memory (MB) of a worker predicting `images` digits at once with each of `specs`
    (Try it: one digit and its saliency, `gradient`; robustness: up to core.robustness.MAX_IMAGES_PER_CALL perturbed
    digits, its perturbed sets and the dataset). Each model's weights are loaded once and kept; a predict batch's
    activations are the largest model's (twice with a gradient); the inputs are uint8 and their float32 copy."""
    data = DATA_COPIES * _dataset_bytes(dataset) / MB + PERTURBED_SETS_MB if dataset is not None else 0.0
    weights = sum(2 * 4 * spec.num_params for spec in specs) / MB  # the weights, and a copy while loading
    batch = min(images, PREDICT_BATCH)
    activations = (1 + gradient) * max((activation_values(spec) for spec in specs), default=0) * 4 * batch / MB
    inputs = images * 28 * 28 * (1 + 4) / MB
    return WORKER_BASE_MB + data + weights + activations + inputs


def _dataset_bytes(dataset: Dataset) -> int:
    return dataset.x_train.nbytes + dataset.x_test.nbytes + dataset.y_train.nbytes + dataset.y_test.nbytes


def seconds_per_image_epoch(spec: ArchitectureSpec, batch_size: int = 32) -> float:
    convolutions = sum(row.type == "Conv2D" for row in spec.rows)
    return (3 * multiply_adds(spec) / MULTIPLY_ADDS_PER_SECOND + SECONDS_PER_IMAGE_EPOCH_OVERHEAD
            + convolutions * SECONDS_PER_CONV_LAYER_AT_BATCH_32 * math.sqrt(32 / batch_size))


def estimate(config: TrainConfig, dataset: Dataset, measured: dict[str, float] | None = None) -> Cost:
    """The cost of training `config` on `dataset`; `measured` maps a network's name to its median seconds per
    image and epoch in the store (used instead of the spec's arithmetic where present)."""
    per_image = (measured or {}).get(config.architecture) or seconds_per_image_epoch(config.spec, config.batch_size)
    seconds = per_image * config.sample_size * config.num_epochs + SECONDS_PER_RUN
    return Cost(peak_mb(config, dataset), seconds)


def largest_batch_within(config: TrainConfig, dataset: Dataset, megabytes: float) -> int | None:
    """The largest batch size (a power of two, at most the config's) whose training fits in `megabytes`."""
    from dataclasses import replace

    batch = 1 << (config.batch_size.bit_length() - 1)
    while batch >= 1:
        if peak_mb(replace(config, batch_size=batch), dataset) <= megabytes:
            return batch
        batch //= 2
    return None


def over_budget_advice(config: TrainConfig, dataset: Dataset, free_mb: float) -> str:
    """What would fit in `free_mb`, for a refusal's message."""
    batch = largest_batch_within(config, dataset, free_mb)
    return (f"a batch size of {batch} or less fits" if batch else
            "no batch size fits: choose a smaller network (fewer filters or units, or pool earlier)")

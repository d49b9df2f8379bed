"""The pixels' order, a data option: as drawn, or shuffled by one fixed permutation of the 784 positions.

Shuffling every image with the same permutation is the classic control for "is it the spatial structure?"
(Zhang et al., "Understanding deep learning requires rethinking generalization", ICLR 2017, §2 "shuffled
pixels"; Greydanus & Kobak, "Scaling down deep learning with MNIST-1D", ICML 2024: a CNN fell from 94% to
56% on shuffled inputs while an MLP stayed at 68%). A flat network's first layer is a full matrix over the
784 inputs, so any fixed order is the same problem to it; a convolution's prior — neighbouring pixels
belong together — no longer holds.

One permutation, drawn once from PERMUTATION_SEED, is applied to training, validation and test images
alike (and to Try it's digits and the robustness test's perturbed digits: perturbed first, as drawn, then
shuffled). The setting is declared here once: its name, choices, labels, default and help text.
"""

from __future__ import annotations

import functools

import numpy as np

from core.data import IMAGE_SHAPE

NAME = "pixels"
DRAWN, SHUFFLED = "drawn", "shuffled"
PIXEL_ORDERS = {DRAWN: "As drawn", SHUFFLED: "Shuffled"}  # short: whole in a box; HELP says how
DEFAULT = DRAWN
HELP = ("Shuffled: every image's 784 pixels are moved by one fixed permutation (the same for training, "
        "validation and test images). A flat network can learn any order; a convolution's idea that "
        "neighbouring pixels belong together no longer holds.")
PERMUTATION_SEED = 784  # fixed forever: a shuffled run's identity assumes this permutation
NUM_PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]


def check_pixels(value: str) -> str:
    if value not in PIXEL_ORDERS:
        raise ValueError(f"Unknown pixel order {value!r}; choose from: {', '.join(PIXEL_ORDERS)}.")
    return value


@functools.lru_cache(maxsize=4)
def permutation(seed: int = PERMUTATION_SEED, num_pixels: int = NUM_PIXELS) -> np.ndarray:
    """The positions' new order, (num_pixels,) int: shuffled[..., i] = drawn[..., permutation[i]]. Read-only."""
    order = np.random.default_rng(seed).permutation(num_pixels)
    order.setflags(write=False)
    return order


def arrange(images: np.ndarray, pixels: str) -> np.ndarray:
    """`images` (..., 28, 28), any dtype, in the order `pixels` asks for: the same array for "drawn", a
    shuffled copy otherwise (the last two axes flattened, permuted, reshaped back)."""
    if check_pixels(pixels) == DRAWN:
        return images
    images = np.asarray(images)
    if images.shape[-2:] != IMAGE_SHAPE:
        raise ValueError(f"Images must end in {IMAGE_SHAPE[0]}×{IMAGE_SHAPE[1]} pixels; got shape {images.shape}.")
    flat = images.reshape(*images.shape[:-2], NUM_PIXELS)  # (..., 784)
    return flat[..., permutation()].reshape(images.shape)


def restore(images: np.ndarray, pixels: str) -> np.ndarray:
    """The inverse of `arrange`: shuffled maps (a saliency map, a flat net's weights) back to where the
    pixels were drawn, (..., 28, 28)."""
    if check_pixels(pixels) == DRAWN:
        return images
    images = np.asarray(images)
    flat = images.reshape(*images.shape[:-2], NUM_PIXELS)
    return flat[..., np.argsort(permutation())].reshape(images.shape)


def arrange_batches(pipeline, pixels: str):
    """A tf.data pipeline of (images (batch, 28, 28, 1) float, labels) batches, shuffled as `pixels` asks
    after everything else (an augmenting recipe moves the digit as drawn, then its pixels are shuffled).
    The same pipeline object for "drawn"."""
    if check_pixels(pixels) == DRAWN:
        return pipeline
    import tensorflow as tf

    order = tf.constant(permutation(), dtype=tf.int32)

    def shuffle(images, labels):
        shape = tf.shape(images)
        flat = tf.reshape(images, (shape[0], NUM_PIXELS))  # (batch, 784)
        return tf.reshape(tf.gather(flat, order, axis=1), shape), labels

    return pipeline.map(shuffle)


def arm_label(name: str, pixels: str) -> str:
    """How a network trained on `pixels` is named in a study and a comparison: "conv", "conv (shuffled)"."""
    return name if check_pixels(pixels) == DRAWN else f"{name} ({pixels})"


def split_label(label: str) -> tuple[str, str]:
    """("conv", "shuffled") from "conv (shuffled)"; (label, "drawn") for a plain network name."""
    for pixels in PIXEL_ORDERS:
        suffix = f" ({pixels})"
        if pixels != DRAWN and label.endswith(suffix):
            return label[: -len(suffix)], pixels
    return label, DRAWN

"""Looking inside the networks: predictions, feature maps, filters, first-layer weights and saliency.

Plain numpy results; the page only renders them. Saliency needs gradients, which Keras 3 leaves to the
backend: this module uses TensorFlow's GradientTape (the backend the project runs on).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _batch(image: np.ndarray) -> np.ndarray:
    """(28, 28) in 0..1 -> (1, 28, 28, 1) float32."""
    image = np.asarray(image, dtype=np.float32)
    if image.shape != (28, 28):
        raise ValueError(f"Expected a 28x28 image, got {image.shape}.")
    return image[np.newaxis, :, :, np.newaxis]


def predict_probabilities(model, image: np.ndarray) -> np.ndarray:
    """Class probabilities (10,) for one 28x28 image."""
    return np.asarray(model(_batch(image), training=False))[0]


def conv_layers(model) -> list:
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def feature_maps(model, image: np.ndarray) -> dict[str, np.ndarray]:
    """Each conv layer's activations for the image: name -> (height, width, channels)."""
    import keras

    layers = conv_layers(model)
    if not layers:
        return {}
    probe = keras.Model(inputs=model.inputs[0], outputs=[layer.output for layer in layers])
    outputs = probe(_batch(image), training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return {layer.name: np.asarray(output)[0] for layer, output in zip(layers, outputs)}  # (h, w, 32)


def first_conv_filters(model) -> np.ndarray | None:
    """The first conv layer's kernels as (num_filters, 3, 3), or None for a model without one."""
    layers = conv_layers(model)
    if not layers:
        return None
    kernel = np.asarray(layers[0].kernel)  # (3, 3, 1, 32)
    return np.moveaxis(kernel[:, :, 0, :], -1, 0)


def first_dense_weight_images(model) -> np.ndarray | None:
    """A flat model's first Dense layer as one 28x28 image per unit, (units, 28, 28); None if not flat."""
    import keras

    layers = [layer for layer in model.layers if isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D))]
    if not layers or not isinstance(layers[0], keras.layers.Dense):
        return None
    kernel = np.asarray(layers[0].kernel)  # (784, units)
    if kernel.shape[0] != 28 * 28:
        return None
    return kernel.T.reshape(-1, 28, 28)


def saliency(model, image: np.ndarray, class_index: int | None = None) -> np.ndarray:
    """|d score / d pixel| for the predicted (or given) class, scaled to 0..1, (28, 28)."""
    import tensorflow as tf

    inputs = tf.convert_to_tensor(_batch(image))
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        probabilities = model(inputs, training=False)
        chosen = int(tf.argmax(probabilities[0])) if class_index is None else class_index
        score = probabilities[0, chosen]
    gradient = np.abs(tape.gradient(score, inputs).numpy()[0, :, :, 0])
    return gradient / max(float(gradient.max()), 1e-12)


@dataclass(frozen=True)
class Look:
    """Everything Try it shows of one model for one digit, as plain arrays (computed where the model is)."""
    probabilities: np.ndarray                 # (10,)
    saliency: np.ndarray                      # (28, 28) in 0..1
    filters: np.ndarray | None                # (num_filters, k, k): the first conv layer's kernels
    feature_maps: dict                        # conv layer name -> (height, width, channels)
    dense_weights: np.ndarray | None          # (units, 28, 28): a flat model's first layer


def look(model, image: np.ndarray, order: str = "drawn") -> Look:
    """The model's answer for a (28, 28) image in 0..1 and the views inside it. `order`: the pixel order the
    model was trained on (core/pixels.py); the image is given to it in that order, and its saliency and a flat
    net's weights are put back where the pixels were drawn (feature maps stay as the network saw them)."""
    from core import pixels

    seen = pixels.arrange(image, order)
    weights = first_dense_weight_images(model)
    return Look(predict_probabilities(model, seen), pixels.restore(saliency(model, seen), order),
                first_conv_filters(model), feature_maps(model, seen),
                None if weights is None else pixels.restore(weights, order))


def looks_in_worker(store_root: str, run_ids: list[str], image: np.ndarray, orders: list[str] | None = None,
                    emit=None) -> dict[str, Look]:
    """`look` for each stored run (trained on pixels in `orders`, default as drawn), in a worker process, which
    keeps recently used models loaded: run id -> Look. ValueError names a run that can no longer be opened."""
    from core.runs.jobs import worker_model

    orders = orders or ["drawn"] * len(run_ids)
    return {run_id: look(worker_model(store_root, run_id), image, order) for run_id, order in zip(run_ids, orders)}

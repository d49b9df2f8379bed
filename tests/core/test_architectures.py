import numpy as np
import pytest

from core import architectures
from core.architectures import ARCHITECTURES, Architecture, build, layer_table
from core.config import TrainConfig

EXPECTED = {
    "flat": [("flatten", (None, 784), 0), ("dense_1", (None, 50), 39250), ("dense_2", (None, 50), 2550),
             ("output", (None, 10), 510)],
    "conv": [("conv2d_1", (None, 26, 26, 32), 320), ("conv2d_2", (None, 24, 24, 32), 9248),
             ("max_pooling2d", (None, 12, 12, 32), 0), ("dropout_1", (None, 12, 12, 32), 0),
             ("flatten", (None, 4608), 0), ("dense_1", (None, 128), 589952), ("dropout_2", (None, 128), 0),
             ("output", (None, 10), 1290)],
}


@pytest.mark.parametrize("name, total", [("flat", 42_310), ("conv", 600_810)])
def test_parameter_counts_match_the_students_models(name, total):
    assert build(name).count_params() == total


@pytest.mark.parametrize("name", ["flat", "conv"])
def test_every_layer_has_the_students_output_shape_and_params(name):
    model = build(name)
    actual = [(layer.name, tuple(layer.output.shape), layer.count_params()) for layer in model.layers]
    assert actual == EXPECTED[name]


def test_layer_table_reads_like_the_students_summary():
    rows = layer_table(build("conv"))
    assert rows[0] == {"layer": "conv2d_1", "type": "Conv2D", "output_shape": "(None, 26, 26, 32)", "params": 320}
    assert sum(row["params"] for row in rows) == 600_810


def test_a_third_architecture_is_one_function_and_one_registry_entry(monkeypatch):
    def build_tiny():
        import keras

        return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                 keras.layers.Dense(10, activation="softmax")])

    monkeypatch.setitem(ARCHITECTURES, "tiny", Architecture("tiny", "Tiny", "softmax regression", build_tiny))
    assert TrainConfig(architecture="tiny").architecture == "tiny"
    assert build("tiny").count_params() == 7850


def test_unknown_architecture_is_a_clear_value_error():
    with pytest.raises(ValueError, match="Unknown architecture 'resnet'; choose from: flat, conv"):
        architectures.build("resnet")


def test_bfloat16_runs_the_convolutions_in_bfloat16_and_keeps_weights_and_dense_layers_float32():
    model = build("conv", "bfloat16")
    compute = {layer.name: layer.dtype_policy.compute_dtype for layer in model.layers}
    assert {name: compute[name] for name in ("conv2d_1", "conv2d_2", "max_pooling2d")} == \
        dict.fromkeys(("conv2d_1", "conv2d_2", "max_pooling2d"), "bfloat16")
    assert compute["dense_1"] == compute["output"] == "float32"
    assert {variable.dtype for variable in model.weights} == {"float32"}
    assert model.count_params() == 600_810
    assert [(layer.name, tuple(layer.output.shape)) for layer in model.layers] == \
        [(name, shape) for name, shape, _ in EXPECTED["conv"]]
    assert model(np.zeros((2, 28, 28, 1), dtype="float32")).dtype == "float32"  # softmax in float32


def test_float32_is_the_default_and_an_unknown_precision_is_refused():
    assert {layer.dtype_policy.compute_dtype for layer in build("conv").layers} == {"float32"}
    assert {layer.dtype_policy.compute_dtype for layer in build("flat", "bfloat16").layers} == {"float32"}
    with pytest.raises(ValueError, match="Unknown precision 'fp8'; choose from: float32, bfloat16"):
        build("conv", "fp8")

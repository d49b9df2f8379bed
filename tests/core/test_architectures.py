import hashlib
import json
import re

import numpy as np
import pytest

from core import architectures
from core.architectures import PRESETS, ArchitectureSpec, build, layer_rows, layer_table, parameter_matched
from core.layers import LAYER_KINDS, AvgPool, Conv, Dense, Dropout, Flatten, MaxPool
from core.config import TrainConfig, run_id

EXPECTED = {
    "flat": [("flatten", (None, 784), 0), ("dense_1", (None, 50), 39250), ("dense_2", (None, 50), 2550),
             ("output", (None, 10), 510)],
    "conv": [("conv2d_1", (None, 26, 26, 32), 320), ("conv2d_2", (None, 24, 24, 32), 9248),
             ("max_pooling2d", (None, 12, 12, 32), 0), ("dropout_1", (None, 12, 12, 32), 0),
             ("flatten", (None, 4608), 0), ("dense_1", (None, 128), 589952), ("dropout_2", (None, 128), 0),
             ("output", (None, 10), 1290)],
}


@pytest.mark.parametrize("name, total", [("flat", 42_310), ("conv", 600_810), ("flat-wide", 600_247),
                                         ("conv-small", 42_542), ("flat-dropout", 42_310)])
def test_preset_parameter_counts_are_exact_in_keras_and_in_the_specs_own_arithmetic(name, total):
    assert PRESETS[name].num_params == total
    assert build(name).count_params() == total


@pytest.mark.parametrize("name", ["flat", "conv"])
def test_every_layer_has_the_students_output_shape_and_params(name):
    model = build(name)
    actual = [(layer.name, tuple(layer.output.shape), layer.count_params()) for layer in model.layers]
    assert actual == EXPECTED[name]


CUSTOM = [
    ArchitectureSpec("deep", "image", (Conv(16, 5), MaxPool(2), Conv(8, 3, "tanh"), MaxPool(2), Flatten(),
                                       Dense(20, "elu"), Dropout(0.1), Dense(20))),
    ArchitectureSpec("one-pixel", "image", (Conv(4, 28), Flatten())),
    ArchitectureSpec("pools", "image", (MaxPool(3), MaxPool(3), Flatten(), Dense(7, "sigmoid"))),
    ArchitectureSpec("softmax-regression", "vector", ()),
]


# Taken before layers became classes that own their behaviour (issue 29): what each network computes (its
# hash), its parameter count, the run id of its default config, and digests of its JSON and its layer table.
GOLDEN = {
    "flat": ("1c8fcbe9c2d6288a", 42_310, "6972629b35de6bb0", "e559fa4533559088", "9c32d5939d6ff58b"),
    "conv": ("4c748505acc12ea7", 600_810, "af4e28378a7676c7", "12ddf078f01448af", "b8370dddcd1da84b"),
    "flat-wide": ("356d301e62fddbe5", 600_247, "9057824f06769017", "93e062f390a0bb11", "13c476ce1474a290"),
    "conv-small": ("c5ed2321520e7e4b", 42_542, "4af169fdeaa7e237", "84cb63fd0cdfce7a", "8622e3f5dfc70f69"),
    "flat-dropout": ("3cb0d25df3c45ad5", 42_310, "ff6216d3a24e7c67", "5df30fc9c2c7c5f2", "68b75a8e6c00e6e8"),
    "deep": ("ebf62528325745c9", 6_226, "066d441624ed2e8f", "ac5c07c41acbb18d", "a669e0364b2fef8e"),
    "one-pixel": ("835fb43ada409bfd", 3_190, "89df34f2bc3fa20f", "f4fc39eb35b78e47", "9801e13c3ddd4e07"),
    "pools": ("e0b2b7ca48c370b1", 150, "c05ca501a8ed23fe", "f916eace789a8cb7", "8a2b047591b54d92"),
    "softmax-regression": ("d3ef80c24623f962", 7_850, "2d247575696dd2df", "ddafb3e11dd1b3fb", "fa24604488cae1c9"),
}


@pytest.mark.parametrize("spec", [*PRESETS.values(), *CUSTOM], ids=lambda spec: spec.name)
def test_hashes_run_ids_json_and_layer_tables_are_the_golden_ones(spec):
    """Stored runs stay valid only if a network's JSON, hash and run id never change."""
    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    actual = (spec.hash, spec.num_params, run_id(TrainConfig.for_network(spec), "k"), digest(spec.to_json()),
              digest(json.dumps(layer_rows(spec))))
    assert actual == GOLDEN[spec.name]


@pytest.mark.parametrize("spec", [*PRESETS.values(), *CUSTOM], ids=lambda spec: spec.name)
def test_the_specs_layer_table_is_the_one_keras_builds(spec):
    assert layer_rows(spec) == layer_table(build(spec))


def test_layer_table_reads_like_the_students_summary():
    rows = layer_table(build("conv"))
    assert rows[0] == {"layer": "conv2d_1", "type": "Conv2D", "output_shape": "(None, 26, 26, 32)", "params": 320}
    assert sum(row["params"] for row in rows) == 600_810


def test_the_matched_controls_are_within_two_percent_of_what_they_match():
    assert parameter_matched(PRESETS["conv"], PRESETS["flat-wide"])
    assert parameter_matched(PRESETS["conv-small"], PRESETS["flat"])
    assert not parameter_matched(PRESETS["conv"], PRESETS["flat"])
    assert not parameter_matched(PRESETS["flat"], PRESETS["flat-dropout"])  # same count, but no convolution in either
    assert PRESETS["flat-dropout"].layers[::2] == PRESETS["flat"].layers  # flat's layers, dropout between
    assert {layer.rate for layer in PRESETS["flat-dropout"].layers if layer.kind == "dropout"} == \
        {layer.rate for layer in PRESETS["conv"].layers if layer.kind == "dropout"}


@pytest.mark.parametrize("spec", [*PRESETS.values(), *CUSTOM], ids=lambda spec: spec.name)
def test_spec_json_round_trips(spec):
    again = ArchitectureSpec.from_json(spec.to_json())
    assert again == spec and again.hash == spec.hash and again.num_params == spec.num_params


def test_the_hash_is_what_the_network_computes_not_what_it_is_called():
    conv = PRESETS["conv"]
    assert conv.renamed("my-conv", "a copy").hash == conv.hash
    assert ArchitectureSpec("conv", "image", conv.layers[:-1]).hash != conv.hash
    assert ArchitectureSpec("flat", "vector", (Dense(50), Dense(50, "tanh"))).hash != PRESETS["flat"].hash
    assert len({spec.hash for spec in PRESETS.values()}) == len(PRESETS)


@pytest.mark.parametrize("input_kind, layers, message", [
    ("image", [{"type": "conv", "filters": 8, "kernel_size": 20}, {"type": "conv", "filters": 8, "kernel_size": 10},
               {"type": "flatten"}],
     "Layer 2 (Conv 8 10×10 relu) needs an image of at least 10×10 pixels but gets 9×9"),
    ("image", [{"type": "pool", "size": 20}, {"type": "pool", "size": 2}, {"type": "flatten"}],
     "Layer 2 (MaxPool 2) needs an image of at least 2×2 pixels but gets 1×1: use a smaller pool"),
    ("vector", [{"type": "dense", "units": 0}], "units must be a whole number from 1"),
    ("vector", [{"type": "dropout", "rate": 1.0}], "dropout rate must be at least 0 and below 1"),
    ("vector", [{"type": "dropout", "rate": -0.1}], "dropout rate must be at least 0 and below 1"),
    ("vector", [{"type": "dense", "units": 4096}, {"type": "dense", "units": 4096}], "is over the limit of 5,000,000"),
    ("image", [{"type": "dense", "units": 10}], "needs a vector: add a Flatten before it"),
    ("vector", [{"type": "conv", "filters": 8, "kernel_size": 3}], "the 784-vector input has no rows and columns"),
    ("image", [{"type": "flatten"}, {"type": "pool", "size": 2}], "already flattened"),
    ("image", [{"type": "conv", "filters": 8, "kernel_size": 3}], "end the image part with a Flatten"),
    ("image", [{"type": "lstm"}], "Unknown layer type 'lstm'"),
    ("image", [{"type": "flatten", "units": 3}], "has no setting units"),
    ("image", [{"type": "flatten"}, {"type": "dense", "units": 8, "activation": "swish"}], "Unknown activation"),
    ("colour", [], "'image' (28x28) or 'vector' (784)"),
])
def test_a_spec_that_cannot_build_says_why(input_kind, layers, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ArchitectureSpec.from_dict({"name": "bad", "input": input_kind, "layers": layers})


@pytest.mark.parametrize("text, message", [
    ("{nope", "Not valid JSON"), ("[]", "must be a JSON object"), ('{"name": "x", "input": "image"}', "needs layers"),
    ('{"name": "x", "input": "vector", "layers": [], "colour": 1}', "has no field colour"),
    ('{"name": "../etc", "input": "vector", "layers": []}', "name must be 1 to 40 letters"),
    ('{"name": "x", "input": "vector", "layers": {}}', "must be a JSON list"),
])
def test_bad_json_gets_one_clear_message(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ArchitectureSpec.from_json(text)


def test_a_new_variant_is_one_registry_line(monkeypatch):
    tiny = ArchitectureSpec("tiny", "vector", ())
    monkeypatch.setitem(PRESETS, "tiny", tiny)
    assert TrainConfig(architecture="tiny").spec == tiny
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
    assert {layer.dtype_policy.compute_dtype for layer in build("conv-small", "bfloat16").layers} >= {"bfloat16"}
    with pytest.raises(ValueError, match="Unknown precision 'fp8'; choose from: float32, bfloat16"):
        build("conv", "fp8")


def test_a_stored_preset_keeps_its_label_when_the_presets_description_is_reworded():
    reworded = PRESETS["conv"].renamed("conv", "an older description")
    assert reworded.label == "Convolutional"
    assert ArchitectureSpec("conv", "image", (Conv(4, 3), Flatten())).label == "conv"  # not the preset's layers


def test_average_pooling_a_layer_type_added_as_one_class_builds_as_its_spec_says():
    spec = ArchitectureSpec("averaged", "image", (Conv(4, 3), AvgPool(2), AvgPool(3), Flatten(), Dense(8)))
    assert [row["type"] for row in layer_rows(spec)][1:3] == ["AveragePooling2D", "AveragePooling2D"]
    assert [row["output_shape"] for row in layer_rows(spec)][1:3] == ["(None, 13, 13, 4)", "(None, 4, 4, 4)"]
    assert layer_rows(spec) == layer_table(build(spec))
    assert ArchitectureSpec.from_json(spec.to_json()) == spec and '"type": "avgpool"' in spec.to_json()
    swapped = ArchitectureSpec("averaged", "image", (Conv(4, 3), MaxPool(2), AvgPool(3), Flatten(), Dense(8)))
    assert swapped.hash != spec.hash and swapped.num_params == spec.num_params
    assert spec.has_low_precision_layers and \
        build(spec, "bfloat16").get_layer("average_pooling2d_1").dtype_policy.compute_dtype == "bfloat16"
    image = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)  # (1, 4, 4, 1)
    pooled = np.asarray(AvgPool(2).keras_layer("probe")(image))  # (1, 2, 2, 1): the mean of each 2x2 window
    assert pooled[0, :, :, 0].tolist() == [[2.5, 4.5], [10.5, 12.5]]
    with pytest.raises(ValueError, match=re.escape("Layer 3 (AvgPool 3) needs an image of at least 3×3 pixels but "
                                                   "gets 2×2: use a smaller pool")):
        ArchitectureSpec("small", "image", (AvgPool(7), AvgPool(2), AvgPool(3), Flatten()))


@pytest.mark.parametrize("kind", list(LAYER_KINDS))
def test_every_layer_type_checks_its_settings_and_names_itself(kind):
    layer_type = LAYER_KINDS[kind]
    layer = layer_type()  # the defaults are valid
    assert layer_type.label and layer.describe() and layer.kind == kind
    for name, setting in layer_type.settings().items():
        assert setting.label and setting.help
        wrong = "swish" if setting.choices else setting.high + 1
        with pytest.raises(ValueError, match=re.escape(setting.label if setting.choices else setting.what)):
            layer_type(**{name: wrong})

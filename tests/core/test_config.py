import json

import numpy as np
import pytest

from core.config import TrainConfig, run_id


def test_defaults_are_the_students_recipe():
    config = TrainConfig()
    assert (config.dataset, config.sample_size, config.num_epochs, config.batch_size, config.optimizer,
            config.learning_rate) == ("mnist", 1000, 12, 32, "adam", 0.001)


@pytest.mark.parametrize("field, bad, message", [
    ("sample_size", 5, "Training images must be at least 10"),
    ("sample_size", "1000", "Training images must be a whole number"),
    ("num_epochs", 0, "Epochs must be between 1 and 500"),
    ("num_epochs", 10_000, "Epochs must be between 1 and 500"),
    ("batch_size", 0, "Batch size must be between 1"),
    ("seed", -1, "Seed must be between 0"),
    ("optimizer", "adamw", "Optimizer must be one of adam, sgd, rmsprop, not 'adamw'"),
    ("learning_rate", 0.0, "Learning rate must be a number above 0"),
    ("learning_rate", "fast", "Learning rate must be a number above 0"),
    ("dataset", "cifar", "Unknown dataset 'cifar'"),
    ("architecture", "", "Unknown architecture ''"),
])
def test_bad_values_raise_value_errors_a_user_understands(field, bad, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{field: bad})


def test_run_id_is_stable_and_depends_on_config_and_data():
    config = TrainConfig(architecture="conv")
    assert run_id(config, "abc") == run_id(TrainConfig(architecture="conv"), "abc")
    assert run_id(config, "abc") != run_id(config, "abd")
    assert run_id(config, "abc") != run_id(TrainConfig(architecture="conv", seed=1), "abc")


def test_numpy_numbers_give_the_same_identity_as_python_numbers():
    config = TrainConfig(sample_size=np.int64(300), learning_rate=np.float32(0.5), seed=np.int32(2))
    assert run_id(config, "k") == run_id(TrainConfig(sample_size=300, learning_rate=0.5, seed=2), "k")
    assert type(config.sample_size) is int


def test_from_dict_round_trips_and_ignores_unknown_keys():
    config = TrainConfig(architecture="conv", sample_size=300)
    assert TrainConfig.from_dict({**config.to_dict(), "added_later": 1}) == config


def test_epochs_and_learning_rate_default_to_the_recipes():
    assert (TrainConfig().num_epochs, TrainConfig().learning_rate) == (12, 0.001)
    improved = TrainConfig(recipe="improved")
    assert (improved.num_epochs, improved.learning_rate) == (80, 0.002)
    assert TrainConfig(recipe="improved", num_epochs=5, learning_rate=0.01).num_epochs == 5
    assert run_id(TrainConfig(), "k") == run_id(TrainConfig(num_epochs=12, learning_rate=0.001), "k")


def test_precision_is_part_of_the_identity_only_where_it_changes_the_model():
    conv = TrainConfig(architecture="conv")
    assert conv.precision == "float32"
    assert run_id(conv, "k") != run_id(TrainConfig(architecture="conv", precision="bfloat16"), "k")
    flat = TrainConfig(architecture="flat", precision="bfloat16")
    assert flat.precision == "float32" and run_id(flat, "k") == run_id(TrainConfig(), "k")
    with pytest.raises(ValueError, match="Unknown precision 'half'"):
        TrainConfig(precision="half")


def test_adding_precision_kept_the_identity_of_runs_stored_before_it():
    """Runs stored before the precision field existed hashed their config without it."""
    import hashlib
    import json

    from core.config import FORMAT_VERSION

    config = TrainConfig(architecture="conv", recipe="improved")
    # Fields added later still ("pixels") are left out too: such a run's config had none of them.
    before = {key: value for key, value in config.to_dict().items() if key not in ("precision", "spec", "pixels")}
    payload = json.dumps({"config": before, "data": "k", "format": FORMAT_VERSION}, sort_keys=True)
    assert run_id(config, "k") == hashlib.sha256(payload.encode()).hexdigest()[:16]
    assert TrainConfig.from_dict(before) == config


# Ids computed by the code before networks were specs (commit 6548e2c), for data key "k".
IDS_BEFORE_SPECS = {("flat", "student"): "6972629b35de6bb0", ("conv", "student"): "af4e28378a7676c7",
                    ("flat", "improved"): "b57201cee39e9dc9", ("conv", "improved"): "3ed1f6673265ac31"}


@pytest.mark.parametrize("architecture, recipe", list(IDS_BEFORE_SPECS))
def test_the_seed_networks_kept_the_run_ids_they_had_before_networks_were_specs(architecture, recipe):
    assert run_id(TrainConfig(architecture=architecture, recipe=recipe), "k") == IDS_BEFORE_SPECS[architecture, recipe]
    assert run_id(TrainConfig(architecture="conv", precision="bfloat16", sample_size=300), "k") == "4e317240a2a12449"


def test_a_run_stored_before_specs_reads_back_as_the_preset():
    from core.architectures import PRESETS

    before = {key: value for key, value in TrainConfig(architecture="conv").to_dict().items() if key != "spec"}
    assert TrainConfig.from_dict(before).spec == PRESETS["conv"]


def test_the_network_is_part_of_the_identity():
    from core.architectures import PRESETS, ArchitectureSpec
    from core.layers import Dense

    mine = ArchitectureSpec("mine", "vector", (Dense(64),))
    wider = ArchitectureSpec("mine", "vector", (Dense(65),))
    ids = {run_id(TrainConfig.for_network(spec), "k") for spec in (mine, wider, *PRESETS.values())}
    assert len(ids) == 2 + len(PRESETS)
    # A network with the seed net's name but other layers is not the seed net.
    not_flat = ArchitectureSpec("flat", "vector", (Dense(64),))
    assert run_id(TrainConfig.for_network(not_flat), "k") != run_id(TrainConfig(), "k")


def test_a_custom_network_round_trips_through_the_stored_config():
    from core.architectures import ArchitectureSpec
    from core.layers import Conv, Flatten

    config = TrainConfig.for_network(ArchitectureSpec("tiny", "image", (Conv(4, 3), Flatten())), precision="bfloat16")
    again = TrainConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config and run_id(again, "k") == run_id(config, "k") and again.precision == "bfloat16"


def test_a_spec_must_carry_the_architectures_name():
    from core.architectures import PRESETS

    with pytest.raises(ValueError, match="named like the architecture 'flat'"):
        TrainConfig(architecture="flat", spec=PRESETS["conv"])


def test_pixels_change_the_run_id_only_for_shuffled_runs():
    drawn = TrainConfig(architecture="conv")
    assert TrainConfig(architecture="conv", pixels="drawn") == drawn
    assert run_id(drawn, "k") == "af4e28378a7676c7"  # the golden id above: adding the field kept it
    shuffled = TrainConfig(architecture="conv", pixels="shuffled")
    assert run_id(shuffled, "k") not in {run_id(drawn, "k"), run_id(TrainConfig(), "k")}
    assert TrainConfig.from_dict(shuffled.to_dict()) == shuffled
    with pytest.raises(ValueError, match="Unknown pixel order 'sorted'"):
        TrainConfig(pixels="sorted")

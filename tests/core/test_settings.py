"""Issue 29 item 1: each setting declared once (core/settings.py); the CLI's options, the links' fields, the kept
choices and runs' labels are derived from the declarations."""

from dataclasses import replace

import pytest

from core import cli, settings
from core.config import TrainConfig
from core.settings import SettingError
from core.study import CellReport, StudyProgress, StudySpec


def options(command: str) -> dict:
    parser = cli.build_parser()
    (commands,) = [action for action in parser._actions if action.dest == "command"]
    return {action.option_strings[0]: action for action in commands.choices[command]._actions
            if action.option_strings}


@pytest.mark.parametrize("command, declared", [("compare", settings.RUN), ("robustness", settings.RUN),
                                               ("study", settings.STUDY)])
def test_every_declared_flag_is_an_option_whose_default_leaves_the_configs(command, declared):
    shown = options(command)
    for setting in declared:
        action = shown[setting.flag]
        assert action.dest == setting.name and action.default is None  # not given: TrainConfig's / StudySpec's
        assert (action.nargs == "+") == setting.many
        assert action.choices == (list(setting.choices) if setting.kind == "choice" else None)


def test_the_help_ends_with_the_default_the_dataclass_declares():
    assert options("study")["--seeds"].help.endswith("(default: 3)")
    assert options("study")["--margin"].help.endswith("(default: 2)")  # StudySpec's 0.02, in points
    assert options("study")["--pixels"].help.endswith("(default: drawn)")
    assert options("compare")["--architectures"].help.endswith("(default: flat conv)")
    assert "(default" not in options("compare")["--epochs"].help  # the recipe's: said in words


def test_the_kept_choices_are_every_pages_widget_keys():
    before = {"dataset", "sample_size", "recipe", "epochs", "batch_size", "seed", "precision", "architectures",
              "study_sizes", "study_seeds", "study_epochs", "study_batch_size", "study_margin", "study_architectures",
              "study_pairs", "study_recipe", "study_precision", "pixels", "study_pixels", "data_dataset",
              "data_sample_size", "data_seed"}  # the list ui/components.py held by hand
    from ui.controls import KEPT_CHOICES

    assert set(KEPT_CHOICES) == before | {"study_dataset"}  # the hand-kept list had forgotten the study's dataset
    assert len(set(KEPT_CHOICES)) == len(KEPT_CHOICES)


def test_link_fields_come_from_the_declarations():
    from ui import links

    for link, form in ((links.COMPARE, settings.COMPARE_FORM), (links.STUDY, settings.STUDY_FORM)):
        params = [field.param for field in link.fields]
        assert len(set(params)) == len(params)
        assert [field.key for field in link.fields] == list(form.keys)
    assert [field.param for field in links.STUDY.fields] == ["dataset", "sizes", "seeds", "recipe", "epochs",
                                                              "batch", "margin", "arithmetic", "pixels", "networks",
                                                              "pairs"]


@pytest.mark.parametrize("setting, text, value", [
    (settings.SAMPLE_SIZE, "1,000", 1000), (settings.SAMPLE_SIZE, "full", "full"), (settings.SEED, "1_000", 1000),
    (settings.MARGIN, "2.5", 2.5), (settings.PAIRS, "conv (shuffled):conv", ("conv (shuffled)", "conv")),
    (settings.LEARNING_RATE, "0.01", 0.01), (settings.RECIPE, "improved", "improved"),
])
def test_one_parser_reads_the_cli_and_the_links(setting, text, value):
    assert setting.parse(text) == value


@pytest.mark.parametrize("setting, text, reason", [
    (settings.EPOCHS, "0", "must be between 1 and 500; got 0"),
    (settings.EPOCHS, "1e20", "must be a whole number, not '1e20'"),
    (settings.SAMPLE_SIZE, "5", "must be at least 10; got 5"),
    (settings.SEEDS, "full", "must be a whole number, not 'full'"),  # 'full' is a sample size only
    (settings.MARGIN, "nan", "must be a number from 0.1 to 50; got nan"),
    (settings.LEARNING_RATE, "0", "must be a number above 0 and at most 10; got 0.0"),
    (settings.PIXELS, "sorted", "must be one of drawn, shuffled, not 'sorted'"),
    (settings.PAIRS, "conv:conv", "must compare two different networks; got 'conv' vs 'conv'"),
])
def test_a_value_that_cannot_be_used_says_why_after_the_label(setting, text, reason):
    with pytest.raises(SettingError) as raised:
        setting.parse(text)
    assert raised.value.reason == reason and str(raised.value) == f"{setting.label} {reason}."


def test_adding_a_setting_is_one_declaration_that_reaches_the_cli():
    """What a new setting gets for free: its option with its check and its help (the field is TrainConfig's)."""
    import argparse

    validation = replace(settings.VALIDATION_SIZE, flag="--validation-size", help="Digits held out for curves.")
    command = cli.OneLineParser(prog="test")
    cli.add_settings(command, (validation,), TrainConfig)
    assert cli.given(command.parse_args(["--validation-size", "300"]), (validation,)) == {"validation_size": 300}
    assert cli.given(command.parse_args([]), (validation,)) == {}
    assert "(default: 1000)" in command.format_help()
    with pytest.raises(cli.UsageError, match="Validation size must be at least 0"):
        command.parse_args(["--validation-size", "-1"])
    assert isinstance(command, argparse.ArgumentParser)


def test_run_labels_name_the_network_then_what_differs_then_the_fallback():
    flat, conv = TrainConfig(), TrainConfig(architecture="conv")
    assert settings.run_labels([flat, conv]) == ["flat", "conv"]
    assert settings.run_labels([flat, TrainConfig(seed=3, learning_rate=0.01)]) == \
        ["flat · seed 0 · learning rate 0.001", "flat · seed 3 · learning rate 0.01"]
    assert settings.run_labels([conv, TrainConfig(architecture="conv", pixels="shuffled")]) == \
        ["conv", "conv (shuffled)"]
    assert settings.run_labels([flat, flat]) == ["flat · #1", "flat · #2"]
    assert settings.run_labels([flat, flat, conv], fallbacks=["a", "b", "c"]) == ["flat · a", "flat · b", "conv"]


def test_a_study_given_in_people_s_units_is_checked_as_declared():
    with pytest.raises(ValueError, match="H2 margin must be a number from 0.1 to 50; got 60"):
        StudySpec(margin=0.6)
    with pytest.raises(ValueError, match="Epochs must be between 1 and 500"):
        StudySpec(num_epochs=0)
    from ui.controls import default_value  # the pages' widgets start from these

    assert default_value(settings.MARGIN, StudySpec()) == 2.0
    assert default_value(settings.EPOCHS, StudySpec(recipe="improved")) == 80


def test_one_progress_line_per_cell_report_for_the_cli_and_the_page():
    config = TrainConfig(architecture="conv", sample_size=1000, seed=2)
    words = StudyProgress(slots=2)
    assert words.line(CellReport(3, 8, config, cached=True)) == "Cell 3 of 8: conv, 1,000 images, seed 2 (stored)"
    assert words.line(CellReport(4, 8, config, cached=False)) == "Cell 4 of 8: conv, 1,000 images, seed 2"
    done = CellReport(5, 8, config, cached=False, node="n1", seconds=12.34, running=3, eta_seconds=40)
    assert words.line(done) == ("5 of 8 cells done · 2 running · 1 waiting · about 40 s left · last: conv, 1,000 "
                                "images, seed 2 on n1 in 12.3 s")
    failed = replace(done, error="worker died", eta_seconds=None)
    assert words.line(failed).endswith("· conv, 1,000 images, seed 2 failed: worker died")
    assert words.failures == ["conv, 1,000 images, seed 2: worker died"]
    assert (StudyProgress.fraction(done), StudyProgress.fraction(CellReport(4, 8, config, cached=False))) == \
        (5 / 8, 3 / 8)

"""Issue 28: a first visit without stumbles — stored results show themselves, one time per run, words explained,
text that follows the settings, tables that fit, a difference matrix whose caption and colours agree, a gallery
that pages through every mistake. (The Runs page's delete: test_runs_page.py; progress in view: tests/e2e.)"""

from __future__ import annotations

import re

from core.config import TrainConfig
from core.runs import RunStore
from tests.app_pages.conftest import open_page, texts
from tests.fakes import service


def store_defaults(digits, trainer, **settings):
    """The runs of the Compare page's default settings (the student's experiment), stored as if trained earlier."""
    runs = service(RunStore(), trainer)
    return [runs.get_or_train(TrainConfig(architecture=name, **settings), digits).run for name in ("flat", "conv")]


def timing_table(app):
    """The Timing table: a row per measure, a column per run."""
    tables = [frame.value for frame in app.dataframe if "inference per image" in frame.value.index]
    assert len(tables) == 1
    return tables[0]


def small_train(app, sample_size=100, epochs=2):
    app.number_input(key="sample_size").set_value(sample_size)
    app.number_input(key="epochs").set_value(epochs)
    return app.button(key="train").click().run()


def test_the_plain_address_shows_the_stored_runs_of_the_settings_on_screen_without_a_click(fake_trainer, digits):
    """Item 3: a new tab (no query string) said "Nothing trained yet" although the runs were stored."""
    store_defaults(digits, fake_trainer)
    app = open_page()
    assert not app.exception
    assert len(fake_trainer.calls) == 2  # only the set-up trained
    assert sum("from cache" in text for text in texts(app.caption)) == 2
    assert [metric.label for metric in app.metric].count("Test accuracy") == 2
    assert not any("Nothing is stored" in text for text in texts(app.info))


def test_changing_a_setting_shows_that_settings_stored_runs_and_never_trains(fake_trainer, digits):
    store_defaults(digits, fake_trainer, sample_size=300)
    app = open_page()
    assert any("Nothing is stored for these settings" in text for text in texts(app.info))
    app.number_input(key="sample_size").set_value(300).run()
    assert not app.exception
    assert sum("from cache" in text and "300 images" in text for text in texts(app.caption)) == 2
    app.multiselect(key="architectures").set_value(["flat", "conv", "conv-small"]).run()
    assert any(text.startswith("1 of the 3 runs for these settings is not stored") for text in texts(app.info))
    assert sum("from cache" in text for text in texts(app.caption)) == 2  # the stored two stay shown
    assert len(fake_trainer.calls) == 2


def test_runs_opened_from_the_runs_page_stay_until_a_setting_changes(fake_trainer, digits):
    flat, _ = store_defaults(digits, fake_trainer, sample_size=100, num_epochs=1)
    app = open_page("app_pages/runs.py")
    app.multiselect(key="chosen_runs").set_value([flat.run_id]).run()
    app.button(key="open_runs").click().run()
    assert not app.exception
    assert list(app.session_state["compare"]) == [flat.run_id]
    app.get_by_key("confusion_mode").set_value("row-normalised").run()
    assert list(app.session_state["compare"]) == [flat.run_id]


def test_the_progress_line_and_the_metric_give_one_training_time(fake_trainer):
    """Item 4: "trained in 6.7 s" in the progress line, "5.8 s" in the metric."""
    app = small_train(open_page())
    assert not app.exception
    lines = [bar.text for bar in app.get("progress")]
    said = [re.search(r"trained in (.+)$", text).group(1) for text in lines if "trained in" in text]
    metrics = [metric.value for metric in app.metric if metric.label == "Training time"]
    assert len(said) == 2 and said == metrics, (lines, metrics)


def test_accuracy_has_one_format_on_the_page(fake_trainer):
    """Item 5: accuracy showed as 89.20%, 0.8920 and 0.527 on one page."""
    app = small_train(open_page())
    shown = [metric.value for metric in app.metric if metric.label == "Test accuracy"]
    assert all(re.fullmatch(r"\d{1,3}\.\d%", value) for value in shown), shown
    timing = timing_table(app)
    assert list(timing.loc["test accuracy"]) == shown


def test_the_words_of_statistics_are_explained_where_they_appear(fake_trainer):
    from core.glossary import explain
    from ui import compare_view, study_view

    for term in compare_view.TERMS + study_view.TERMS:
        assert len(explain(term)) > 30, term
    app = small_train(open_page())
    words = [expander for expander in app.expander if expander.label == "What the words mean"]
    assert len(words) == 1 and "**f1**" in words[0].markdown[0].value and "**bfloat16**" in words[0].markdown[0].value
    assert all(metric.help for metric in app.metric)


def test_the_intro_follows_the_settings(fake_trainer):
    """Item 6: the intro said "1,000 MNIST digits" with 300 images or Fashion-MNIST chosen."""
    app = open_page()
    assert "on **1,000 MNIST (handwritten digits)**" in app.markdown[0].value
    app.number_input(key="sample_size").set_value(300).run()
    app.selectbox(key="dataset").set_value("fashion_mnist").run()
    intro = app.markdown[0].value
    assert "on **300 Fashion-MNIST (clothing)**" in intro and "1,000 MNIST digits" in intro  # the student's, named


def test_the_timing_table_has_a_column_per_run_to_fit_a_phone(fake_trainer):
    """Item 7: the timing table's eight columns were clipped at 390 px; two runs are now two columns."""
    timing = timing_table(small_train(open_page()))
    assert list(timing.columns) == ["flat", "conv"]
    assert timing.loc["parameters", "conv"] == "600,810" and timing.loc["status", "flat"] == "trained now"


def test_the_gallery_pages_through_every_mistake(fake_trainer):
    """Item 12: the gallery stopped at 30 digits."""
    from ui.compare_view import GALLERY_SIZE

    app = small_train(open_page())
    count = int(re.match(r"([\d,]+) of 1,000 test images", next(text for text in texts(app.caption)
                                                                 if "of 1,000 test images" in text)).group(1))
    pages = -(-count // GALLERY_SIZE)
    assert pages > 2
    assert len(app.get("image")[0].proto.imgs) == GALLERY_SIZE
    app.button(key="mistake_next").click().run()
    assert any(f"showing {GALLERY_SIZE + 1} to {2 * GALLERY_SIZE} (page 2 of {pages})" in text
               for text in texts(app.caption))
    app.number_input(key="mistake_page").set_value(pages).run()
    assert not app.exception
    assert len(app.get("image")[0].proto.imgs) == count - (pages - 1) * GALLERY_SIZE
    assert app.button(key="mistake_next").disabled
    app.get_by_key("mistake_filter").set_value("wrong by all").run()  # fewer pages: back in range
    assert not app.exception


def test_the_difference_caption_names_the_colours_the_matrix_draws(fake_trainer):
    """Item 10: positive cells off the diagonal were blue while the caption said red means more mistakes."""
    from ui import plots

    app = small_train(open_page())
    caption = next(text for text in texts(app.caption) if "count minus" in text)
    assert f"{plots.WORSE}: conv does worse" in caption and "that mistake more often off it" in caption
    assert f"{plots.BETTER.capitalize()}: conv does better" in caption


def test_the_studys_gap_table_shows_mcnemar_beside_the_verdict_and_explains_its_words(fake_trainer):
    """Item 7: Study truncated the McNemar column; item 5: H1, H2, CI and McNemar were not explained."""
    import json

    from core.glossary import explain

    app = open_page("app_pages/study.py")
    app.multiselect(key="study_sizes").set_value([100, 300])
    app.number_input(key="study_seeds").set_value(2)
    app.number_input(key="study_epochs").set_value(1)
    app.button(key="run_study").click().run()
    assert not app.exception
    pairs = app.table[1].value  # the verdict, the difference, its CI and McNemar's test in one cell (issue 37)
    assert all(cell.startswith("**conv better**") and "McNemar p" in cell for cell in pairs["conv − flat (H2)"])
    counts = next(frame for frame in app.dataframe if "McNemar" in frame.value.columns)
    columns = json.loads(counts.proto.columns)
    assert "same test digits" in columns["McNemar"]["help"]
    assert "H2" in app.number_input(key="study_margin").help  # the field says what it is for
    words = next(expander for expander in app.expander if expander.label == "What the words mean").markdown[0].value
    assert all(f"**{term}**: {explain(term)}" in words for term in ("H1", "H2", "95% CI", "McNemar's test"))

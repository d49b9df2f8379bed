from core.runs import RunStore
from tests.app_pages.conftest import open_page, texts, usable_controls


def small_study(app):
    app.multiselect(key="study_sizes").set_value([100, 300])
    app.number_input(key="study_seeds").set_value(2)
    app.number_input(key="study_epochs").set_value(1)
    return app


def test_renders_controls_and_an_estimate_without_training(fake_trainer):
    app = open_page("app_pages/study.py")
    assert not app.exception
    labels = usable_controls(app, ["study_dataset", "study_sizes", "study_seeds", "study_epochs", "study_batch_size",
                                   "study_margin", "study_architectures", "run_study", "study_preset"])
    assert labels["run_study"] == "Run study" and labels["study_sizes"] == "Sample sizes"
    assert app.multiselect(key="study_sizes").value == [100, 300, 1000, 3000]
    assert any("0 of 24 cells are stored" in text and "min on this machine" in text for text in texts(app.caption))
    assert fake_trainer.calls == []


def test_run_study_shows_verdicts_charts_and_the_download(fake_trainer):
    app = small_study(open_page("app_pages/study.py"))
    app.button(key="run_study").click().run()
    assert not app.exception
    assert len(fake_trainer.calls) == 8
    verdicts = texts(app.info)
    assert any(text.startswith("H1 (accuracy at least 80%") for text in verdicts)
    assert any(text.startswith("H2 (flat comparable to conv") for text in verdicts)
    assert len(app.get("plotly_chart")) == 3
    assert [button.proto.label for button in app.get("download_button")] == ["Download report (HTML)",
                                                                              "All cells (CSV)"]
    tables = [frame.value for frame in app.dataframe]
    assert [list(table.columns)[:4] for table in tables[:2]] == [
        ["difference", "images", "seeds", "mean gap"], ["network", "images", "seeds", "mean accuracy"]]
    assert all("_" not in column for table in tables for column in table.columns)  # people's words, not code
    assert any(text.startswith("All 8 cells are stored") for text in texts(app.caption))


def test_a_second_run_trains_nothing_and_partial_studies_say_what_is_missing(fake_trainer):
    app = small_study(open_page("app_pages/study.py"))
    app.button(key="run_study").click().run()
    app.number_input(key="study_seeds").set_value(3).run()
    assert not app.exception
    assert any("4 of 12 cells are not trained yet" in text for text in texts(app.warning))
    app.button(key="run_study").click().run()
    assert len(fake_trainer.calls) == 12  # only the 4 missing cells were added
    assert len(RunStore().list_runs()) == 12


def test_student_preset_sets_the_students_experiment(fake_trainer):
    app = open_page("app_pages/study.py")
    app.button(key="study_preset").click().run()
    assert app.multiselect(key="study_sizes").value == [1000]
    assert app.number_input(key="study_epochs").value == 12
    app.number_input(key="study_epochs").set_value(1).run()
    app.button(key="run_study").click().run()
    assert not app.exception
    assert any(text.startswith("Student: 2.7 GHz Intel Core i5") for text in texts(app.caption))


def test_bad_study_input_is_a_clear_error(fake_trainer):
    app = open_page("app_pages/study.py")
    app.multiselect(key="study_sizes").set_value([]).run()
    assert any("at least one sample size" in text for text in texts(app.error))
    assert not app.exception and fake_trainer.calls == []


def test_study_number_fields_are_bounded_to_what_a_study_accepts(fake_trainer):
    app = open_page("app_pages/study.py")
    for key, low, high in [("study_seeds", 1, 20), ("study_epochs", 1, 500), ("study_batch_size", 1, 8192)]:
        field = app.number_input(key=key)
        assert (field.min, field.max) == (low, high)


def test_a_study_trains_every_cell_with_the_recipe_chosen(fake_trainer):
    app = open_page("app_pages/study.py")
    app.selectbox(key="study_recipe").set_value("averaged").run()
    assert app.number_input(key="study_epochs").value == 200  # the recipe's own length
    small_study(app).run()  # as a browser reruns after each change: 200 epochs of 24 cells would ask first
    app.button(key="run_study").click().run()
    assert not app.exception
    assert len(fake_trainer.calls) == 8 and {config.recipe for config in fake_trainer.calls} == {"averaged"}


def test_the_spatial_preset_trains_both_pixel_orders_and_answers_with_numbers(monkeypatch):
    from core.runs import jobs as jobs_module
    from tests.core.test_study import learning_curve
    from tests.fakes import FakeTrainer

    trainer = FakeTrainer(learning_curve())
    monkeypatch.setattr(jobs_module, "train", trainer)
    app = open_page("app_pages/study.py")
    app.button(key="study_spatial_preset").click().run()
    assert app.multiselect(key="study_pixels").value == ["drawn", "shuffled"]
    assert app.multiselect(key="study_architectures").value == ["flat", "conv"]
    assert ("conv (shuffled)", "conv") in app.multiselect(key="study_pairs").value
    app.multiselect(key="study_sizes").set_value([100, 300, 1000, 3000])
    app.number_input(key="study_seeds").set_value(2)
    app.number_input(key="study_epochs").set_value(1).run()
    app.button(key="run_study").click().run()
    assert not app.exception
    assert len(trainer.calls) == 32 and {config.pixels for config in trainer.calls} == {"drawn", "shuffled"}
    verdicts = texts(app.info)
    spatial = [text for text in verdicts if text.startswith("Is it the spatial structure? At 1,000 images")]
    assert spatial and "Yes:" in spatial[0]
    assert any(text.startswith("Data efficiency") and "flat needs about" in text for text in verdicts)
    assert any(text.startswith("Prediction check") for text in verdicts)
    assert any("fitted learning curve" in text for text in texts(app.caption))
    tables = [frame.value for frame in app.dataframe]
    assert any("prediction" in table.columns and "miss" in table.columns for table in tables)


def test_choosing_shuffled_pixels_adds_their_pairs_and_an_empty_choice_means_drawn(fake_trainer):
    app = small_study(open_page("app_pages/study.py"))
    app.multiselect(key="study_pixels").set_value(["drawn", "shuffled"]).run()
    assert ("conv (shuffled)", "conv") in app.multiselect(key="study_pairs").value
    app.multiselect(key="study_pixels").set_value([]).run()
    assert not app.exception
    assert any("using the pixels as drawn" in text for text in texts(app.caption))
    assert any("0 of 8 cells are stored" in text for text in texts(app.caption))


def test_runs_deleted_while_the_study_is_analysed_count_as_missing_not_a_traceback(fake_trainer, monkeypatch):
    """Another session deletes the study's runs (Runs page), or a full store evicts them, after this run of the
    page found them and before it read their test-set predictions (McNemar's test)."""
    from core.study import analysis

    app = small_study(open_page("app_pages/study.py"))
    app.button(key="run_study").click().run()
    summarise, deleted = analysis.summarise, []

    def deleted_meanwhile(cells):
        if not deleted:
            deleted.extend(cells["run_id"])
            for run_id in deleted:
                RunStore().delete(run_id)
        return summarise(cells)

    monkeypatch.setattr(analysis, "summarise", deleted_meanwhile)
    app.run()
    assert not app.exception
    assert deleted
    assert any(text.startswith("No cell of this study is stored yet") for text in texts(app.info))

from core.config import TrainConfig
from core.runs import RunStore
from tests.app_pages.conftest import open_page, texts
from tests.fakes import FAKE_PEAK_MEMORY_MB, service


def stored_runs(digits, trainer, architectures=("flat", "conv")):
    store = RunStore()
    return [service(store, trainer).get_or_train(TrainConfig(architecture=name, sample_size=100, num_epochs=1),
                                                 digits).run for name in architectures]


def test_an_empty_store_points_to_compare():
    app = open_page("app_pages/runs.py")
    assert not app.exception
    assert any("No runs yet" in text for text in texts(app.info))


def test_lists_every_run_in_a_table(fake_trainer, digits):
    runs = stored_runs(digits, fake_trainer)
    app = open_page("app_pages/runs.py")
    assert not app.exception
    table = app.dataframe[0].value
    assert sorted(table["run"]) == sorted(run.run_id for run in runs)
    assert set(table["architecture"]) == {"flat", "conv"}
    assert list(table["peak memory MB"]) == [FAKE_PEAK_MEMORY_MB] * 2


def test_open_two_runs_in_compare(fake_trainer, digits):
    runs = stored_runs(digits, fake_trainer)
    app = open_page("app_pages/runs.py")
    app.multiselect(key="chosen_runs").set_value([run.run_id for run in runs]).run()
    app.button(key="open_runs").click().run()
    assert not app.exception
    assert sum("from cache" in text for text in texts(app.caption)) == 2
    assert len(fake_trainer.calls) == 2  # only the set-up trained


def test_delete_names_the_runs_asks_once_then_reports_and_clears_the_choice(fake_trainer, digits):
    """Issue 28 item 1: Delete removed runs in one click, said nothing and left them chosen."""
    flat, conv = stored_runs(digits, fake_trainer)
    app = open_page("app_pages/runs.py")
    app.multiselect(key="chosen_runs").set_value([flat.run_id]).run()
    app.button(key="delete_runs").click().run()
    assert not app.exception
    assert len(RunStore().list_runs()) == 2  # nothing deleted yet: the page asks
    question = texts(app.warning)[0]
    assert (question.startswith("Delete 1 run?") and "flat · mnist · 100 images" in question
            and flat.run_id[:8] in question)
    assert conv.run_id[:8] not in question
    app.button(key="confirm_delete_runs").click().run()
    assert not app.exception
    assert [row["run_id"] for row in RunStore().list_runs()] == [conv.run_id]
    assert list(app.dataframe[0].value["run"]) == [conv.run_id]
    assert any(text.startswith("Deleted 1 run: flat · mnist") for text in texts(app.success))
    assert app.multiselect(key="chosen_runs").value == []
    assert not app.warning  # asked once: no question left


def test_cancel_deletes_nothing_and_a_changed_choice_drops_the_question(fake_trainer, digits):
    flat, conv = stored_runs(digits, fake_trainer)
    app = open_page("app_pages/runs.py")
    app.multiselect(key="chosen_runs").set_value([flat.run_id, conv.run_id]).run()
    app.button(key="delete_runs").click().run()
    assert texts(app.warning)[0].startswith("Delete 2 runs?")
    app.button(key="cancel_delete_runs").click().run()
    assert not app.exception and not app.warning and len(RunStore().list_runs()) == 2
    app.button(key="delete_runs").click().run()
    app.multiselect(key="chosen_runs").set_value([conv.run_id]).run()  # the choice changed: ask again
    assert not app.warning and "confirm_delete_runs" not in [button.key for button in app.button]
    assert len(RunStore().list_runs()) == 2


def test_deleting_every_run_still_says_what_was_deleted(fake_trainer, digits):
    runs = stored_runs(digits, fake_trainer)
    app = open_page("app_pages/runs.py")
    app.multiselect(key="chosen_runs").set_value([run.run_id for run in runs]).run()
    app.button(key="delete_runs").click().run()
    app.button(key="confirm_delete_runs").click().run()
    assert not app.exception and RunStore().list_runs() == []
    assert any(text.startswith("Deleted 2 runs:") for text in texts(app.success))
    assert any("No runs yet" in text for text in texts(app.info))


def test_the_run_choice_matches_plain_text_and_offers_no_select_all(fake_trainer, digits):
    """Issue 28 item 1: typing highlighted "Select all matches" first, and fuzzy matching matched nearly every run."""
    stored_runs(digits, fake_trainer)
    proto = open_page("app_pages/runs.py").multiselect(key="chosen_runs").proto
    assert proto.select_all == 0  # never shown
    from streamlit.proto.SelectWidgetFilterMode_pb2 import SelectWidgetFilterMode

    assert proto.filter_mode == SelectWidgetFilterMode.Value("FILTER_MODE_CONTAINS")


def test_the_runs_table_shows_test_accuracy_among_its_first_columns(fake_trainer, digits):
    """Issue 28 item 7: at 1366 px the table hid test accuracy off to the right."""
    stored_runs(digits, fake_trainer)
    table = open_page("app_pages/runs.py").dataframe[0]
    order = list(table.proto.column_order)
    assert order.index("test accuracy") <= 2 and "optimizer" not in order and "size (bytes)" not in order


def test_an_unwritable_store_is_a_clear_error_on_every_page(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("RUN_STORE_DIR", str(tmp_path / "a-file" / "store"))
    for page in ("app_pages/runs.py", "app_pages/try_it.py", "app_pages/study.py"):
        app = open_page(page)
        assert not app.exception, page
        assert any("not writable" in text for text in texts(app.error)), page
    app = open_page()
    app.number_input(key="sample_size").set_value(100)
    app.button(key="train").click().run()
    assert not app.exception
    assert any("not writable" in text for text in texts(app.error))


def test_the_store_size_and_limit_are_shown(fake_trainer, digits, monkeypatch):
    monkeypatch.setenv("RUN_STORE_MAX_MB", "500")
    stored_runs(digits, fake_trainer)
    app = open_page("app_pages/runs.py")
    assert any("2 runs" in text and "of 500 MB" in text for text in texts(app.caption))


def test_a_stray_folder_under_runs_does_not_break_the_runs_or_try_it_pages(fake_trainer, digits):
    stored_runs(digits, fake_trainer)
    (RunStore().root / "runs" / "0123abcd.bak").mkdir()
    for page in ("app_pages/runs.py", "app_pages/try_it.py"):
        app = open_page(page)
        assert not app.exception and not app.error, page
    assert any("2 runs" in text for text in texts(open_page("app_pages/runs.py").caption))

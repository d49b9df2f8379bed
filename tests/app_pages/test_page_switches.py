"""Issue 14 item 7: the sidebar's choices used to reset after a visit to another page."""

from tests.app_pages.conftest import open_page


def test_compare_choices_survive_a_visit_to_another_page(fake_trainer):
    app = open_page()
    app.number_input(key="sample_size").set_value(300).run()
    app.number_input(key="seed").set_value(7).run()
    app.selectbox(key="recipe").set_value("improved").run()
    app.multiselect(key="architectures").set_value(["conv"]).run()
    app.switch_page("app_pages/data.py").run()
    app.switch_page("app_pages/compare.py").run()
    assert not app.exception
    assert app.number_input(key="sample_size").value == 300
    assert app.number_input(key="seed").value == 7
    assert app.selectbox(key="recipe").value == "improved"
    assert app.multiselect(key="architectures").value == ["conv"]


def test_study_choices_survive_a_visit_to_another_page(fake_trainer):
    app = open_page("app_pages/study.py")
    app.number_input(key="study_seeds").set_value(5).run()
    app.multiselect(key="study_sizes").set_value([100]).run()
    app.switch_page("app_pages/runs.py").run()
    app.switch_page("app_pages/study.py").run()
    assert not app.exception
    assert app.number_input(key="study_seeds").value == 5
    assert app.multiselect(key="study_sizes").value == [100]


def test_pages_that_train_or_predict_start_the_workers_as_their_run_begins(monkeypatch):
    """Issue 24 item 4: TensorFlow's import in the workers overlaps the page's own run and paint; pages that need
    no model (Data, Runs) start nothing (a worker costs ~1 GB)."""
    from streamlit.testing.v1 import AppTest

    from core.runs.executors import InProcessExecutor
    from tests.app_pages.conftest import APP, TIMEOUT

    started = []
    monkeypatch.setattr(InProcessExecutor, "start", lambda self: started.append(True))
    for page, expected in (("app_pages/data.py", 0), ("app_pages/runs.py", 0), ("app_pages/compare.py", 1),
                           ("app_pages/study.py", 1), ("app_pages/try_it.py", 1)):
        started.clear()
        app = AppTest.from_file(APP, default_timeout=TIMEOUT)
        app.switch_page(page).run()
        assert not app.exception
        assert len(started) == expected, page
    started.clear()
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.query_params["size"] = "300"  # a link: its settings start no model work until its user chooses
    app.run()
    assert not app.exception and app.number_input(key="sample_size").value == 300
    assert started == []

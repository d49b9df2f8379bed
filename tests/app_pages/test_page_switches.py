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

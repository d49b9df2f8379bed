"""The Our-digits page in AppTest: the class code from the address, drawing and filing digits, refusals with their
reason, a session's undo, the teacher's controls and the verdict on stored flat and conv (fake trainer)."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.class_digits import digit_store
from core.config import TrainConfig
from core.runs import RunStore
from tests.app_pages.conftest import APP, TIMEOUT, texts
from tests.fakes import service

PAGE = "app_pages/our_digits.py"


def open_digits(code: str | None = "7b", secrets: dict | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if code is not None:
        app.query_params["class"] = code
    for key, value in (secrets or {}).items():
        app.secrets[key] = value
    app.switch_page(PAGE)
    return app.run()


def stroke_canvas(width: int = 30) -> np.ndarray:
    """A drawn 1 on the canvas as the component returns it: RGBA, black ink on white."""
    rgba = np.full((280, 280, 4), 255, dtype=np.uint8)
    rgba[40:240, 125:125 + width, :3] = 0
    return rgba


@pytest.fixture
def drawn(monkeypatch):
    """The canvas seam: what the user 'drew' (ui/drawing.py)."""
    from ui import drawing

    pixels = {"value": None}
    monkeypatch.setattr(drawing, "canvas_pixels", lambda key: pixels["value"])
    return pixels


def stored(code: str = "7B"):
    return digit_store(RunStore()).read(code)


def save(app: AppTest) -> AppTest:
    return app.button(key="class_save").click().run()


def test_the_page_asks_for_a_digit_and_a_saved_drawing_is_filed_under_it(drawn):
    app = open_digits()
    assert not app.exception
    assert "Draw a 0" in texts(app.subheader) and app.query_params["class"] == "7B"
    assert any("Class **7B**" in text for text in texts(app.caption))
    drawn["value"] = stroke_canvas()
    app = save(app)
    assert not app.exception
    found = stored()
    assert list(found.labels) == [0] and found.images.dtype == np.uint8 and found.images.max() == 255
    assert any("Saved your 0" in text for text in texts(app.success))
    assert "Draw a 1" in texts(app.subheader) and "The class set: 1 digits" in texts(app.subheader)
    assert any(text.startswith("**Per digit:** 0: 1 · 1: 0") for text in texts(app.markdown))
    save(app)
    assert list(stored().labels) == [0, 1]


def test_the_prompt_starts_at_the_label_the_set_has_fewest_of_and_skip_moves_on(drawn):
    digit_store(RunStore()).add_many("7B", [0, 1, 2, 4], [np.zeros((28, 28), np.uint8)] * 4)
    app = open_digits()
    assert "Draw a 3" in texts(app.subheader)
    app.button(key="class_skip").click().run()
    assert "Draw a 4" in texts(app.subheader) and len(stored()) == 4


@pytest.mark.parametrize("canvas, reason", [
    (None, "blank"), (np.full((280, 280, 4), 255, np.uint8), "blank"),
    (np.zeros((280, 280, 4), np.uint8), "blank"),  # nothing drawn yet: transparent
])
def test_a_blank_drawing_is_refused_and_nothing_is_stored(drawn, canvas, reason):
    drawn["value"] = canvas
    app = save(open_digits())
    assert not app.exception and len(stored()) == 0
    assert any(reason in text for text in texts(app.warning))


def test_a_dot_is_refused_as_nearly_blank(drawn):
    dot = np.full((280, 280, 4), 255, np.uint8)
    dot[140:150, 140:150, :3] = 0
    drawn["value"] = dot
    app = save(open_digits())
    assert any("hardly any ink" in text for text in texts(app.warning)) and len(stored()) == 0


def test_a_session_adding_too_fast_is_told_to_wait(drawn, monkeypatch):
    from core.class_digits import limits

    monkeypatch.setattr(limits, "SESSION_RATE", (2, 60.0))
    drawn["value"] = stroke_canvas()
    app = save(save(open_digits()))
    app = save(app)
    assert not app.exception and len(stored()) == 2
    assert any("2 digits in under 60 seconds: wait" in text for text in texts(app.warning))


def test_a_full_set_refuses_with_a_message(drawn):
    from core.class_digits import MAX_SET_SIZE

    digit_store(RunStore()).add_many("7B", [1] * MAX_SET_SIZE, [np.zeros((28, 28), np.uint8)] * MAX_SET_SIZE)
    drawn["value"] = stroke_canvas()
    app = save(open_digits())
    assert not app.exception and len(stored()) == MAX_SET_SIZE
    assert any("This class set is full" in text for text in texts(app.warning))


def test_a_bad_class_code_is_a_message():
    app = open_digits("7b;drop table")
    assert not app.exception
    assert any("cannot be used" in text and "letters, digits and dashes" in text for text in texts(app.error))


def test_no_class_code_is_the_open_set(drawn):
    drawn["value"] = stroke_canvas()
    app = save(open_digits(None))
    assert not app.exception and any("open set" in text for text in texts(app.caption))
    assert list(digit_store(RunStore()).sets()) == ["OPEN"]


def test_a_session_removes_its_own_last_digit_only(drawn):
    others = digit_store(RunStore()).add("7B", 5, np.zeros((28, 28), np.uint8))
    drawn["value"] = stroke_canvas()
    app = save(save(open_digits()))
    assert len(stored()) == 3
    app.button(key="class_undo").click().run()
    assert not app.exception and len(stored()) == 2
    app.button(key="class_undo").click().run()
    assert list(stored().ids) == [others]
    assert not [button for button in app.button if button.key == "class_undo"]  # nothing of its own left


def test_without_a_password_nobody_can_remove_others_digits():
    digit_store(RunStore()).add("7B", 5, np.zeros((28, 28), np.uint8))
    app = open_digits()
    assert any("nobody can remove other people's digits" in text for text in texts(app.caption))
    assert not [widget for widget in app.text_input if widget.key == "class_admin_password"]


@pytest.mark.parametrize("where", ["secrets", "environment"])
def test_the_teacher_removes_chosen_digits_and_clears_the_set(where, monkeypatch):
    store = digit_store(RunStore())
    ids = store.add_many("7B", [1, 2, 3], [np.zeros((28, 28), np.uint8)] * 3)
    other = store.add("8A", 1, np.zeros((28, 28), np.uint8))
    if where == "environment":
        monkeypatch.setenv("CLASS_ADMIN_PASSWORD", "chalk")
    app = open_digits(secrets={"CLASS_ADMIN_PASSWORD": "chalk"} if where == "secrets" else None)
    app.text_input(key="class_admin_password").set_value("cheese").run()
    assert any("not the teacher's password" in text for text in texts(app.error))
    app.text_input(key="class_admin_password").set_value("chalk").run()
    app.multiselect(key="class_remove_ids").set_value([ids[1]]).run()
    app.button(key="class_remove").click().run()
    assert not app.exception and list(stored().ids) == [ids[0], ids[2]]
    app.checkbox(key="class_clear_sure").check().run()
    app.button(key="class_clear").click().run()
    assert not app.exception and len(stored()) == 0
    assert list(stored("8A").ids) == [other]  # another class's set is untouched


@pytest.fixture
def flat_and_conv(fake_trainer, digits):
    runs = service(RunStore(), fake_trainer)
    return [runs.get_or_train(TrainConfig(architecture=name, sample_size=100, num_epochs=1), digits).run
            for name in ("flat", "conv")]


def test_the_verdict_on_stored_flat_and_conv(flat_and_conv, digits):
    store = digit_store(RunStore())
    store.add_many("7B", digits.y_test[:50], digits.x_test[:50])
    app = open_digits()
    assert set(app.multiselect(key="class_runs").value) == {run.run_id for run in flat_and_conv}
    app.button(key="class_evaluate").click().run()
    assert not app.exception
    sentences = [text for text in texts(app.success) + texts(app.info) if text.startswith("On 50 digits")]
    assert len(sentences) == 1 and "conv is right on" in sentences[0] and "McNemar p" in sentences[0]
    table = app.dataframe[0].value
    assert list(table["network"]) == ["flat", "conv"]
    assert list(table["MNIST test"]) == pytest.approx([run.test_accuracy for run in flat_and_conv])
    assert any("right, flat wrong" in text for text in texts(app.markdown))
    store.add("7B", 3, digits.x_test[60])  # a new digit: the verdict follows the set
    app.run()
    assert any(text.startswith("On 51 digits") for text in texts(app.success) + texts(app.info))


def test_the_verdict_starts_from_the_sessions_last_comparison(flat_and_conv, digits):
    digit_store(RunStore()).add_many("7B", digits.y_test[:5], digits.x_test[:5])
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.query_params["class"] = "7B"
    app.session_state["compare"] = {flat_and_conv[1].run_id: True}
    app.switch_page(PAGE).run()
    assert app.multiselect(key="class_runs").value == [flat_and_conv[1].run_id]


def test_no_stored_runs_points_to_compare(digits):
    app = open_digits()
    assert not app.exception
    assert any("train flat and conv on the Compare page first" in text for text in texts(app.info))


def test_on_a_database_store_the_digits_are_kept_in_the_database(postgres_url, drawn):
    drawn["value"] = stroke_canvas()
    app = save(open_digits(secrets={"connections": {"runs": {"url": postgres_url}}}))
    assert not app.exception and any("Saved your 0" in text for text in texts(app.success))
    assert digit_store(RunStore(postgres_url)).sets() == {"7B": 1}
    assert digit_store(RunStore()).sets() == {}  # nothing in the local folder

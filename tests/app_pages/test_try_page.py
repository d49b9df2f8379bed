import json

import numpy as np
import pytest

from core.config import TrainConfig
from core.runs import RunStore
from tests.core.test_preprocess import png_bytes, stroke
from tests.app_pages.conftest import open_page, texts
from tests.fakes import service


@pytest.fixture
def stored_pair(fake_trainer, digits):
    store = RunStore()
    return [service(store, fake_trainer).get_or_train(TrainConfig(architecture=name, sample_size=100, num_epochs=1), digits).run for name in ("flat", "conv")]


@pytest.fixture
def drawn(monkeypatch):
    """The canvas seam: what the user 'drew', as the component returns it (RGBA on white)."""
    from ui import drawing

    pixels = {"value": None}
    monkeypatch.setattr(drawing, "canvas_pixels", lambda key: pixels["value"])
    return pixels


def canvas_with_a_stroke():
    rgba = np.full((280, 280, 4), 255, dtype=np.uint8)
    rgba[stroke((280, 280), (140, 140), 40) > 0, :3] = 0
    return rgba


def test_no_stored_runs_points_to_compare():
    app = open_page("app_pages/try_it.py")
    assert not app.exception
    assert any("train the two networks on the Compare page" in text for text in texts(app.info))


def test_an_empty_canvas_asks_for_a_digit_and_predicts_nothing(stored_pair, drawn):
    app = open_page("app_pages/try_it.py")
    assert not app.exception
    assert set(app.multiselect(key="try_runs").value) == {run.run_id for run in stored_pair}
    assert any("Draw a digit first" in text for text in texts(app.info))
    drawn["value"] = np.full((280, 280, 4), 255, dtype=np.uint8)  # white canvas, no ink
    app.run()
    assert any("Draw a digit first" in text for text in texts(app.info))
    assert len(app.metric) == 0


def test_a_drawn_digit_gets_both_predictions_and_the_inside_views(stored_pair, drawn):
    drawn["value"] = canvas_with_a_stroke()
    app = open_page("app_pages/try_it.py")
    assert not app.exception
    assert sorted(metric.label for metric in app.metric) == ["conv", "flat"]
    headers = texts(app.subheader)
    assert "Saliency: which pixels move the top guess" in headers
    assert {"Inside flat", "Inside conv"} <= set(headers)
    # digit, 2 probability charts, 2 saliency maps, conv: filters + 2 feature-map grids, flat: weights
    assert len(app.get("plotly_chart")) == 1 + 2 + 2 + 3 + 1


def test_an_uploaded_png_is_predicted(stored_pair):
    app = open_page("app_pages/try_it.py")
    app.get_by_key("input_mode").set_value("Upload").run()
    app.file_uploader(key="upload").set_value(("digit.png", png_bytes(stroke(ink=0, background=255)),
                                               "image/png")).run()
    assert not app.exception
    assert len(app.metric) == 2


def bomb_png() -> bytes:
    from tests.core.test_preprocess import decompression_bomb

    return decompression_bomb()


@pytest.mark.parametrize("content, message", [
    (b"not an image at all", "not a picture"),
    (png_bytes(stroke())[:150], "damaged"),
    (bomb_png(), "too large"),
])
def test_bad_uploads_get_one_clear_message(stored_pair, content, message):
    app = open_page("app_pages/try_it.py")
    app.get_by_key("input_mode").set_value("Upload").run()
    app.file_uploader(key="upload").set_value(("digit.png", content, "image/png")).run()
    assert not app.exception
    assert [message in text for text in texts(app.error)] == [True]
    assert len(app.metric) == 0


def test_a_test_digit_can_be_picked_from_a_bounded_field(stored_pair):
    app = open_page("app_pages/try_it.py")
    app.get_by_key("input_mode").set_value("Test digit").run()
    assert not app.exception and len(app.metric) == 2
    assert any(text.startswith("True class:") for text in texts(app.caption))
    assert (app.number_input(key="test_digit").min, app.number_input(key="test_digit").max) == (0, 999)
    app.number_input(key="test_digit").set_value(999).run()
    assert not app.exception and app.number_input(key="test_digit").value == 999


def test_the_models_disagreeing_is_pointed_out(stored_pair, drawn, monkeypatch):
    from core import inside

    drawn["value"] = canvas_with_a_stroke()
    answers = iter([np.eye(10)[3], np.eye(10)[8]])
    monkeypatch.setattr(inside, "predict_probabilities", lambda model, digit: next(answers))
    app = open_page("app_pages/try_it.py")
    assert not app.exception
    assert any("The models disagree" in text for text in texts(app.warning))


def test_a_users_own_network_is_tried_like_the_presets(fake_trainer, digits):
    from core.architectures import ArchitectureSpec, Conv, Dense, Flatten, MaxPool

    mine = ArchitectureSpec("mine", "image", (Conv(6, 5), MaxPool(2), Flatten(), Dense(16)))
    service(RunStore(), fake_trainer).get_or_train(TrainConfig.for_network(mine, sample_size=100, num_epochs=1), digits)
    app = open_page("app_pages/try_it.py")
    app.segmented_control(key="input_mode").set_value("Test digit").run()
    assert not app.exception
    assert [metric.label for metric in app.metric] == ["mine"]
    titles = [json.loads(chart.proto.spec)["layout"].get("title", {}).get("text") for chart in app.get("plotly_chart")]
    assert "First layer's 6 filters (5×5)" in titles and "conv2d_1: 6 feature maps" in titles


def test_a_model_with_a_broken_config_is_a_warning_not_a_crash(stored_pair):
    from tests.core.runs.test_run_files import broken_config

    flat, conv = stored_pair
    broken_config(conv.model_path)
    app = open_page("app_pages/try_it.py")
    app.segmented_control(key="input_mode").set_value("Test digit").run()
    assert not app.exception
    assert any(f"Run {conv.run_id} could not be opened: model.keras" in text for text in texts(app.warning))
    assert [metric.label for metric in app.metric] == ["flat"]


def test_a_model_trained_on_shuffled_pixels_is_given_the_digit_shuffled_the_same_way(fake_trainer, digits, drawn,
                                                                                     monkeypatch):
    from core import inside, pixels

    store = RunStore()
    runs = [service(store, fake_trainer).get_or_train(
        TrainConfig(architecture="flat", sample_size=100, num_epochs=1, pixels=order), digits).run
        for order in ("drawn", "shuffled")]
    seen = []
    real = inside.predict_probabilities
    monkeypatch.setattr(inside, "predict_probabilities", lambda model, image: seen.append(image) or real(model, image))
    drawn["value"] = canvas_with_a_stroke()
    app = open_page("app_pages/try_it.py")
    app.multiselect(key="try_runs").set_value([run.run_id for run in runs]).run()
    assert not app.exception
    assert len(app.metric) == 2
    plain, shuffled = seen[-2:]
    assert np.array_equal(shuffled, pixels.arrange(plain, "shuffled")) and not np.array_equal(shuffled, plain)
    assert any("shuffled by the same fixed permutation" in text for text in texts(app.caption))
    assert [metric.label for metric in app.metric] == ["flat", "flat (shuffled)"]

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, features

from core.config import TrainConfig
from core.runs import RunStore
from tests.core.test_preprocess import png_bytes, stroke
from streamlit.testing.v1 import AppTest

from tests.app_pages.conftest import APP, open_page, texts
from tests.fakes import service


@pytest.fixture
def stored_pair(fake_trainer, digits):
    store = RunStore()
    return [service(store, fake_trainer).get_or_train(TrainConfig(architecture=name, sample_size=100, num_epochs=1),
                                                      digits).run for name in ("flat", "conv")]


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
    assert any("Draw a digit first" in text and "no ink" in text for text in texts(app.info))
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
    from core.architectures import ArchitectureSpec
    from core.layers import Conv, Dense, Flatten, MaxPool

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


# --- issue 27: the models a user means, labelled in words; loaded once; what the model sees ------------------

CASES = Path(__file__).resolve().parents[1] / "data" / "try_it"


def store_runs(digits, configs, accuracy):
    """Stored runs of `configs` (oldest first) whose test accuracy is `accuracy(config)`."""
    from tests.fakes import FakeTrainer

    trainer = FakeTrainer(accuracy=accuracy)
    store = RunStore()
    return [service(store, trainer).get_or_train(config, digits).run for config in configs]


def best_then_quick_runs(digits):
    """flat and conv on 400 images (the better ones), then each on 100 images for 2 epochs (the newer ones)."""
    return store_runs(digits, [TrainConfig(architecture=name, sample_size=size, num_epochs=epochs)
                               for size, epochs in ((400, 1), (100, 2)) for name in ("flat", "conv")],
                      accuracy=lambda config: config.sample_size / 500)


def test_try_it_starts_from_each_networks_best_scoring_run_not_the_newest(digits):
    """Regression: it preselected whatever was trained last (a quick 2-epoch study's weak models)."""
    flat_best, conv_best, flat_quick, conv_quick = best_then_quick_runs(digits)
    app = open_page("app_pages/try_it.py")
    assert not app.exception
    assert set(app.multiselect(key="try_runs").value) == {flat_best.run_id, conv_best.run_id}


def test_try_it_starts_from_the_sessions_last_comparison(digits):
    flat_best, conv_best, flat_quick, conv_quick = best_then_quick_runs(digits)
    app = AppTest.from_file(APP, default_timeout=60).run()
    app.number_input(key="sample_size").set_value(100)
    app.number_input(key="epochs").set_value(2).run()  # Compare shows the stored runs of the settings on screen
    assert set(app.session_state["compare"]) == {flat_quick.run_id, conv_quick.run_id}
    app.switch_page("app_pages/try_it.py").run()
    assert not app.exception
    assert app.multiselect(key="try_runs").value == [flat_quick.run_id, conv_quick.run_id]


def test_choices_are_labelled_in_words_never_by_hash(digits):
    runs = store_runs(digits, [TrainConfig(architecture="flat", sample_size=200, num_epochs=3, seed=seed)
                               for seed in (0, 1)] + [TrainConfig(architecture="conv", sample_size=200, num_epochs=3)],
                      accuracy=lambda config: 1.0)
    app = open_page("app_pages/try_it.py")
    assert not app.exception
    options = app.multiselect(key="try_runs").options
    assert len(options) == 3
    for option in options:
        assert not any(run.run_id[:6] in option for run in runs), option
    assert "Convolutional · 200 MNIST images · 3 epochs · Student's recipe · 100.0% test accuracy" in options
    assert {option.rsplit(" · ", 1)[-1] for option in options if option.startswith("Flat")} == {"seed 0", "seed 1"}


def test_a_rerun_loads_each_chosen_model_at_most_once(digits, drawn, monkeypatch):
    """Regression: a cache of 4 models, asked 3 times per model per rerun, reloaded all of 5 chosen every stroke."""
    from core.runs import StoredRun

    runs = store_runs(digits, [TrainConfig(architecture=name, sample_size=100, num_epochs=1, seed=seed)
                               for name in ("flat", "conv") for seed in range(3)], accuracy=lambda config: 0.9)
    loads = []
    real_load = StoredRun.load_model
    monkeypatch.setattr(StoredRun, "load_model", lambda run: loads.append(run.run_id) or real_load(run))
    drawn["value"] = canvas_with_a_stroke()
    app = open_page("app_pages/try_it.py")
    app.multiselect(key="try_runs").set_value([run.run_id for run in runs]).run()
    assert not app.exception and len(app.metric) == 6
    assert sorted(loads) == sorted(run.run_id for run in runs)  # each once
    drawn["value"] = np.roll(canvas_with_a_stroke(), 30, axis=1)  # another stroke: a rerun
    app.run()
    app.segmented_control(key="input_mode").set_value("Test digit").run()
    assert not app.exception and len(app.metric) == 6
    assert len(loads) == 6  # nothing loaded again


def upload(app, name: str, content: bytes):
    app.get_by_key("input_mode").set_value("Upload").run()
    app.file_uploader(key="upload").set_value((name, content, "image/png")).run()


@pytest.mark.parametrize("name, notes", [
    ("seven_exif_orientation6.jpg", ["Rotated", "Inverted"]),
    ("seven_16bit_black_on_white.png", ["Flattened", "Inverted"]),
    ("seven_palette_black_ink_transparent_bg.png", ["Flattened", "Inverted"]),
    ("four_tight_crop_marker_black_on_white.png", ["Inverted"]),
    ("huge_4096_RGBA.png", ["Shrunk", "Inverted"]),
])
def test_an_upload_shows_the_picture_as_read_the_28x28_and_what_was_done(stored_pair, name, notes):
    app = open_page("app_pages/try_it.py")
    upload(app, name, (CASES / name).read_bytes())
    assert not app.exception and len(app.metric) == 2
    assert [caption.split(":**")[0].strip("*") for caption in texts(app.caption)
            if caption.startswith("**")] == notes
    assert len(app.get("image")) == 1  # the picture as read, beside the 28x28 chart


def test_an_empty_picture_is_a_message_not_a_prediction(stored_pair):
    app = open_page("app_pages/try_it.py")
    upload(app, "blank.png", png_bytes(np.full((50, 50), 255, np.uint8)))
    assert not app.exception and len(app.metric) == 0
    said = [text for text in texts(app.info) if "no ink" in text]
    assert said and "Upload a picture of one digit" in said[0] and "Draw" not in said[0]  # an upload is not drawn


# --- issue 36: uploads read once, any file read or refused in words, any shape previewed ---------------------------

RED = Path(__file__).resolve().parents[1] / "data" / "red2"


def test_a_rerun_does_not_decode_the_same_upload_again(stored_pair, monkeypatch):
    """Regression: every rerun decoded the upload again (24 s of CPU each for the progressive JPEG of issue 36)."""
    from ui import try_view

    decoded = []
    real = try_view.read_upload
    monkeypatch.setattr(try_view, "read_upload", lambda data: decoded.append(len(data)) or real(data))
    content = png_bytes(stroke(ink=0, background=255))
    app = open_page("app_pages/try_it.py")
    upload(app, "digit.png", content)
    assert not app.exception and len(app.metric) == 2
    app.run()  # any widget's change reruns the page
    app.file_uploader(key="upload").set_value(("same digit, another name.png", content, "image/png")).run()
    assert not app.exception and len(app.metric) == 2
    assert decoded == [len(content)]


def test_a_refused_upload_clears_the_previous_answers(stored_pair):
    """Regression: the uploader's type list refused some files in the browser, leaving the previous upload's
    answers on screen; every file now reaches the page, which says why it cannot read it."""
    app = open_page("app_pages/try_it.py")
    upload(app, "digit.png", png_bytes(stroke(ink=0, background=255)))
    assert len(app.metric) == 2
    app.file_uploader(key="upload").set_value(("photo.heic", b"ftypheic, not a picture Pillow reads", "image/heic"))
    app.run()
    assert not app.exception and len(app.metric) == 0
    assert [("not a picture that can be read" in text) for text in texts(app.error)] == [True]


@pytest.mark.skipif(not features.check("avif"), reason="this Pillow does not read AVIF")
def test_an_avif_upload_is_read(stored_pair):
    from tests.core.picture_files import bar_on_paper, encode

    app = open_page("app_pages/try_it.py")
    app.get_by_key("input_mode").set_value("Upload").run()
    assert "AVIF" in app.file_uploader(key="upload").label
    content = encode(Image.fromarray(bar_on_paper(120, 160)).convert("RGB"), "AVIF", quality=90)
    app.file_uploader(key="upload").set_value(("digit.avif", content, "image/avif")).run()
    assert not app.exception and len(app.metric) == 2


@pytest.mark.parametrize("name, answered, said", [
    ("strip_1x20000_exception.png", True, ""),  # st.image made it 0 pixels tall: Streamlit's error box
    ("strip_300000x1.png", False, "far too long and thin"),  # 1.38 GB to decode: the server was killed
    ("prog_bomb_4096_20000.jpg", False, "20,006 progressive scans"),  # 24 s of CPU per rerun
])
def test_the_pictures_that_took_the_server_down_are_answers_or_messages(stored_pair, name, answered, said):
    app = open_page("app_pages/try_it.py")
    upload(app, name, (RED / name).read_bytes())
    assert not app.exception
    assert len(app.metric) == (2 if answered else 0) and len(app.get("image")) == (1 if answered else 0)
    assert all(said in text for text in texts(app.error)) and bool(texts(app.error)) != answered

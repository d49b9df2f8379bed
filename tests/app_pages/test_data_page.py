import numpy as np

from core import data
from tests.app_pages.conftest import open_page, texts, usable_controls
from tests.core.test_data import write_idx


def test_renders_source_balance_grid_and_one_digit_two_ways():
    app = open_page("app_pages/data.py")
    assert not app.exception
    labels = usable_controls(app, ["data_dataset", "data_sample_size", "data_sample_size_pick", "data_seed",
                                   "data_digit"])
    assert labels["data_digit"] == "Which of the digits above"
    assert any(text.startswith("**Data:** offline fallback") for text in texts(app.caption))
    assert {"Class balance of the sample", "Random digits from the sample", "One image, read two ways"} \
        <= set(texts(app.subheader))
    assert len(app.get("plotly_chart")) == 3
    assert len(app.get("image")) == 3  # the grid, then a few digits as drawn and shuffled


def test_a_few_digits_are_shown_as_drawn_and_shuffled_side_by_side():
    app = open_page("app_pages/data.py")
    assert not app.exception
    assert "As drawn and with the pixels shuffled" in texts(app.subheader)
    assert {"**As drawn**", "**Shuffled**"} <= set(texts(app.markdown))
    assert any("one fixed permutation" in text and "seed 784" in text for text in texts(app.caption))


def test_the_sample_size_and_seed_are_bounded_to_the_pool_and_the_seed_range():
    app = open_page("app_pages/data.py")
    assert not app.exception
    assert (app.number_input(key="data_sample_size").min, app.number_input(key="data_sample_size").max) == (10, 4000)
    assert (app.number_input(key="data_seed").min, app.number_input(key="data_seed").max) == (0, 2**31 - 1)


def test_fashion_mnist_from_a_local_folder(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    folder = tmp_path / "fashion"
    folder.mkdir()
    arrays = {"x_train": rng.integers(0, 255, (200, 28, 28)), "y_train": np.arange(200) % 10,
              "x_test": rng.integers(0, 255, (50, 28, 28)), "y_test": np.arange(50) % 10}
    for part, filename in data.IDX_FILES.items():
        write_idx(folder / filename, arrays[part])
    monkeypatch.setenv("FASHION_MNIST_PATH", str(folder))
    app = open_page("app_pages/data.py")
    app.selectbox(key="data_dataset").set_value("fashion_mnist").run()
    app.number_input(key="data_sample_size").set_value(100).run()
    assert not app.exception
    assert any("FASHION_MNIST_PATH" in text and "200 training images" in text for text in texts(app.caption))


def test_a_dataset_no_source_has_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(data.DATASETS["fashion_mnist"], "default_folder", "/nonexistent")
    app = open_page("app_pages/data.py")
    app.selectbox(key="data_dataset").set_value("fashion_mnist").run()
    assert not app.exception
    assert any("is not available" in text for text in texts(app.error))

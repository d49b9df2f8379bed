import numpy as np

from ui import plots

HISTORY = {"loss": [1.0, 0.5], "accuracy": [0.6, 0.8], "val_loss": [1.1, 0.7], "val_accuracy": [0.5, 0.7]}


def test_learning_curves_overlay_training_and_validation_for_every_run():
    figure = plots.learning_curves({"flat": HISTORY, "conv": HISTORY})
    assert len(figure.data) == 8  # 2 runs x (loss, accuracy) x (training, validation)
    names = {trace.name for trace in figure.data}
    assert names == {"flat · training", "flat · validation", "conv · training", "conv · validation"}
    dashed = [trace for trace in figure.data if trace.line.dash == "dash"]
    assert all(trace.name.endswith("validation") for trace in dashed) and len(dashed) == 4
    assert {trace.line.color for trace in figure.data if trace.name.startswith("flat")} == {plots.COLOURS["flat"]}


def test_learning_curves_without_validation_show_training_only():
    history = {"loss": [1.0], "accuracy": [0.5]}
    assert [trace.name for trace in plots.learning_curves({"flat": history}).data] == ["flat · training"] * 2


def test_confusion_heatmap_shows_the_matrix_and_a_centred_scale_for_differences():
    matrix = np.array([[3, 1], [0, 4]])
    figure = plots.confusion_heatmap(matrix, ["a", "b"], "flat")
    assert np.array_equal(np.array(figure.data[0].z), matrix)
    assert figure.layout.yaxis.autorange == "reversed"  # true class 0 at the top, as printed
    difference = plots.confusion_heatmap(np.array([[1, -2], [0, 1]]), ["a", "b"], "diff", diverging=True)
    assert difference.data[0].zmid == 0 and difference.data[0].zmin == -2


def test_digit_matrices_get_their_margins_and_long_names_keep_plotlys_automargin():
    """Given margins draw a matrix once (automargin drew its 100 cell labels twice); Fashion-MNIST's names need
    the measuring (tests/e2e/test_charts_fit.py checks both in Chromium)."""
    matrix = np.eye(10, dtype=int)
    digits = [str(digit) for digit in range(10)]
    names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    for figure in (plots.confusion_heatmap(matrix, digits, "flat"), plots.difference_heatmap(matrix, matrix, digits,
                                                                                              "flat", "conv")):
        assert not figure.layout.xaxis.automargin and not figure.layout.yaxis.automargin
        assert (figure.layout.margin.l, figure.layout.margin.b) == (plots.SHORT_NAME_MARGIN["l"],
                                                                    plots.SHORT_NAME_MARGIN["b"])
    fashion = plots.confusion_heatmap(matrix, names, "flat")
    assert fashion.layout.xaxis.automargin and fashion.layout.yaxis.automargin


def test_a_digit_as_an_image_and_as_784_numbers():
    image = np.arange(784).reshape(28, 28) % 256
    assert np.array_equal(np.array(plots.digit_image(image).data[0].z), image)
    assert len(plots.digit_vector(image).data[0].y) == 784


def test_the_28x28_digit_is_drawn_white_on_black_like_the_pictures_above_it():
    """Issue 37 item 8: the Data page's 28×28 digit was black-on-white under a grid of white-on-black digits
    (st.image draws 255, ink, white)."""
    image = np.zeros((28, 28), dtype=np.uint8)
    image[10, 10] = 255  # ink
    figure = plots.digit_image(image)
    assert drawn_colour(figure, 10, 10) == (255, 255, 255) and drawn_colour(figure, 0, 0) == (0, 0, 0)


def test_the_learning_curves_are_one_chart_per_metric():
    """Issue 37 item 8: on a phone the loss and accuracy panels were squeezed side by side under the toolbar."""
    histories = {"flat": {"loss": [1.0, 0.5], "val_loss": [1.2, 0.6], "accuracy": [0.5, 0.75]}}
    loss = plots.learning_curve(histories, "loss")
    assert [trace.name for trace in loss.data] == ["flat · training", "flat · validation"]
    assert list(loss.data[0].y) == [1.0, 0.5] and not loss.layout.title.text
    assert plots.learning_curve(histories, "accuracy").layout.yaxis.tickformat == ".0%"


def drawn_colour(figure, row: int, column: int) -> tuple[int, int, int]:
    """The colour a heatmap draws at (row, column): its colorscale interpolated at the cell's value."""
    heatmap = figure.data[0]
    position = (float(np.asarray(heatmap.z)[row, column]) - heatmap.zmin) / (heatmap.zmax - heatmap.zmin)
    stops = [(float(stop), tuple(int(part) for part in colour[4:-1].split(","))) for stop, colour in heatmap.colorscale]
    for (low, low_colour), (high, high_colour) in zip(stops, stops[1:]):
        if low <= position <= high:
            share = (position - low) / (high - low)
            return tuple(round(a + (b - a) * share) for a, b in zip(low_colour, high_colour))
    raise AssertionError(f"{position} is outside the colour scale")


def hue(rgb: tuple[int, int, int]) -> str:
    red, _, blue = rgb
    return "red" if red > blue + 40 else "blue" if blue > red + 40 else "neutral"


def test_the_difference_matrix_draws_the_colours_its_caption_names_on_a_known_cell():
    """Issue 28 item 10: true 3 -> predicted 2, conv 6 and flat 1 (+5) was drawn blue while the caption said red off
    the diagonal means conv makes that mistake more often."""
    flat = np.full((10, 10), 2)
    conv = flat.copy()
    conv[3, 2], flat[3, 2] = 6, 1        # conv makes this mistake 5 times more: worse for conv
    conv[3, 3], flat[3, 3] = 90, 80      # conv gets 10 more threes right: better for conv
    conv[5, 1], flat[5, 1] = 0, 4        # conv makes this mistake 4 times less: better for conv
    figure = plots.difference_heatmap(flat, conv, [str(digit) for digit in range(10)], "flat", "conv")
    caption = plots.difference_caption("flat", "conv")
    assert figure.data[0].text[3][2] == "+5" and figure.data[0].text[5][1] == "-4"  # the cells say conv − flat
    assert hue(drawn_colour(figure, 3, 2)) == plots.WORSE and f"{plots.WORSE}: conv does worse" in caption
    assert hue(drawn_colour(figure, 3, 3)) == plots.BETTER == "blue" and "Blue: conv does better" in caption
    assert hue(drawn_colour(figure, 5, 1)) == plots.BETTER
    assert hue(drawn_colour(figure, 0, 0)) == "neutral"  # no difference: no colour
    assert figure.layout.title.text == "conv minus flat"
    assert "conv's share of its row (of that class's test digits) minus flat's" in \
        plots.difference_caption("flat", "conv", normalised=True)  # issue 37 item 8: not "count" when normalised


HALF_IMPORTED_PANDAS = r"""
import importlib.abc, sys, threading, time

inside = threading.Event()

class SlowPandas(importlib.abc.MetaPathFinder):
    # pandas/__init__.py is running (pandas is in sys.modules, half built) while its submodule is looked up
    def find_spec(self, name, path=None, target=None):
        if name == "pandas.core.api" and threading.current_thread().name == "importer":
            inside.set()
            time.sleep(2)
        return None

sys.meta_path.insert(0, SlowPandas())
importer = threading.Thread(target=lambda: __import__("sklearn.metrics"), name="importer")  # as ui/background does
importer.start()
inside.wait(60)
assert "pandas" in sys.modules and not hasattr(sys.modules["pandas"], "Series")  # half imported, now
from ui import plots
plots.learning_curves({"flat": {"loss": [1.0, 0.5], "accuracy": [0.5, 0.8]}})
print("drawn")
importer.join()
"""


def test_a_figure_drawn_while_another_thread_imports_pandas_waits_for_it_instead_of_failing():
    """Seen in CI and in the browser: the server's background import (sklearn.metrics, which imports pandas) was
    half done when the Train click drew the live learning curves; plotly looks pandas up in sys.modules without
    importing it, met the half-built module and raised AttributeError ("partially initialized module 'pandas'"),
    and the page showed an error in place of training. Two sessions' script threads can meet the same way."""
    import subprocess
    import sys

    from tests.e2e.conftest import ROOT

    done = subprocess.run([sys.executable, "-c", HALF_IMPORTED_PANDAS], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "drawn"

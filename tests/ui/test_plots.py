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


def test_a_digit_as_an_image_and_as_784_numbers():
    image = np.arange(784).reshape(28, 28) % 256
    assert np.array_equal(np.array(plots.digit_image(image).data[0].z), image)
    assert len(plots.digit_vector(image).data[0].y) == 784

import numpy as np
import pandas as pd

from core import figures as plots

SUMMARY = pd.DataFrame({"architecture": ["flat", "flat", "conv", "conv"], "sample_size": [100, 1000, 100, 1000],
                        "mean_accuracy": [0.6, 0.88, 0.7, 0.94], "ci_low": [0.55, 0.86, np.nan, 0.93],
                        "ci_high": [0.65, 0.90, np.nan, 0.95], "mean_train_seconds": [1.0, 2.0, 2.0, 8.0]})
CELLS = pd.DataFrame({"architecture": ["flat"] * 2 + ["conv"] * 2, "sample_size": [100, 100, 100, 100],
                      "seed": [0, 1, 0, 1], "test_accuracy": [0.58, 0.62, 0.69, 0.71]})


def test_accuracy_vs_size_has_a_band_a_mean_and_seed_points_per_architecture_on_a_log_axis():
    figure = plots.accuracy_vs_size(SUMMARY, CELLS)
    names = [trace.name for trace in figure.data]
    assert names == ["flat 95% CI", "flat mean", "flat seeds", "conv 95% CI", "conv mean", "conv seeds"]
    conv_band = figure.data[3]
    assert list(conv_band.y) == [0.95, 0.93]  # the size with one seed (no CI) is left out of the band
    assert figure.layout.xaxis.type == "log"


def test_gap_vs_size_draws_the_margin_and_the_interval():
    gaps = pd.DataFrame({"first": ["conv", "conv", "conv"], "second": ["flat", "flat", "flat-wide"],
                         "sample_size": [100, 1000, 100], "mean_difference": [0.1, 0.03, -0.01],
                         "ci_low": [0.08, np.nan, -0.02], "ci_high": [0.12, np.nan, 0.0]})
    figure = plots.gap_vs_size(gaps, margin=0.02)
    assert [trace.name for trace in figure.data] == ["conv − flat", "conv − flat-wide"]
    assert list(figure.data[0].y) == [10.0, 3.0] and list(figure.data[1].y) == [-1.0]
    assert np.allclose(figure.data[0].error_y.array, [2.0, 0.0])
    assert np.allclose(figure.data[1].error_y.arrayminus, [1.0])
    assert figure.layout.shapes[0].y0 == -2.0 and figure.layout.shapes[0].y1 == 2.0


def test_the_axes_are_labelled_at_the_sizes_trained_and_in_whole_numbers_with_room_for_the_labels():
    """Issue 28: in the report, plotly's lone log digits ("5" for 0.5 s) and clipped labels read wrong."""
    figure = plots.time_vs_size(SUMMARY)
    assert list(figure.layout.xaxis.tickvals) == [100, 1000] and list(figure.layout.xaxis.ticktext) == ["100", "1,000"]
    assert list(figure.layout.yaxis.ticktext)[3:9] == ["1", "2", "5", "10", "20", "50"]  # 1 to 8 s, written out
    for each in (figure, plots.accuracy_vs_size(SUMMARY, CELLS)):
        assert each.layout.xaxis.automargin and each.layout.yaxis.automargin

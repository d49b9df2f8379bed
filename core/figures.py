"""The study's figures, data in and plotly figures out: drawn by the Study page and by the study report
the CLI writes (`python -m core study --report`), so they live in core, which the CLI may import.
The per-run figures of the dashboard are ui/plots.py's; both take their colours from here."""

from __future__ import annotations

import math

# Whole before any figure is built: plotly looks pandas up in sys.modules without importing it, and met a half-built
# one while another thread was importing it (the server's warm-up imports sklearn, which imports pandas; another
# session's page may import it too): AttributeError "partially initialized module 'pandas'" in place of a chart.
# An import statement waits for the other thread's import to finish. (ui/plots.py imports this module.)
import pandas  # noqa: F401
import plotly.graph_objects as go

COLOURS = {"flat": "#E4572E", "conv": "#2E86AB", "flat-wide": "#F3A712", "conv-small": "#29A36A",
           "flat-dropout": "#A23B72"}
FALLBACK_COLOURS = ["#76B041", "#8E6C8A", "#F3A712", "#17BEBB"]


def colour(name: str, position: int = 0) -> str:
    return COLOURS.get(name, FALLBACK_COLOURS[position % len(FALLBACK_COLOURS)])


MARGIN = {"t": 30, "b": 10, "l": 10, "r": 10}  # pixels; axis labels and titles add to it (automargin)


def _log_size_axis(figure: go.Figure, sizes) -> None:
    """Sample sizes on a log axis, labelled at the sizes trained ("1,000"), not at plotly's log digits."""
    sizes = sorted({int(size) for size in sizes})
    figure.update_xaxes(type="log", title_text="training images (log scale)", tickvals=sizes,
                        ticktext=[f"{size:,}" for size in sizes])


def _one_two_five(values) -> list[float]:
    """Ticks for a log axis over positive `values`: 1, 2 and 5 times each power of ten around them, to be
    written out in full ("0.5", where plotly's own log ticks write a lone small "5")."""
    values = [value for value in values if value == value and value > 0]
    if not values:
        return []
    # a decade beyond the values on each side: plotly pads its range (by a decade when all values are equal)
    low, high = math.floor(math.log10(min(values))) - 1, math.ceil(math.log10(max(values))) + 1
    return [float(f"{step * 10.0 ** power:.12g}") for power in range(low, high + 1) for step in (1, 2, 5)]


def _layout(figure: go.Figure, plot_height: int) -> None:
    """Room for every axis label and title: plotly's automargin grows the margins to fit them (stated here,
    not left to the template), the titles stand clear of the labels. The figure is `plot_height` pixels plus 9
    per legend entry (the legend below wraps into rows of 18 pixels, two entries a row in a narrow column)."""
    figure.update_xaxes(automargin=True, title_standoff=8)
    figure.update_yaxes(automargin=True, title_standoff=8)
    figure.update_layout(height=plot_height + 9 * len(figure.data), margin=MARGIN,
                         # below the chart, wrapping in rows: beside it, it squeezed the chart in narrow columns
                         legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.2, "yanchor": "top"})


def accuracy_vs_size(summary, cells, threshold: float = 0.8, curves=None) -> go.Figure:
    """Mean test accuracy per architecture with its 95% CI band (where it has a usable one), and every seed as a
    point; with `curves` (core.efficiency's bands: architecture, sample_size, fit, low, high), each fitted learning
    curve dotted with its 95% band over resampled seeds."""
    figure = go.Figure()
    for position, (architecture, group) in enumerate(summary.groupby("architecture", sort=False)):
        line_colour = colour(architecture, position)
        fitted = curves[curves["architecture"] == architecture] if curves is not None else []
        if len(fitted):
            _fitted_curve(figure, architecture, fitted, line_colour)
        band = _usable(group)
        if len(band):
            figure.add_trace(go.Scatter(
                x=list(band["sample_size"]) + list(band["sample_size"])[::-1],
                y=list(band["ci_high"]) + list(band["ci_low"])[::-1], fill="toself", fillcolor=line_colour,
                opacity=0.18, line={"width": 0}, hoverinfo="skip", name=f"{architecture} 95% CI"))
        figure.add_trace(go.Scatter(x=group["sample_size"], y=group["mean_accuracy"], mode="lines+markers",
                                    name=f"{architecture} mean", line={"color": line_colour}))
        seeds = cells[cells["architecture"] == architecture]
        figure.add_trace(go.Scatter(x=seeds["sample_size"], y=seeds["test_accuracy"], mode="markers",
                                    name=f"{architecture} seeds", marker={"color": line_colour, "size": 6,
                                                                          "symbol": "circle-open"},
                                    customdata=seeds["seed"],
                                    hovertemplate="seed %{customdata}: %{y:.2%}<extra></extra>"))
    figure.add_hline(y=threshold, line_dash="dot", line_color="grey", annotation_text=f"{threshold:.0%} (H1)")
    _log_size_axis(figure, summary["sample_size"])
    figure.update_yaxes(title_text="test accuracy", tickformat=".0%")
    _layout(figure, 400)
    return figure


def _usable(rows):
    """The rows with a usable 95% CI (core/study/rules.py: enough seeds, inside what the number can be)."""
    rows = rows.dropna(subset=["ci_low", "ci_high"])
    return rows[rows["seeds_for_ci"] == 0] if "seeds_for_ci" in rows else rows


def _fitted_curve(figure: go.Figure, architecture: str, fitted, line_colour: str) -> None:
    band = fitted.dropna(subset=["low", "high"])
    if len(band):
        figure.add_trace(go.Scatter(
            x=list(band["sample_size"]) + list(band["sample_size"])[::-1],
            y=list(band["high"]) + list(band["low"])[::-1],
            fill="toself", fillcolor=line_colour, opacity=0.10, line={"width": 0}, hoverinfo="skip",
            name=f"{architecture} fitted curve's 95% band"))
    figure.add_trace(go.Scatter(x=fitted["sample_size"], y=fitted["fit"], mode="lines",
                                name=f"{architecture} fitted curve", line={"color": line_colour, "dash": "dot"},
                                hovertemplate="fitted: %{y:.2%} at %{x:,.0f} images<extra></extra>"))


def time_vs_size(summary) -> go.Figure:
    figure = go.Figure()
    for position, (architecture, group) in enumerate(summary.groupby("architecture", sort=False)):
        figure.add_trace(go.Scatter(x=group["sample_size"], y=group["mean_train_seconds"], mode="lines+markers",
                                    name=architecture, line={"color": colour(architecture, position)}))
    _log_size_axis(figure, summary["sample_size"])
    ticks = _one_two_five(summary["mean_train_seconds"])
    figure.update_yaxes(type="log", title_text="training seconds (mean over seeds, log)", tickvals=ticks,
                        ticktext=[f"{tick:g}" for tick in ticks])
    _layout(figure, 360)
    return figure


def gap_vs_size(gaps, margin: float) -> go.Figure:
    """first − second accuracy per pair and size with its 95% CI, and the equivalence margin as a band."""
    figure = go.Figure()
    for position, ((first, second), pair) in enumerate(gaps.groupby(["first", "second"], sort=False)):
        known = _usable(pair)
        figure.add_trace(go.Scatter(
            x=pair["sample_size"], y=pair["mean_difference"] * 100, mode="lines+markers", name=f"{first} − {second}",
            line={"color": colour(f"{first}|{second}", position)},
            error_y={"type": "data", "symmetric": False,
                     "array": (known["ci_high"] - known["mean_difference"]).reindex(pair.index).fillna(0) * 100,
                     "arrayminus": (known["mean_difference"] - known["ci_low"]).reindex(pair.index).fillna(0) * 100}))
    figure.add_hrect(y0=-margin * 100, y1=margin * 100, fillcolor="grey", opacity=0.15, line_width=0,
                     annotation_text=f"±{margin * 100:g} points: comparable", annotation_position="top left")
    figure.add_hline(y=0, line_color="grey", line_width=1)
    _log_size_axis(figure, gaps["sample_size"])
    figure.update_yaxes(title_text="accuracy points (first − second)")
    _layout(figure, 360)
    return figure

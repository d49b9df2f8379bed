"""Plot builders: data in, plotly figures out. No Streamlit calls here, so every builder is testable."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.figures import COLOURS, colour

def learning_curves(histories: dict[str, dict]) -> go.Figure:
    """Loss and accuracy per epoch; training solid, validation dashed; all runs overlaid."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"), horizontal_spacing=0.08)
    for position, (label, history) in enumerate(histories.items()):
        line_colour = colour(label.split(" ")[0], position)
        epochs = list(range(1, len(history.get("loss", [])) + 1))
        for column, metric in ((1, "loss"), (2, "accuracy")):
            for prefix, dash, kind in (("", "solid", "training"), ("val_", "dash", "validation")):
                values = history.get(prefix + metric)
                if not values:
                    continue
                figure.add_trace(go.Scatter(
                    x=epochs, y=values, mode="lines+markers", name=f"{label} · {kind}",
                    line={"color": line_colour, "dash": dash}, marker={"size": 5},
                    legendgroup=f"{label}{kind}", showlegend=column == 1,
                    hovertemplate=f"{label} {kind}<br>epoch %{{x}}<br>{metric} %{{y:.4f}}<extra></extra>"),
                    row=1, col=column)
    figure.update_xaxes(title_text="epoch", dtick=max(1, len(epochs) // 12) if histories else 1)
    figure.update_yaxes(tickformat=".0%", row=1, col=2)
    figure.update_layout(height=360, margin={"t": 40, "b": 10, "l": 10, "r": 10},
                         legend={"orientation": "h", "y": -0.25})
    return figure


def learning_curve(histories: dict[str, dict], metric: str) -> go.Figure:
    """One metric ("loss" or "accuracy") per epoch, training solid and validation dashed, all runs overlaid: one
    chart, so that two sit side by side on a wide screen and one above the other on a phone (st.columns)."""
    figure = go.Figure()
    epochs = []
    for position, (label, history) in enumerate(histories.items()):
        line_colour = colour(label.split(" ")[0], position)
        epochs = list(range(1, len(history.get(metric, [])) + 1)) or epochs
        for prefix, dash, kind in (("", "solid", "training"), ("val_", "dash", "validation")):
            values = history.get(prefix + metric)
            if values:
                figure.add_trace(go.Scatter(
                    x=list(range(1, len(values) + 1)), y=values, mode="lines+markers", name=f"{label} · {kind}",
                    line={"color": line_colour, "dash": dash}, marker={"size": 5},
                    hovertemplate=f"{label} {kind}<br>epoch %{{x}}<br>{metric} %{{y:.4f}}<extra></extra>"))
    figure.update_xaxes(title_text="epoch", dtick=max(1, len(epochs) // 12), automargin=False)
    figure.update_yaxes(title_text=metric, tickformat=".0%" if metric == "accuracy" else None, automargin=False)
    # Room for the tick labels ("100%"), the axis titles and the legend below, given rather than measured (see
    # FIXED_MARGINS); a legend in more rows (a phone) still pushes the bottom margin itself.
    figure.update_layout(height=340, margin={"t": 10, "b": 100, "l": 70, "r": 10},
                         legend={"orientation": "h", "x": 0, "y": -0.25, "yanchor": "top"})
    return figure


def confusion_heatmap(matrix: np.ndarray, class_names: list[str], title: str, normalised: bool = False,
                      diverging: bool = False) -> go.Figure:
    """A confusion matrix (rows true, columns predicted) as an annotated heatmap."""
    if diverging:
        limit = max(1e-9, float(np.abs(matrix).max()))
        colour_options = {"colorscale": "RdBu", "zmid": 0, "zmin": -limit, "zmax": limit}
    else:
        colour_options = {"colorscale": "Blues"}
    text = np.vectorize(lambda v: f"{v:.0%}" if normalised else f"{v:+g}" if diverging else f"{v:g}")(matrix)
    figure = go.Figure(go.Heatmap(
        z=matrix, x=class_names, y=class_names, text=text, texttemplate="%{text}", showscale=False,
        hovertemplate="true %{y} → predicted %{x}: %{text}<extra></extra>", **colour_options))
    return _matrix_layout(figure, title, class_names)


# FIXED_MARGINS: the learning curves are given their margins instead of plotly's automargin, which draws a chart,
# measures its labels and draws it again (their labels are the same for every dataset: "100%", "epoch"). Compare's
# five charts took ~265 ms to draw in headless Chromium with automargin and ~130 ms with all five given margins
# (benchmarks/README.md §6). So are the confusion matrices of one-character class names (the digits): plotly's
# automargin made them 35-43 px at the left and 52-59 px below (templates "plotly" and "none"), and one drew in ~30 ms
# with given margins against ~80 ms with automargin (its 100 cell labels drawn twice). Longer names keep automargin:
# with given margins Fashion-MNIST's last name, turned, stuck out of the chart by 22 px at 1366 px.
SHORT_NAME_MARGIN = {"l": 56, "b": 72}


def _matrix_layout(figure: go.Figure, title: str, class_names: list[str]) -> go.Figure:
    """A confusion-style matrix's title and axes. Room for the class names: given for one-character names,
    else plotly's automargin (FIXED_MARGINS). The axis titles stand clear of the names — stated here, not left to the
    template (as core/figures.py's study charts do): Streamlit's import makes its own, empty, template plotly's
    default, and without a standoff plotly.js puts the titles over long names. 16 px below: with Streamlit's theme, 8
    left the labels' boxes 5 px into the title's (tests/e2e/test_tables_fit.py)."""
    given = max(map(len, class_names), default=0) <= 1
    margin = {"t": 40, "r": 10, **(SHORT_NAME_MARGIN if given else {"b": 10, "l": 10})}
    figure.update_layout(title=title, height=420, margin=margin,
                         xaxis={"title": {"text": "predicted", "standoff": 16}, "type": "category",
                                "automargin": not given},
                         yaxis={"title": {"text": "true", "standoff": 8}, "type": "category", "autorange": "reversed",
                                "automargin": not given})
    return figure


# The difference matrix's colours: blue where the second network does better than the first, red where it does
# worse. On the diagonal (digits right) more is better; off it (a mistake) more is worse, so the colour follows
# the difference on the diagonal and its opposite off it. The caption says the same from these names.
BETTER, WORSE = "blue", "red"
ADVANTAGE_SCALE = [[0.0, "rgb(178,24,43)"], [0.25, "rgb(239,138,98)"], [0.5, "rgb(247,247,247)"],
                   [0.75, "rgb(103,169,207)"], [1.0, "rgb(33,102,172)"]]  # red (worse) ... white ... blue (better)


def difference_heatmap(first_matrix: np.ndarray, second_matrix: np.ndarray, class_names: list[str], first: str,
                       second: str, normalised: bool = False) -> go.Figure:
    """"second minus first": each cell shows the difference of the two confusion matrices (+5: the second has 5
    more there), coloured by whether that is better (BETTER) or worse (WORSE) for the second network."""
    difference = np.asarray(second_matrix) - np.asarray(first_matrix)
    advantage = np.where(np.eye(len(difference), dtype=bool), difference, -difference)
    limit = max(1e-9, float(np.abs(difference).max()))
    text = np.vectorize(lambda v: f"{v:+.0%}" if normalised else f"{v:+g}")(difference)
    figure = go.Figure(go.Heatmap(
        z=advantage, x=class_names, y=class_names, text=text, texttemplate="%{text}", showscale=False,
        colorscale=ADVANTAGE_SCALE, zmin=-limit, zmax=limit,
        hovertemplate=f"true %{{y}} → predicted %{{x}}: {second} minus {first} %{{text}}<extra></extra>"))
    return _matrix_layout(figure, f"{second} minus {first}", class_names)


def difference_caption(first: str, second: str, normalised: bool = False) -> str:
    """What the difference matrix's cells and colours mean, in the view shown (counts, or shares of each row)."""
    what = "share of its row (of that class's test digits)" if normalised else "count"
    return (f"Each cell: {second}'s {what} minus {first}'s. {BETTER.capitalize()}: {second} does better there — more "
            f"of that class right on the diagonal, that mistake less often off it; {WORSE}: {second} does worse — "
            f"fewer right on the diagonal, that mistake more often off it.")


INK_SCALE = [[0.0, "rgb(0,0,0)"], [1.0, "rgb(255,255,255)"]]  # 0 black, 255 (ink) white: as MNIST stores a digit


def digit_image(image: np.ndarray, title: str = "") -> go.Figure:
    """A 28x28 digit (values 0..255) as the conv net reads it: a grid of pixel intensities, ink white on black as in
    the pages' pictures of digits (st.image draws 255 white)."""
    figure = go.Figure(go.Heatmap(z=image, colorscale=INK_SCALE, zmin=0, zmax=255, showscale=False,
                                  hovertemplate="row %{y}, column %{x}: %{z}<extra></extra>"))
    figure.update_layout(title=title, height=320, margin={"t": 40, "b": 10, "l": 10, "r": 10},
                         yaxis={"autorange": "reversed", "scaleanchor": "x", "showticklabels": False},
                         xaxis={"showticklabels": False})
    return figure


def digit_vector(image: np.ndarray, title: str = "") -> go.Figure:
    """The same digit as the flat net reads it: 784 numbers in a row."""
    values = np.asarray(image).reshape(-1)
    figure = go.Figure(go.Scatter(y=values, mode="lines", line={"color": COLOURS["flat"], "width": 1},
                                  hovertemplate="pixel %{x}: %{y}<extra></extra>"))
    figure.update_layout(title=title, height=320, margin={"t": 40, "b": 10, "l": 10, "r": 10},
                         xaxis={"title": "pixel index (row × 28 + column)", "range": [0, len(values)]},
                         yaxis={"title": "intensity"})
    return figure


def class_balance(counts: np.ndarray, class_names: list[str]) -> go.Figure:
    figure = go.Figure(go.Bar(x=class_names, y=counts, marker_color=COLOURS["conv"], text=counts,
                              textposition="outside"))
    figure.update_layout(height=300, margin={"t": 20, "b": 10, "l": 10, "r": 10},
                         xaxis={"type": "category", "title": "class"}, yaxis={"title": "images"})
    return figure


def probability_bars(probabilities: np.ndarray, class_names: list[str], title: str, bar_colour: str) -> go.Figure:
    top = int(np.argmax(probabilities))
    colours = [bar_colour if index == top else "#BBBBBB" for index in range(len(probabilities))]
    figure = go.Figure(go.Bar(x=class_names, y=probabilities, marker_color=colours,
                              text=[f"{p:.0%}" for p in probabilities], textposition="outside"))
    figure.update_layout(title=title, height=300, margin={"t": 40, "b": 10, "l": 10, "r": 10},
                         xaxis={"type": "category"}, yaxis={"range": [0, 1.1], "tickformat": ".0%"})
    return figure


def image_grid(images: np.ndarray, title: str, columns: int = 8, diverging: bool = False) -> go.Figure:
    """A stack (num_images, height, width) as small heatmaps, `columns` to a row."""
    import plotly.express as px

    options = {"color_continuous_scale": "RdBu", "color_continuous_midpoint": 0.0} if diverging else \
        {"color_continuous_scale": "gray"}
    figure = px.imshow(images, facet_col=0, facet_col_wrap=columns, facet_row_spacing=0.02,
                       facet_col_spacing=0.01, **options)
    figure.for_each_annotation(lambda note: note.update(text=str(int(note.text.split("=")[-1]) + 1)))
    figure.update_xaxes(showticklabels=False)
    figure.update_yaxes(showticklabels=False)
    rows = -(-len(images) // columns)
    figure.update_layout(title=title, height=80 + rows * 95, coloraxis_showscale=False,
                         margin={"t": 50, "b": 5, "l": 5, "r": 5})
    return figure


def saliency_overlay(digit: np.ndarray, saliency_map: np.ndarray, title: str) -> go.Figure:
    figure = go.Figure(go.Heatmap(z=saliency_map, colorscale="Hot", showscale=False,
                                  hovertemplate="row %{y}, column %{x}: %{z:.2f}<extra></extra>"))
    figure.add_trace(go.Contour(z=digit, contours={"start": 0.5, "end": 0.5, "coloring": "lines"},
                                line={"color": "#2E86AB", "width": 2}, showscale=False, hoverinfo="skip"))
    figure.update_layout(title=title, height=320, margin={"t": 40, "b": 10, "l": 10, "r": 10},
                         yaxis={"autorange": "reversed", "scaleanchor": "x", "showticklabels": False},
                         xaxis={"showticklabels": False})
    return figure


def robustness_chart(frame, unit: str, title: str) -> go.Figure:
    """Accuracy against a perturbation's level, a line per model; a 95% CI band where `frame` has one.

    `frame`: columns label, level, accuracy, and optionally ci_low, ci_high (over seeds)."""
    figure = go.Figure()
    for position, (label, group) in enumerate(frame.groupby("label", sort=False)):
        group = group.sort_values("level")
        line_colour = colour(label.split(" ")[0], position)
        if "ci_low" in group and group["ci_low"].notna().any():
            band = group.dropna(subset=["ci_low", "ci_high"])
            figure.add_trace(go.Scatter(
                x=list(band["level"]) + list(band["level"])[::-1], y=list(band["ci_high"]) + list(band["ci_low"])[::-1],
                fill="toself", fillcolor=line_colour, opacity=0.18, line={"width": 0}, hoverinfo="skip",
                name=f"{label} 95% CI", showlegend=False))
        figure.add_trace(go.Scatter(x=group["level"], y=group["accuracy"], mode="lines+markers", name=label,
                                    line={"color": line_colour},
                                    hovertemplate=f"{label}<br>%{{x}} {unit}: %{{y:.1%}}<extra></extra>"))
    figure.update_xaxes(title_text=unit)
    figure.update_yaxes(title_text="test accuracy", tickformat=".0%", range=[0, 1.02])
    figure.update_layout(title={"text": title, "font": {"size": 14}}, height=300,
                         margin={"t": 40, "b": 10, "l": 10, "r": 10}, legend={"orientation": "h", "y": -0.3})
    return figure

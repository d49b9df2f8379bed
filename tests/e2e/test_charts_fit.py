"""Compare's charts keep their labels inside (ui/plots.py FIXED_MARGINS: the learning curves and the digits'
confusion matrices are given their margins, other class names' matrices keep plotly's automargin): in Chromium, every
label, axis title and legend stays inside its chart and the axis titles do not cover the tick labels, for MNIST's
digits and Fashion-MNIST's long class names, in a phone's column, a wide screen's and a wider one, under plotly's own
template and under none (what a figure built after Streamlit's import carries: Streamlit sets plotly's default
template to its own, empty, one).

plotly.js as the plotly package ships it, in a blank page: no server is needed for what is tested here
(tests/e2e/test_tables_fit.py checks the running app with Streamlit's theme)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DIGITS = [str(digit) for digit in range(10)]

# Every label's box against its chart's box, and each axis title against its tick labels: what sticks out.
PROBLEMS = """(chart) => {
  const box = chart.getBoundingClientRect();
  const problems = [];
  const inside = (element, what) => {
    const r = element.getBoundingClientRect();
    if (r.width === 0) return;
    if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1) {
      problems.push(`${what} "${element.textContent}" sticks out of the chart`);
    }
  };
  chart.querySelectorAll('.xtick text, .ytick text').forEach((e) => inside(e, 'tick label'));
  chart.querySelectorAll('.g-xtitle text, .g-ytitle text, .g-gtitle text').forEach((e) => inside(e, 'title'));
  chart.querySelectorAll('.legend .traces').forEach((e) => inside(e, 'legend entry'));
  const rects = (selector) => [...chart.querySelectorAll(selector)].map((e) => e.getBoundingClientRect())
    .filter((r) => r.width > 0);
  const ytitle = rects('.g-ytitle text')[0], xtitle = rects('.g-xtitle text')[0];
  const yticks = rects('.ytick text'), xticks = rects('.xtick text');
  if (ytitle && yticks.length && ytitle.right > Math.min(...yticks.map((r) => r.left)) + 1) {
    const font = getComputedStyle(chart.querySelector('.ytick text')).fontFamily;
    problems.push(`the y title covers the tick labels (title right ${ytitle.right.toFixed(1)} > labels' left ` +
                  `${Math.min(...yticks.map((r) => r.left)).toFixed(1)}; font ${font})`);
  }
  if (xtitle && xticks.length && xtitle.top < Math.max(...xticks.map((r) => r.bottom)) - 1) {
    problems.push(`the x title covers the tick labels (title top ${xtitle.top.toFixed(1)} < labels' bottom ` +
                  `${Math.max(...xticks.map((r) => r.bottom)).toFixed(1)})`);
  }
  return problems;
}"""


def figures(class_names: list[str]):
    from ui import plots

    rng = np.random.default_rng(0)
    first, second = rng.integers(0, 1000, (10, 10)), rng.integers(0, 1000, (10, 10))
    history = {name: list(rng.random(12) * 2) for name in ("loss", "val_loss")} | \
              {name: list(rng.random(12)) for name in ("accuracy", "val_accuracy")}
    histories = {"flat": history, "conv (shuffled)": history}
    return {"loss curve": plots.learning_curve(histories, "loss"),
            "accuracy curve": plots.learning_curve(histories, "accuracy"),
            "confusion": plots.confusion_heatmap(first, class_names, "conv (shuffled)"),
            "normalised": plots.confusion_heatmap(first / first.sum(axis=1, keepdims=True), class_names, "flat",
                                                  normalised=True),
            "difference": plots.difference_heatmap(first, second, class_names, "flat", "conv (shuffled)")}


def test_comparisons_charts_keep_their_labels_inside(tmp_path):
    import plotly
    import plotly.io  # noqa: F401 - plotly.io.to_json
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "charts.html"
    page_file.write_text(f"<html><body><script>{plotly.offline.get_plotlyjs()}</script><div id=charts></div>"
                         f"</body></html>")
    problems = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(page_file.as_uri())
            cases = [(names, template, name, figure.update_layout(template=template), width)
                     for names in (DIGITS, FASHION) for template in ("plotly", "none")
                     for name, figure in figures(names).items()
                     for width in (650, 445, 340)]  # a column of two at 1920 px, at 1366 px; a phone's column
            for names, template, name, figure, width in cases:
                found = page.evaluate(f"""async ([figure, width]) => {{
                    const chart = document.createElement('div');
                    chart.style.width = width + 'px';
                    document.getElementById('charts').replaceChildren(chart);
                    await Plotly.newPlot(chart, figure.data, figure.layout);
                    await document.fonts.ready;  // then two frames: measured as drawn on screen
                    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
                    return ({PROBLEMS})(chart);
                }}""", [json.loads(plotly.io.to_json(figure)), width])
                problems += [f"{name} ({names[0]}…, {template}, {width} px): {problem}" for problem in found]
        finally:
            browser.close()
    assert not problems, "\n".join(problems)

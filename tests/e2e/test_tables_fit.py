"""Issue 37 item 6 in a real browser: every table fits its column — no table scrolls sideways — on Compare, Study,
Runs and the downloaded study report, at 1366x768 and on a phone (390x844). The tables the pages open with are
checked; wider ones a reader asks for (an expander, more columns) may scroll.

One server for the module, over a store of fake runs (instant to make, tests/fakes.py): a comparison with three
seeds and a study on both pixel orders (four networks, four differences: the widest tables)."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import serve, write_digits

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SCREENS = [(1366, 768), (390, 844)]
STUDY = dict(architectures=("flat", "conv"), pixels=("drawn", "shuffled"), sample_sizes=(100, 300), num_seeds=2,
             num_epochs=1)
STUDY_ADDRESS = "/study?sizes=100,300&seeds=2&epochs=1&networks=flat,conv&pixels=drawn,shuffled"
COMPARE_ADDRESS = "/?size=100&epochs=1&networks=flat,conv"

# Every visible table's sideways overflow in CSS pixels: st.table's scroller, st.dataframe's grid scroller, an HTML
# table inside its box (the report). A table inside a closed expander is not visible: not counted.
OVERFLOWS = """() => {
  const visible = (element) => element.offsetParent !== null && element.getClientRects().length > 0;
  const found = [];
  const check = (what, element, box) => {
    if (visible(element) && element.scrollWidth > box.clientWidth + 1) {
      found.push(`${what}: ${element.scrollWidth} > ${box.clientWidth} (${element.innerText.slice(0, 60)})`);
    }
  };
  document.querySelectorAll('[data-testid="stTable"] > div').forEach((box) => check("st.table", box, box));
  document.querySelectorAll('[data-testid="stDataFrame"] .dvn-scroller').forEach((box) => check("st.dataframe", box,
                                                                                               box));
  document.querySelectorAll('main table, div.table > table').forEach((table) => check("table", table,
                                                                                        table.parentElement));
  if (document.documentElement.scrollWidth > window.innerWidth + 1) {
    found.push(`the page: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
  }
  return found;
}"""


@pytest.fixture(scope="module")
def stored_app_url(tmp_path_factory, digits):
    """The app over a store of fake runs: flat and conv at 100 images for seeds 0 to 2, and STUDY's cells."""
    from core.config import TrainConfig
    from core.runs import RunStore
    from core.study import StudySpec, run_study
    from tests.fakes import FakeTrainer, service

    folder = tmp_path_factory.mktemp("tables")
    runs = service(RunStore(folder / "store"), FakeTrainer())
    for seed in range(3):
        for name in ("flat", "conv"):
            runs.get_or_train(TrainConfig(architecture=name, sample_size=100, num_epochs=1, seed=seed), digits)
    run_study(StudySpec(**STUDY), digits, runs)
    with serve(folder, write_digits(folder, digits), TRAIN_WORKERS="0") as url:
        yield url


def settled(page) -> None:
    page.wait_for_timeout(1000)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=60_000)


def open_page(browser, url: str, width: int, height: int, last: str, tables: int):
    """The page at `url`, drawn to its `last` words, with at least `tables` tables."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url)
    page.get_by_text(last, exact=True).first.wait_for(timeout=120_000)
    page.locator('[data-testid="stTable"], [data-testid="stDataFrame"]').nth(tables - 1).wait_for(timeout=60_000)
    settled(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    return page


@pytest.mark.parametrize("width, height", SCREENS)
def test_no_table_scrolls_sideways_on_compare_study_and_runs(browser, stored_app_url, width, height):
    # Compare: two layer tables and the timing; Study: H1, the differences, the student's table (and the numbers
    # behind them, closed); Runs: the runs
    for address, last, tables in ((COMPARE_ADDRESS, "Results (CSV)", 3), (STUDY_ADDRESS, "All cells (CSV)", 2),
                                  ("/runs", "Runs to open or delete", 1)):
        page = open_page(browser, stored_app_url + address, width, height, last, tables)
        assert page.evaluate(OVERFLOWS) == [], f"{address} at {width}x{height}"
        page.close()


@pytest.mark.parametrize("width, height", SCREENS)
def test_compares_charts_keep_their_labels_inside_in_the_apps_theme(browser, stored_app_url, width, height):
    """ui/plots.py gives Compare's charts their margins (no automargin): with Streamlit's theme and fonts too, no
    label sticks out and no axis title covers its tick labels (tests/e2e/test_charts_fit.py: Fashion-MNIST's names)."""
    from tests.e2e.test_charts_fit import PROBLEMS

    page = open_page(browser, stored_app_url + COMPARE_ADDRESS, width, height, "Results (CSV)", 3)
    charts = page.locator(".js-plotly-plot")
    assert charts.count() >= 5  # two learning curves, two confusion matrices, their difference
    problems = [problem for index in range(charts.count()) for problem in charts.nth(index).evaluate(PROBLEMS)]
    assert problems == [], f"at {width}x{height}"
    page.close()


@pytest.mark.parametrize("width, height", SCREENS)
def test_no_table_scrolls_sideways_in_the_study_report(browser, digits, tmp_path, width, height):
    from core.report import study_html
    from core.runs import RunStore
    from core.study import StudySpec, analyse, run_study
    from tests.fakes import FakeTrainer, service

    runs = service(RunStore(tmp_path / "store"), FakeTrainer())
    run_study(StudySpec(**STUDY), digits, runs)
    report = tmp_path / "study.html"
    report.write_text(study_html(analyse(StudySpec(**STUDY), digits, runs), digits), encoding="utf-8")
    context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
    page = context.new_page()
    page.goto(report.as_uri())
    expect(page.locator("table.verdicts")).to_have_count(2)
    page.locator("details").evaluate("(details) => details.open = true")  # every cell too: the widest table
    assert page.locator("table").count() == 5  # H1, the differences, every network and size, McNemar's counts, cells
    assert page.evaluate(OVERFLOWS) == []
    context.close()

"""The Study page's controls, progress and report."""

from __future__ import annotations

import streamlit as st

from itertools import combinations

from core import pixels, settings
from core.data import MIN_SAMPLE_SIZE, Dataset, check_sample_size
from core.report import (check_table, mcnemar_table, report_file_name, student_table, study_html, summary_table,
                         verdict_parts)
from core.study import (CAPACITY_PRESET, DEFAULT_SIZES, SPATIAL_PRESET, STUDENT, STUDENT_PRESET, THRESHOLD,
                        StudyProgress, StudySpec, default_pairs, machine_description)
from core.study import tables
from core import figures
from ui import cache
from core.safe_text import echo, literal
from core.settings import SettingError
from ui.robustness_view import study_robustness
from core.glossary import explain
from ui.controls import default_value, precision_select, recipe_select, setting_input
from ui.formats import glossary
from ui.network_choice import architecture_select
from ui.progress import progress_reporter

TERMS = ("H1", "H2", "95% CI", "points", "McNemar's test", "p", "accuracy", "train seconds", "seed", "epoch",
         "bfloat16")

FORM = settings.STUDY_FORM
PAGE_DEFAULT_SIZES = [100, 300, 1000, 3000]  # a few minutes on a laptop CPU with 3 seeds


def apply_preset(preset: StudySpec) -> None:
    """The preset's settings become the widgets' values (each as people see it: lists, the margin in points); the
    dataset stays, and so do the sizes of a preset without its own."""
    for setting in FORM.shown:
        value = list(preset.names) if setting is settings.ARCHITECTURES else getattr(preset, setting.name)
        if setting is settings.DATASET or value is None:
            continue
        st.session_state[FORM.key(setting)] = list(value) if setting.many else setting.from_field(value)


def preset_buttons() -> None:
    """Three presets, each a short name on its button (whole at any width) and what it sets in its help."""
    left, middle, right = st.columns(3)
    left.button("Student's experiment", key="study_preset", on_click=apply_preset, args=(STUDENT_PRESET,),
                width="stretch", help="flat and conv on 1,000 digits, 12 epochs, 3 seeds.")
    middle.button("Convolution or capacity?", key="study_capacity_preset", on_click=apply_preset,
                  args=(CAPACITY_PRESET,), width="stretch",
                  help="flat, conv and their parameter-matched controls flat-wide and conv-small, 12 epochs: is "
                       "conv's lead its convolutions or its parameter count?")
    right.button("Is it the spatial structure?", key="study_spatial_preset", on_click=apply_preset,
                 args=(SPATIAL_PRESET,), width="stretch",
                 help="flat and conv on the pixels as drawn and shuffled, 12 epochs. A flat network can learn any "
                      "fixed order of the pixels; a convolution assumes neighbours belong together. If shuffling "
                      "costs conv and not flat, conv's lead is the images' layout.")


def spec_controls(dataset: Dataset) -> StudySpec:
    """The study's controls; raises ValueError for a spec that cannot run."""
    key = FORM.key
    presets = [size for size in DEFAULT_SIZES if size < dataset.pool_size] + [dataset.pool_size]
    st.session_state.setdefault(key(settings.SAMPLE_SIZES), [size for size in PAGE_DEFAULT_SIZES if size in presets])
    kept, refused = sample_sizes(st.session_state[key(settings.SAMPLE_SIZES)], dataset.pool_size)
    st.session_state[key(settings.SAMPLE_SIZES)] = kept
    typed, refused_now = sample_sizes(st.multiselect(
        settings.SAMPLE_SIZES.widget_label, sorted(set(presets) | set(kept)), key=key(settings.SAMPLE_SIZES),
        accept_new_options=True, placeholder="Pick or type sizes",
        format_func=lambda size: f"{size:,}" + (" (full)" if size == dataset.pool_size else "") if isinstance(
            size, int) else str(size),
        help=f"Any whole number from {MIN_SAMPLE_SIZE} to the pool's {dataset.pool_size:,} images: type it and "
             f"press Enter (the listed ones are quick picks)."), dataset.pool_size)
    for reason in dict.fromkeys(refused + refused_now):  # kept from another data source, a link, or just typed
        st.caption(f"Left out: {reason}")
    sizes = sorted(typed)
    numbers = (settings.SEEDS, settings.EPOCHS, settings.BATCH_SIZE, settings.MARGIN)
    chosen = {setting.name: setting_input(column, setting, key(setting), default_value(setting, StudySpec()))
              for column, setting in zip(st.columns(len(numbers)), numbers)}
    left, right = st.columns(2)
    with right:
        recipe = recipe_select(key=key(settings.RECIPE), epochs_key=key(settings.EPOCHS))
        precision = precision_select(key=key(settings.PRECISION))
        orders = pixel_orders_select(key=key(settings.STUDY_PIXELS))
    with left:
        architectures = architecture_select(key=key(settings.ARCHITECTURES))
        pairs = pair_select([spec.name for spec in architectures], orders, key=key(settings.PAIRS))
    chosen["margin"] = settings.MARGIN.to_field(chosen["margin"])
    return StudySpec(dataset=dataset.name, architectures=tuple(architectures), sample_sizes=tuple(sizes),
                     recipe=recipe, precision=precision, pairs=pairs, pixels=tuple(orders) or (pixels.DEFAULT,),
                     **chosen)


def sample_sizes(values, pool_size: int) -> tuple[list[int], list[str]]:
    """The study's sample sizes from what a widget, a link or a typed entry holds (ints, 'full', or text), in
    increasing order without repeats, and the reason each other value cannot be one."""
    sizes, refused = [], []
    for value in values:
        try:
            size = settings.SAMPLE_SIZE.parse(value) if isinstance(value, str) else value
            sizes.append(check_sample_size(settings.resolve_full(size, pool_size), pool_size))
        except SettingError as error:  # typed text that is no size
            refused.append(f"{literal(echo(value))}: a sample size {error.reason}.")
        except ValueError as error:  # a size this data source cannot give
            refused.append(str(error))
    return sorted(dict.fromkeys(sizes)), refused


def pixel_orders_select(key: str) -> list[str]:
    """The pixel orders every network of the study trains on (as drawn by default)."""
    setting = settings.STUDY_PIXELS
    st.session_state.setdefault(key, [default_value(setting)])
    chosen = st.multiselect(setting.widget_label, list(setting.choices), key=key, format_func=setting.choices.get,
                            help=setting.help)
    if not chosen:
        st.caption("No pixel order chosen: using the pixels as drawn.")
    return chosen


def pair_select(names: list[str], orders: list[str], key: str) -> tuple:
    """Which differences to test: any two of the chosen networks on the chosen pixel orders (the suggested pairs
    by default)."""
    orders = orders or [pixels.DEFAULT]
    default = list(default_pairs(tuple(names), tuple(orders)))
    names = [pixels.arm_label(name, order) for order in orders for name in names]
    options = default + [(first, second) for first, second in combinations(names, 2)
                         if (first, second) not in default and (second, first) not in default]
    asked = [tuple(pair) for pair in st.session_state.get(key, default)]
    options += [pair for pair in asked if pair not in options and len(set(pair)) == 2 and set(pair) <= set(names)]
    chosen = list(dict.fromkeys(pair for pair in asked if pair in options))  # e.g. flat − conv, as a link asked
    seen = st.session_state.get(f"_{key}_orders")
    if seen is not None and seen != orders:  # pixel orders changed: their suggested pairs join the choice
        chosen += [pair for pair in default if pair not in chosen and any(pixels.split_label(arm)[1] not in seen
                                                                          for arm in pair)]
    st.session_state[f"_{key}_orders"] = orders
    st.session_state[key] = chosen
    picked = st.multiselect(settings.PAIRS.widget_label, options, key=key,
                            format_func=lambda pair: f"{pair[0]} − {pair[1]}", help=settings.PAIRS.help)
    return tuple(picked)


EXECUTORS = {"here": "In this app, one cell after another", "ray": "On a Ray cluster, several cells at once"}


def executor_choice() -> tuple[str, str | None]:
    """Where the cells train: ("here", None) or ("ray", address or None for a new local Ray)."""
    where = st.segmented_control("Where the cells train", list(EXECUTORS), format_func=EXECUTORS.get, default="here",
                                 key="study_executor") or "here"
    if where == "here":
        return where, None
    address = st.text_input("Ray cluster address", key="study_ray_address", placeholder="HOST:PORT, or empty",
                            help="The head node of a cluster started with `ray start --head` (see README, Scale "
                                 "out). Empty: RAY_ADDRESS if set, else a local Ray on this machine, one cell per "
                                 "CPU. Every node needs this project's requirements installed.").strip()
    return where, address or None


def connect(runs, where: str, address: str | None):
    """The runs service the cells train through: `runs` (this app's) for "here"; for "ray", one over the same
    store with a connected RayExecutor (its status line on the page), or an error and a stop."""
    if where == "here":
        return runs
    from core.runs import RunsService
    from core.runs.ray_executor import RayExecutor  # Ray: imported only when chosen

    executor = RayExecutor(address)
    try:
        with st.spinner("Joining the Ray cluster…"):
            status = executor.connect()
    except Exception as error:  # ConnectionError, ValueError, or Ray's own: the spinner ends with one message
        executor.shutdown()
        st.error(f"Could not use Ray: {literal(error, 500)}")
        st.stop()
    st.caption(f"**{status}**")
    return RunsService(runs.store, executor)


def study_progress(slots: int = 1):
    """(on_cell, on_epoch, failures): functions moving an overall bar and a bar for the cell in progress, and the
    list of cells that failed; each cell's report in words as the CLI prints it (core/study/run.py)."""
    overall = st.progress(0.0, text="Starting the study…")
    cell_bar = st.progress(0.0, text=" ")
    words = StudyProgress(slots)
    state = {"on_epoch": None}

    def on_cell(cell) -> None:
        overall.progress(words.fraction(cell), text=words.line(cell))
        if cell.seconds is None:
            state["on_epoch"] = progress_reporter(cell_bar, words.cell_words(cell.config))

    def on_epoch(progress) -> None:
        state["on_epoch"](progress)

    return on_cell, on_epoch, words.failures


def show_report(report, dataset: Dataset) -> None:
    """The answer first (a summary, the verdict tables, what their words mean, the further answers the study can
    give, the report's download), then the charts and the numbers behind them."""
    if report.cells.empty:
        st.info("No cell of this study is stored yet: press **Run study**.")
        return
    if report.missing:
        st.warning(f"{report.missing} of {report.missing + len(report.cells)} cells are not trained yet; the "
                   f"results below use the ones that are. **Run study** trains the rest (stored cells are reused).")
    efficiency = cache.efficiency(report.cells)
    parts = verdict_parts(report, efficiency)
    heading, download = st.columns([3, 1], vertical_alignment="bottom")
    heading.subheader("The answer")
    download.download_button("Download report (HTML)", lambda: study_html(report, dataset, efficiency).encode(),
                             file_name=report_file_name(report.spec, dataset.pool_size), mime="text/html",
                             on_click="ignore", key="study_report", width="stretch",
                             help="One file with the answer, the interactive charts, the tables, the data source, "
                                  "machine and library versions; it opens in any browser, offline.")
    st.info(parts["summary"])
    verdict_tables(parts)
    for sentence in parts["further"]:
        st.info(sentence)
    glossary(TERMS)
    charts(report, efficiency)
    numbers_behind(report, efficiency)
    if (report.summary["sample_size"] == STUDENT["sample_size"]).any():
        st.subheader("The student's table, next to ours")
        st.caption(f"Student: {STUDENT['machine']}, one run each. Ours: mean over seeds at "
                   f"{STUDENT['sample_size']:,} images, measured on {machine_description()}.")
        st.table(student_table(report), hide_index=True)
    study_robustness(report, dataset)
    st.download_button("All cells (CSV)", report.cells.to_csv(index=False).encode(), file_name="study_cells.csv",
                       mime="text/csv", on_click="ignore", key="study_download")


def verdict_tables(parts: dict) -> None:
    """H1 and the differences as tables that wrap to their column (st.table reads cells as Markdown), each verdict
    word explained once under them."""
    if parts["h1"] is not None:
        st.markdown(f"**H1: does each network reach at least {THRESHOLD:.0%}?** Mean accuracy over seeds, 95% CI.")
        for table in tables.parts(parts["h1"]):  # a few networks to a table: each fits a phone
            st.table(tables.markdown(table), hide_index=True)
    if parts["pairs"] is not None:
        st.markdown("**The differences, first − second.** Mean over seeds, 95% CI; McNemar's test on one seed.")
        for table in tables.parts(parts["pairs"]):
            st.table(tables.markdown(table), hide_index=True)
    meanings = [f"**{literal(word)}**: {meaning}" for word, meaning in parts["meanings"]]
    if parts["mcnemar"]:
        meanings.append(parts["mcnemar"])
    if meanings:
        st.caption("  \n".join(meanings))


def charts(report, efficiency) -> None:
    left, right = st.columns(2)
    left.markdown("**Accuracy against sample size**")
    left.plotly_chart(figures.accuracy_vs_size(report.summary, report.cells, curves=efficiency.bands),
                      key="study_accuracy")
    if efficiency.fits:  # only where a curve is drawn
        left.caption("Dotted: " + (f"{next(iter(efficiency.fits))}'s" if len(efficiency.fits) == 1 else "each "
                                   "network's") + " fitted learning curve (an inverse power law) with its 95% band "
                     "over resampled seeds.")
    right.markdown("**Training time against sample size**")
    right.plotly_chart(figures.time_vs_size(report.summary), key="study_time")
    if not report.gaps.empty:
        st.markdown("**The gaps: first − second, with their 95% CI over seeds**")
        st.plotly_chart(figures.gap_vs_size(report.gaps, report.spec.margin), key="study_gap")


def numbers_behind(report, efficiency) -> None:
    """Every network and size, McNemar's counts and the prediction check, on demand: wider tables than a phone."""
    with st.expander("The numbers behind the answer", icon=":material/table:"):
        st.markdown("**Every network and sample size**")
        summary = summary_table(report.summary)
        st.dataframe(summary, hide_index=True, key="study_summary", column_config={
            "95% CI": st.column_config.TextColumn(help=explain("95% CI")),
            summary.columns[-1]: st.column_config.TextColumn(help=explain("H1")),
            "training time": st.column_config.TextColumn(help=explain("train seconds"))})
        if not report.gaps.empty:
            st.markdown("**McNemar's test: the test digits only one network of a pair gets right**")
            st.dataframe(mcnemar_table(report.gaps), hide_index=True, key="study_gaps", column_config={
                "McNemar": st.column_config.TextColumn(help=explain("McNemar's test") + " " + explain("p")),
                "seed": st.column_config.NumberColumn(help="The seed whose two runs McNemar's test compares.")})
        if not efficiency.check.empty:
            st.markdown("**Prediction check: curves fitted on the smaller sizes only, against the larger ones "
                        "measured**")
            st.dataframe(check_table(efficiency.check), hide_index=True, key="study_check")


def size_gate(spec, dataset: Dataset, runs, shared: bool) -> tuple[int, bool]:
    """The estimate in words and, where the class shares this server's workers (`shared`), its limits
    (core/server_settings.py): a study over them is refused with the reason, one over STUDY_ASK_MINUTES waits for a
    confirmation and says how it shares the workers. (missing cells, whether Run study may start it)."""
    from core import server_settings
    from core.study.run import study_size

    checked = server_settings.check()
    size = study_size(spec, dataset, runs, checked.study_ask_minutes, checked.study_max_cells,
                      checked.study_max_minutes)
    total = len(spec.configs(dataset.pool_size))
    if not size.cells:
        st.caption(f"All {total:,} cells are stored: the results below open from the store.")
        return 0, True
    st.caption(f"{total - size.cells:,} of {total:,} cells are stored. Training the other {size.cells:,} takes about "
               f"{size.seconds / 60:,.1f} min on this machine (estimated from stored timings).")
    if not shared:
        return size.cells, True
    if size.refusal:
        st.error(size.refusal, icon=":material/block:")
        return size.cells, False
    if size.needs_asking:
        st.caption(size.share())
        return size.cells, st.checkbox(f"Yes, queue {size.cells:,} cells on this shared server", key="study_confirm")
    return size.cells, True

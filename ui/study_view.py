"""The Study page's controls, progress and report."""

from __future__ import annotations

import streamlit as st

from core.architectures import ARCHITECTURES
from core.data import Dataset
from core.study import (DEFAULT_SIZES, STUDENT, STUDENT_PRESET, StudySpec, machine_description,
                        student_comparison)
from ui import plots
from ui.components import precision_select, progress_reporter, recipe_select

PAGE_DEFAULT_SIZES = [100, 300, 1000, 3000]  # a few minutes on a laptop CPU with 3 seeds


def apply_student_preset() -> None:
    preset = STUDENT_PRESET
    st.session_state.update(study_sizes=list(preset.sample_sizes), study_seeds=preset.num_seeds,
                            study_epochs=preset.num_epochs,
                            study_batch_size=preset.batch_size, study_architectures=list(preset.architectures),
                            study_recipe=preset.recipe, study_precision=preset.precision)


def spec_controls(dataset: Dataset) -> StudySpec:
    """The study's controls; raises ValueError for a spec that cannot run."""
    options = [size for size in DEFAULT_SIZES if size < dataset.pool_size] + [dataset.pool_size]
    st.session_state.setdefault("study_sizes", [size for size in PAGE_DEFAULT_SIZES if size in options])
    st.session_state["study_sizes"] = [size for size in st.session_state["study_sizes"] if size in options]
    sizes = st.multiselect("Sample sizes", options, key="study_sizes",
                           format_func=lambda size: f"{size:,}" + (" (full)" if size == dataset.pool_size else ""))
    columns = st.columns(4)
    num_seeds = columns[0].number_input("Seeds", value=3, step=1, key="study_seeds")
    st.session_state.setdefault("study_epochs", 12)
    num_epochs = columns[1].number_input("Epochs", step=1, key="study_epochs")
    batch_size = columns[2].number_input("Batch size", value=32, step=16, key="study_batch_size")
    margin = columns[3].number_input("H2 margin (points)", value=2.0, step=0.5, key="study_margin")
    left, right = st.columns(2)
    architectures = left.multiselect("Architectures", list(ARCHITECTURES), default=list(ARCHITECTURES),
                                     key="study_architectures", format_func=lambda name: ARCHITECTURES[name].label)
    with right:
        recipe = recipe_select(key="study_recipe", epochs_key="study_epochs")
        precision = precision_select(key="study_precision")
    return StudySpec(dataset=dataset.name, architectures=tuple(architectures), sample_sizes=tuple(sizes),
                     num_seeds=num_seeds, num_epochs=num_epochs, batch_size=batch_size, margin=margin / 100,
                     recipe=recipe, precision=precision)


def study_progress():
    """(on_cell, on_epoch) functions moving an overall bar and a bar for the cell in progress."""
    overall = st.progress(0.0, text="Starting the study…")
    cell_bar = st.progress(0.0, text=" ")
    state = {"on_epoch": None}

    def on_cell(cell) -> None:
        config = cell.config
        label = f"{config.architecture}, {config.sample_size:,} images, seed {config.seed}"
        overall.progress((cell.index - 1) / cell.total, text=f"Cell {cell.index} of {cell.total}: {label}"
                         + (" (stored)" if cell.cached else ""))
        state["on_epoch"] = progress_reporter(cell_bar, label)

    def on_epoch(progress) -> None:
        state["on_epoch"](progress)

    return on_cell, on_epoch, overall


def show_report(report) -> None:
    if report.cells.empty:
        st.info("No cell of this study is stored yet: press **Run study**.")
        return
    if report.missing:
        st.warning(f"{report.missing} of {report.missing + len(report.cells)} cells are not trained yet; the "
                   f"results below use the ones that are. **Run study** trains the rest (stored cells are reused).")
    st.subheader("Verdicts")
    for key in ("h1", "h2"):
        st.info(report.verdicts[key])
    left, right = st.columns(2)
    left.markdown("**Accuracy against sample size**")
    left.plotly_chart(plots.accuracy_vs_size(report.summary, report.cells), key="study_accuracy")
    right.markdown("**Training time against sample size**")
    right.plotly_chart(plots.time_vs_size(report.summary), key="study_time")
    if not report.gaps.empty:
        st.markdown("**The gap: conv − flat, with its 95% CI over seeds**")
        st.plotly_chart(plots.gap_vs_size(report.gaps, report.spec.margin), key="study_gap")
        st.dataframe(report.gaps, hide_index=True, key="study_gaps", column_config={
            name: st.column_config.NumberColumn(format="%.4f") for name in ("mean_difference", "ci_low", "ci_high")
        } | {"mcnemar_p": st.column_config.NumberColumn("McNemar p", format="%.2e")})
    st.markdown("**Every architecture and size**")
    st.dataframe(report.summary, hide_index=True, key="study_summary", column_config={
        name: st.column_config.NumberColumn(format="%.4f") for name in ("mean_accuracy", "ci_low", "ci_high")
    } | {"mean_train_seconds": st.column_config.NumberColumn("mean train s", format="%.2f")})

    student = student_comparison(report)
    if student["our_mean_accuracy"].notna().any():
        st.subheader("The student's table, next to ours")
        st.caption(f"Student: {STUDENT['machine']}, one run each. Ours: mean over seeds at "
                   f"{STUDENT['sample_size']:,} images, measured on {machine_description()}.")
        st.dataframe(student, hide_index=True, key="study_student")
    st.download_button("All cells (CSV)", report.cells.to_csv(index=False).encode(), file_name="study_cells.csv",
                       mime="text/csv", on_click="ignore", key="study_download")

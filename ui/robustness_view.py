"""Robustness on the Compare and Study pages: accuracy on shifted, rotated, scaled and noisy test digits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.pixels import arm_label
from core.perturb import DEFAULT_PERTURBATIONS, PERTURBATIONS, perturbed_one
from core.recipes import RECIPES
from core.robustness import SEED, sentence, summarise_over_seeds, accuracy_table
from core.runs import StoredRun
from ui import cache, plots
from ui.controls import bounded_number

WHY = ("Why would convolution win? A convolution applies the same filters at every position, so a stroke means the "
       "same wherever it sits; the flat network has to learn every position separately. Here both read the whole "
       "test set again, perturbed level by level (the same digits for every model, drawn from one seed). A model "
       "trained on shuffled pixels reads each digit perturbed as drawn, then shuffled like its training images.")


def perturbation_choice(key: str) -> tuple:
    chosen = st.pills("Perturbations", list(PERTURBATIONS), default=list(DEFAULT_PERTURBATIONS), key=key,
                      selection_mode="multi", help="Elastic: Simard et al.'s random smooth distortion, the classic "
                                                   "MNIST augmentation.")
    return tuple(name for name in PERTURBATIONS if name in (chosen or []))


def recipe_words(runs: list[StoredRun]) -> str:
    recipes = sorted({run.config.recipe for run in runs})
    words = f"Trained with the {' and the '.join(recipes)} recipe{'s' if len(recipes) > 1 else ''}"
    augmented = [name for name in recipes if name in RECIPES and RECIPES[name].augment]
    if augmented:
        words += (f" (the {' and the '.join(augmented)} recipe{'s' if len(augmented) > 1 else ''} train"
                  f"{'' if len(augmented) > 1 else 's'} on shifted, rotated and zoomed digits, so "
                  f"{'they have' if len(augmented) > 1 else 'it has'} seen some of this)")
    return words + "."


def measured(runs: list[StoredRun], names: tuple, button_label: str, key: str) -> bool:
    """True when every run's robustness is stored or the user asks for it now."""
    if all(cache.robustness_is_stored(run, names) for run in runs):
        return True
    levels = len({(name, level) for name in names for level in PERTURBATIONS[name].levels[1:]}) + 1
    clicked = st.button(button_label, key=key)
    if not clicked:
        num_test = len(cache.dataset(runs[0].config.dataset).y_test)
        st.caption(f"Predicts {levels} perturbed copies of the {num_test:,} test digits with each model: seconds for "
                   f"a flat net, up to about {levels * num_test / 5000:.0f} s for a convolutional one on a 2-core CPU. "
                   f"The result is kept beside each run, so it opens at once next time.")
    return clicked


def measured_or_warned(root: str, run: StoredRun, dataset, names: tuple):
    """`cache.robustness` for `run`; or None after a warning saying why it could not be measured (the run deleted by
    another session meanwhile, the worker out of memory or crashed)."""
    from core.runs import OverBudget, WorkerCrashed

    try:
        return cache.robustness(root, run.run_id, dataset.name, names)
    except (ValueError, OverBudget, WorkerCrashed, OSError) as error:
        st.warning(f"Robustness could not be measured: {error}")
        return None


def robustness_section(runs: list[StoredRun], labels: list[str], dataset) -> None:
    st.subheader("Robustness: shifted, rotated, scaled and noisy digits")
    st.caption(f"{WHY} {recipe_words(runs)}")
    names = perturbation_choice("robustness_perturbations")
    if not names:
        st.info("Choose at least one perturbation.")
        return
    if not measured(runs, names, "Measure robustness", "measure_robustness"):
        return
    root = cache.current_store().location
    predictions = {}
    with st.spinner("Perturbing the test digits and predicting them…"):
        for label, run in zip(labels, runs):
            predictions[label] = measured_or_warned(root, run, dataset, names)
            if predictions[label] is None:
                return
    tables = {label: accuracy_table(found, dataset.y_test, names) for label, found in predictions.items()}
    st.markdown("  \n".join(sentence(tables, name, PERTURBATIONS[name].levels[3]) for name in names))
    frames = {name: pd.concat([table[table["perturbation"] == name].assign(label=label)
                               for label, table in tables.items()]) for name in names}
    charts(frames, "robustness")
    strip(predictions, dataset, names)


def charts(frames: dict, key: str) -> None:
    columns = st.columns(2)
    for position, (name, frame) in enumerate(frames.items()):
        perturbation = PERTURBATIONS[name]
        columns[position % 2].plotly_chart(plots.robustness_chart(frame, perturbation.unit, name.capitalize()),
                                           key=f"{key}_{name}")


def strip(predictions: dict, dataset, names: tuple) -> None:
    """One test digit at every level of one perturbation, with each model's answer under it."""
    st.markdown("**One test digit, level by level**")
    left, right = st.columns([3, 1])
    name = left.segmented_control("Perturbation", names, default=names[0], key="robustness_strip") or names[0]
    index = bounded_number(right, "Test digit", "robustness_digit", 0, len(dataset.y_test) - 1, 1, 0)
    levels = sorted(PERTURBATIONS[name].levels)
    class_names = dataset.class_names
    images, captions = [], []
    for level in levels:
        image = perturbed_one(dataset.x_test, index, name, level, seed=SEED)
        images.append(np.kron(image, np.ones((3, 3), dtype=np.uint8)))
        answers = " · ".join(f"{label} {class_names[found[f'{name}@{level:g}'][index]]}"
                             for label, found in predictions.items())
        captions.append(f"{level:g}: {answers}")
    st.image(images, caption=captions, width=110)
    st.caption(f"True class: {class_names[dataset.y_test[index]]}. Under each picture: the level "
               f"({PERTURBATIONS[name].unit}) and each model's answer.")


def study_robustness(report, dataset) -> None:
    """Robustness over seeds at one sample size: mean and 95% CI per network and level."""
    st.subheader("Robustness over seeds")
    st.caption(WHY)
    sizes = sorted(int(size) for size in report.cells["sample_size"].unique())
    default = min(sizes, key=lambda size: abs(size - 1000))
    size = st.selectbox("At sample size", sizes, index=sizes.index(default), key="study_robustness_size",
                        format_func=lambda value: f"{value:,}")
    names = perturbation_choice("study_robustness_perturbations")
    if not names:
        st.info("Choose at least one perturbation.")
        return
    cells = report.cells[report.cells["sample_size"] == size]
    runs, problems = cache.stored_runs(list(cells["run_id"]))
    for problem in problems:
        st.warning(problem)
    if not runs:
        return
    st.caption(recipe_words(runs))
    if not measured(runs, names, f"Measure robustness of these {len(runs)} runs", "study_measure_robustness"):
        return
    root = cache.current_store().location
    bar = st.progress(0.0, text="Measuring robustness…")
    per_network: dict[str, list] = {}
    for position, run in enumerate(runs, start=1):
        found = measured_or_warned(root, run, dataset, names)
        if found is None:
            bar.empty()
            return
        label = arm_label(run.config.architecture, run.config.pixels)
        per_network.setdefault(label, []).append(accuracy_table(found, dataset.y_test, names))
        bar.progress(position / len(runs), text=f"Measured {position} of {len(runs)} runs")
    bar.empty()
    summary = summarise_over_seeds(per_network).rename(columns={"network": "label", "mean_accuracy": "accuracy"})
    charts({name: summary[summary["perturbation"] == name] for name in names}, "study_robustness")
    st.caption("Lines: mean over seeds; bands: 95% confidence intervals (none with one seed).")

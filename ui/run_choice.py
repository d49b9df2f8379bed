"""Choosing stored runs on a page (Try it, Our digits): each run in words, never a hash, and the warnings for
chosen runs that are gone."""

from __future__ import annotations

import json

import streamlit as st

from core import pixels, settings
from core.runs import StoredRun
from ui import cache

# What tells two runs of one network apart, in the order a label adds them: (config field, words for a value)
DISTINCTIONS = tuple((setting.name, setting.words) for setting in (settings.SEED, settings.BATCH_SIZE,
                     settings.OPTIMIZER, settings.LEARNING_RATE, settings.PRECISION, settings.VALIDATION_SIZE))


def _config(row: dict) -> dict:
    return json.loads(row.get("config_json") or "{}") or row


def network_words(architecture: str) -> str:
    from core.architectures import PRESET_LABELS

    return PRESET_LABELS.get(architecture, architecture)


def choice_labels(rows: list[dict]) -> dict[str, str]:
    """run id -> the run in words: network, images, epochs, recipe, test accuracy; never a hash. Runs that
    would read the same get what differs between them (seed, batch, ...), and at last when they were trained."""
    from core.data import DATASETS
    from core.recipes import RECIPES

    def words(row: dict) -> str:
        config = _config(row)
        dataset = DATASETS.get(row["dataset"], {}).get("label", row["dataset"]).split(" (")[0]
        recipe = RECIPES[row["recipe"]].label.split(" (")[0] if row.get("recipe") in RECIPES else row.get("recipe")
        shuffled = " (shuffled pixels)" if config.get("pixels", pixels.DRAWN) != pixels.DRAWN else ""
        return (f"{network_words(row['architecture'])}{shuffled} · {row['sample_size']:,} {dataset} images · "
                f"{config.get('num_epochs', row['num_epochs'])} epochs · {recipe} · "
                f"{row['test_accuracy']:.1%} test accuracy")

    labels = {row["run_id"]: words(row) for row in rows}
    for label in set(labels.values()):
        same = [row for row in rows if labels[row["run_id"]] == label]
        if len(same) < 2:
            continue
        configs = [_config(row) for row in same]
        differing = [(name, text) for name, text in DISTINCTIONS if len({str(c.get(name)) for c in configs}) > 1]
        for row, config in zip(same, configs):
            extra = [text.format(config.get(name)) for name, text in differing] or [f"trained {row['trained_at']}"]
            labels[row["run_id"]] = f"{label} · " + " · ".join(extra)
    return labels


def pick_runs(rows: list[dict], label: str, key: str, default: list[str], help: str,
              empty: str) -> list[StoredRun] | None:
    """A multiselect of the stored runs `rows` (index rows), in words; the chosen runs that are still stored (a
    warning for each that is not). None, with a message, when there are no runs or none is chosen."""
    if not rows:
        st.info(empty)
        st.page_link("app_pages/compare.py", label="Go to Compare", icon=":material/compare_arrows:")
        return None
    labels = choice_labels(rows)
    chosen = st.multiselect(label, list(labels), default=[run_id for run_id in default if run_id in labels],
                            format_func=labels.get, key=key, help=help)
    runs, problems = cache.stored_runs(chosen)
    for problem in problems:
        st.warning(problem)
    if not runs:
        st.warning("Choose at least one network.")
        return None
    return runs

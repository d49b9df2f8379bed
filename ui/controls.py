"""The experiment's controls: a widget per declared setting (core/settings.py), the data source and the choices
kept across pages."""

from __future__ import annotations

import streamlit as st

from core import settings
from core.config import TrainConfig
from core.data import DataUnavailable, Dataset
from core.glossary import with_term
from core.recipes import RECIPES
from ui import cache

QUICK_SAMPLE_SIZES = [100, 300, 1000, 3000, 10000, settings.FULL]
DEFAULTS = TrainConfig()


# The choices a page's widgets hold. Streamlit forgets a widget's value when a run does not draw it (a visit
# to another page); re-saving these before every run makes them plain session values, kept until the page's
# widgets own them again (Streamlit's documented way to keep widget state across pages).
KEPT_CHOICES = tuple(key for form in settings.FORMS for key in form.keys)  # declared in core/settings.py

def keep_choices() -> None:
    """Call before every page run (app.py)."""
    for key in KEPT_CHOICES:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def default_value(setting: settings.Setting, owner=None):
    """The setting's default as people see it: the field's value on `owner` (default: TrainConfig(), else
    StudySpec() for the study's settings), in people's units (the margin in points)."""
    if setting is settings.ARCHITECTURES:
        return settings.declared_default(setting, TrainConfig)
    if owner is None and hasattr(DEFAULTS, setting.name):
        owner = DEFAULTS
    elif owner is None:  # only a study's settings: core.study imports pandas and scipy, which Compare's paint need not
        from core.study import StudySpec

        owner = StudySpec()
    value = getattr(owner, setting.name)
    if value is None and setting is settings.EPOCHS:
        value = RECIPES[owner.recipe].default_epochs
    return setting.from_field(value)


def dataset_select(key: str) -> str:
    return choice_select(settings.DATASET, key)

def choice_select(setting: settings.Setting, key: str, **options) -> str:
    """A selectbox for a declared choice (core/settings.py): its label, choices in words and help."""
    st.session_state.setdefault(key, default_value(setting))
    return st.selectbox(setting.widget_label, list(setting.choices), key=key,
                        format_func=lambda value: setting.choices[value] or value,
                        help=with_term(setting.help, setting.term) or None, **options)

def setting_input(column, setting: settings.Setting, key: str, default=None, high=None):
    """A number input for a declared setting: its label, bounds, step and help (core/settings.py); `high` for a
    bound only the page knows (the pool's size), `default` where the page's differs from the config's."""
    value = default_value(setting) if default is None else default
    number = float if setting.kind == "number" else int
    return bounded_number(column, setting.widget_label, key, number(setting.low), number(high or setting.high),
                          number(setting.step), value, help=with_term(setting.help, setting.term) or None)

def load_or_stop(name: str) -> Dataset:
    """The dataset, or a clear error and a stopped page when no source has it."""
    try:
        return cache.dataset(name)
    except DataUnavailable as error:
        st.error(str(error))
        st.stop()

def data_source_line(dataset: Dataset) -> None:
    st.caption(f"**Data:** {dataset.source} — {dataset.pool_size:,} training images available, "
               f"{len(dataset.y_test):,} test images.")

def bounded_number(column, label: str, key: str, low, high, step, default, help: str | None = None):
    """A number input bounded to what the config accepts, so the field never shows one value while another is used.

    A value kept from before that is now out of range (another data source's pool) is brought into range first,
    with a notice; the bounds are in the help text. Browsers keep an out-of-range typed value in the field,
    marked invalid, and send nothing: the value used is the last valid one, which `values_line` shows.
    """
    st.session_state.setdefault(key, default)
    value = st.session_state[key]
    if not low <= value <= high:
        st.session_state[key] = min(max(value, low), high)
        column.caption(f"{label}: {value:,} is outside {low:,} to {high:,}; using {st.session_state[key]:,}.")
    bounds = f"From {low:,} to {high:,}."
    return column.number_input(label, min_value=low, max_value=high, step=step, key=key,
                               help=f"{help} {bounds}" if help else bounds)

def sample_size_input(pool_size: int, key: str) -> int:
    """Quick picks (100 … full, only those the pool has) plus any number from 10 to the pool's size."""
    picks = [size for size in QUICK_SAMPLE_SIZES if size == settings.FULL or size < pool_size]
    if st.session_state.get(key) == settings.FULL:  # from a link: the whole pool
        st.session_state[key] = pool_size

    def apply_pick():
        pick = st.session_state[f"{key}_pick"]
        if pick is not None:
            st.session_state[key] = pool_size if pick == settings.FULL else pick

    st.segmented_control("Sample size quick picks", picks, key=f"{key}_pick", on_change=apply_pick,
                         format_func=lambda size: f"full ({pool_size:,})" if size == settings.FULL else f"{size:,}",
                         label_visibility="collapsed")
    return setting_input(st, settings.SAMPLE_SIZE, key, min(DEFAULTS.sample_size, pool_size), high=pool_size)

def training_controls() -> dict:
    """Epochs, batch size and seed; their state lives in session_state so callbacks may set it."""
    columns = st.columns(3)
    return {
        setting.name: setting_input(column, setting, settings.COMPARE_FORM.key(setting))
        for column, setting in zip(columns, (settings.EPOCHS, settings.BATCH_SIZE, settings.SEED))
    }

def values_line(placeholder, sample_size: int, settings: dict) -> None:
    """What Train will use, in words: a field marked invalid in the browser keeps its last valid value."""
    placeholder.caption(f"Trains on {sample_size:,} images · {settings['num_epochs']} epochs · "
                        f"batch {settings['batch_size']} · seed {settings['seed']}")

def recipe_select(key: str, epochs_key: str) -> str:
    """The training recipe; choosing one also sets the epochs to that recipe's default."""
    def apply_default_epochs():
        st.session_state[epochs_key] = RECIPES[st.session_state[key]].default_epochs

    return choice_select(settings.RECIPE, key, on_change=apply_default_epochs)

def precision_select(key: str) -> str:
    return choice_select(settings.PRECISION, key)

def pixels_select(key: str) -> str:
    """As drawn or shuffled (core/pixels.py declares the choices, labels and help)."""
    return choice_select(settings.PIXELS, key)

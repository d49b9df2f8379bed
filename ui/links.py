"""Shareable links: Compare and Study keep their choices in the page's address (`st.query_params`), so the
address copied into another browser, or opened after a restart, shows the same comparison or study from the
store. A link is read once, on a session's first run of its page, before the widgets are drawn; from then on
the widgets own the values and every run writes them back into the address. A value that cannot be used
falls back to the default with a notice; nothing trains until a button is pressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import streamlit as st

from core.config import MAX_BATCH_SIZE, MAX_EPOCHS, MAX_SEED, MAX_SEEDS
from core.data import DATASETS, MIN_SAMPLE_SIZE
from core.architectures import PRECISIONS
from core.pixels import PIXEL_ORDERS
from core.recipes import RECIPES
from core.safe_text import echo, literal
from ui import cache

MAX_LINK_ITEMS = 12  # values of a list in a link (sizes, networks, pairs): more are dropped, repeats first


def choice(options) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(f"{echo(text)} is not one of {', '.join(options)}")
        return text
    return parse


def whole(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.replace(",", "").replace("_", ""))
        except ValueError:
            raise ValueError(f"{echo(text)} is not a whole number") from None
        if value < low or (high is not None and value > high):
            raise ValueError(f"{value:,} is outside {low:,} to {high:,}" if high is not None
                             else f"{value:,} is below {low:,}")
        return value
    return parse


def number(low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{echo(text)} is not a number") from None
        if not low <= value <= high:  # nan and inf included
            raise ValueError(f"{echo(text)} is outside {low:g} to {high:g}")
        return value
    return parse


def parts(text: str) -> list[str]:
    """A list's parts, each once, at most MAX_LINK_ITEMS of them (ValueError beyond: nothing is drawn for it)."""
    unique = list(dict.fromkeys(part for part in text.split(",") if part))
    if len(unique) > MAX_LINK_ITEMS:
        raise ValueError(f"it lists {len(unique):,} different values; a link may list at most {MAX_LINK_ITEMS}")
    return unique


def items(parse_one: Callable[[str], object]) -> Callable[[str], list]:
    def parse(text: str) -> list:
        values = list(dict.fromkeys(parse_one(part) for part in parts(text)))
        if not values:
            raise ValueError("it is empty")
        return values
    return parse


def network_names(text: str) -> list[str]:
    """Networks by name: presets and the ones saved in this server's store; any other name is an error."""
    networks = cache.networks()
    names = parts(text)
    unknown = [name for name in names if name not in networks]
    if unknown or not names:
        raise ValueError(f"{', '.join(map(echo, unknown[:3])) or 'no network'} is not a network this app knows "
                         f"(saved networks live in the store of the server they were made on)")
    return names


def pair(text: str) -> tuple:
    first, colon, second = text.partition(":")
    if not colon or not first or not second:
        raise ValueError(f"{echo(text)} is not FIRST:SECOND")
    return first, second


def join(values) -> str:
    return ",".join(":".join(value) if isinstance(value, tuple) else f"{value}" for value in values)


@dataclass(frozen=True)
class Field:
    param: str                       # its name in the address
    key: str                         # the widget's session_state key
    label: str                       # its name on the page, for notices
    parse: Callable[[str], object]   # ValueError with a reason for a value that cannot be used
    write: Callable[[object], str] = str


COMPARE = (
    Field("dataset", "dataset", "Dataset", choice(list(DATASETS))),
    Field("recipe", "recipe", "Recipe", choice(list(RECIPES))),
    Field("size", "sample_size", "Training images", whole(MIN_SAMPLE_SIZE)),  # the pool's bound: bounded_number
    Field("epochs", "epochs", "Epochs", whole(1, MAX_EPOCHS)),
    Field("batch", "batch_size", "Batch size", whole(1, MAX_BATCH_SIZE)),
    Field("seed", "seed", "Seed", whole(0, MAX_SEED)),
    Field("arithmetic", "precision", "Arithmetic", choice(list(PRECISIONS))),
    Field("pixels", "pixels", "Pixels", choice(list(PIXEL_ORDERS))),
    Field("networks", "architectures", "Architectures", network_names, join),
)
STUDY = (
    Field("dataset", "study_dataset", "Dataset", choice(list(DATASETS))),
    Field("sizes", "study_sizes", "Sample sizes", items(whole(MIN_SAMPLE_SIZE)), join),
    Field("seeds", "study_seeds", "Seeds", whole(1, MAX_SEEDS)),
    Field("recipe", "study_recipe", "Recipe", choice(list(RECIPES))),
    Field("epochs", "study_epochs", "Epochs", whole(1, MAX_EPOCHS)),
    Field("batch", "study_batch_size", "Batch size", whole(1, MAX_BATCH_SIZE)),
    Field("margin", "study_margin", "H2 margin", number(0.1, 50.0), lambda value: f"{value:g}"),
    Field("arithmetic", "study_precision", "Arithmetic", choice(list(PRECISIONS))),
    Field("pixels", "study_pixels", "Pixels", items(choice(list(PIXEL_ORDERS))), join),
    Field("networks", "study_architectures", "Architectures", network_names, join),
    Field("pairs", "study_pairs", "Differences to test", items(pair), join),
)


def open_link(page: str, fields: tuple[Field, ...]) -> bool:
    """On the session's first run of `page`: the address's values become the page's choices (before its widgets
    are drawn), with a notice for each value that cannot be used. True when the address had values for it."""
    opened = f"_link_opened_{page}"
    if st.session_state.get(opened):
        return False
    st.session_state[opened] = True
    given = {field: st.query_params.get(field.param) for field in fields}
    given = {field: text for field, text in given.items() if text is not None}
    notices = []
    for field, text in given.items():
        try:
            st.session_state[field.key] = field.parse(text)
        except ValueError as error:
            notices.append(f"**{field.label}**: {literal(error, 300)}; using the default.")
    if given:  # the settings came from a link: nothing is prepared for them until the user changes one
        st.session_state[FROM_LINK] = True
    if notices:
        st.warning("This link has values that cannot be used here:  \n" + "  \n".join(notices))
    return bool(given)


FROM_LINK = "_settings_from_link"  # True after a link set values; then what the page first asked with them


def untouched_link_settings(request) -> bool:
    """True while the page's settings are all as a link set them: `request` (e.g. the configs Train would
    start) is what the page asked for on the link's first run. Once it differs, the user has chosen: False
    from then on."""
    from_link = st.session_state.get(FROM_LINK)
    if from_link is None:
        return False
    if from_link is True:
        st.session_state[FROM_LINK] = request
        return True
    if from_link == request:
        return True
    del st.session_state[FROM_LINK]
    return False


def mirror(fields: tuple[Field, ...]) -> None:
    """Call after the page's widgets: the address shows the choices in use, so it can be copied and shared."""
    wanted = {field.param: field.write(st.session_state[field.key]) for field in fields if field.key in st.session_state}
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)

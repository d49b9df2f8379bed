"""Shareable links: Compare and Study keep their choices in the page's address (`st.query_params`), so the
address copied into another browser, or opened after a restart, shows the same comparison or study from the
store. A link is read once, on a session's first run of its page, before the widgets are drawn; from then on
the widgets own the values and every run writes them back into the address. A value that cannot be used
falls back to the default with a notice; nothing trains until a button is pressed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from collections.abc import Callable

import streamlit as st

from core import settings
from core.safe_text import echo, literal
from core.settings import Form, Setting, SettingError
from ui import cache
from ui.controls import default_value

MAX_LINK_ITEMS = 12  # values of a list in a link (sizes, networks, pairs): more are refused


@dataclass(frozen=True)
class Field:
    """A setting as a page's address holds it (core/settings.py declares its parameter, label and parser)."""
    setting: Setting
    key: str  # the widget's session_state key

    @property
    def param(self) -> str:
        return self.setting.param

    @property
    def label(self) -> str:
        return self.setting.label

    def parse(self, text: str, notices: list[str]):
        """The value for the widget; SettingError for a value that cannot be used; a repeated item of a list is
        kept once, with a notice."""
        if not self.setting.many:
            return self.setting.parse(text)
        given = [part for part in text.split(",") if part.strip()]
        unique = list(dict.fromkeys(given))
        if len(unique) > MAX_LINK_ITEMS:
            raise SettingError(self.label, f"lists {len(unique):,} different values; a link may list at most "
                                           f"{MAX_LINK_ITEMS}")
        values = list(dict.fromkeys(self.setting.parse(part) for part in unique))
        if not values:
            self.setting.fail("is empty")
        repeated = [part for part, count in Counter(given).items() if count > 1]
        if repeated or len(values) < len(unique):
            shown = literal(", ".join(map(echo, (repeated or unique)[:3])))
            notices.append(f"**{literal(self.label)}**: {shown} {'was' if len(repeated) == 1 else 'were'} given more "
                           f"than once; each is used once.")
        if self.setting is settings.ARCHITECTURES:
            known_networks(values)
        return values

    def write(self, value) -> str:
        return self.setting.write(value)


def known_networks(names: list[str]) -> None:
    """Presets and the networks saved in this server's store; any other name is an error."""
    networks = cache.networks()
    unknown = [name for name in names if name not in networks]
    if unknown:
        raise SettingError(settings.ARCHITECTURES.label, f"{', '.join(map(echo, unknown[:3]))} is not a network "
                           f"this app knows (saved networks live in the store of the server they were made on)")


@dataclass(frozen=True)
class Link:
    """A page's settings in its address; `adjust` (session_state, notices) runs after they are read."""
    fields: tuple
    adjust: Callable | None = None


def fields(form: Form) -> tuple:
    return tuple(Field(setting, form.key(setting)) for setting in form.shown if setting.param)


def join_pairs_arms(state, notices: list[str]) -> None:
    """A study link's pairs bring their networks and pixel orders into the study, as the CLI's --pairs does; a
    pair naming a network this app does not know is left out with a notice."""
    from core.architectures import DEFAULT_ARCHITECTURES
    from core.study import pair_arms

    key = settings.STUDY_FORM.key
    pairs = state.get(key(settings.PAIRS))
    if not pairs:
        return
    networks = cache.networks()
    usable = [pair for pair in pairs if all(name in networks for name in pair_arms([pair])[0])]
    if len(usable) < len(pairs):
        left_out = [f"{first}:{second}" for first, second in pairs if (first, second) not in usable]
        notices.append(f"**{literal(settings.PAIRS.label)}**: {literal(', '.join(map(echo, left_out[:3])))} "
                       f"name{'s' if len(left_out) == 1 else ''} a network this app does not know; left out"
                       + ("." if usable else "; using the suggested pairs."))
    if not usable:  # the study's suggested pairs instead
        del state[key(settings.PAIRS)]
        return
    state[key(settings.PAIRS)] = usable
    names, orders = pair_arms(usable)
    chosen = list(state.get(key(settings.ARCHITECTURES), DEFAULT_ARCHITECTURES))
    joining = [name for name in names if name not in chosen]
    if joining:
        notices.append(f"**{literal(settings.PAIRS.label)}**: {literal(', '.join(joining))} "
                       f"join{'s' if len(joining) == 1 else ''} the study's {settings.ARCHITECTURES.label.lower()}, "
                       f"as the pairs compare {'it' if len(joining) == 1 else 'them'}.")
    state[key(settings.ARCHITECTURES)] = [*chosen, *joining]
    shown = list(state.get(key(settings.STUDY_PIXELS), [default_value(settings.PIXELS)]))
    state[key(settings.STUDY_PIXELS)] = list(dict.fromkeys([*shown, *orders]))


COMPARE = Link(fields(settings.COMPARE_FORM))
STUDY = Link(fields(settings.STUDY_FORM), adjust=join_pairs_arms)


def open_link(page: str, link: Link) -> bool:
    """On the session's first run of `page`: the address's values become the page's choices (before its widgets
    are drawn), with a notice for each value that cannot be used (or is used otherwise than written). True when
    the address had values for it."""
    opened = f"_link_opened_{page}"
    if st.session_state.get(opened):
        return False
    st.session_state[opened] = True
    given = [(field, st.query_params.get(field.param)) for field in link.fields]
    given = [(field, text) for field, text in given if text is not None]
    notices = []
    for field, text in given:
        try:
            st.session_state[field.key] = field.parse(text, notices)
        except SettingError as error:
            notices.append(f"**{literal(field.label)}**: {literal(error.reason, 300)}; using the default.")
    if given and link.adjust is not None:
        link.adjust(st.session_state, notices)
    if given:  # the settings came from a link: nothing is prepared for them until the user changes one
        st.session_state[FROM_LINK] = True
    if notices:
        st.warning("This link has values that cannot be used here as written:  \n" + "  \n".join(notices))
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


RUNS_PARAM = "runs"  # Compare's address for a set of stored runs (the Runs page's "Open in Compare"): runs=ID,ID


def runs_in_address() -> tuple[str, ...] | None:
    """The run ids a Compare address names (`runs=ID,ID`), None when it names none; a value that is not a list of
    run ids is a notice and None."""
    text = st.query_params.get(RUNS_PARAM)
    if text is None:
        return None
    ids = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    bad = [run_id for run_id in ids if not (run_id.isalnum() and len(run_id) == 16)]
    if bad or not ids or len(ids) > MAX_LINK_ITEMS:
        why = (f"{literal(echo(bad[0]))} is not a run id" if bad else "it names no run" if not ids
               else f"it names {len(ids):,} runs; a link may name at most {MAX_LINK_ITEMS}")
        st.warning(f"This link's **runs** cannot be opened: {why}. The page shows its settings' runs instead.")
        return None
    return ids


def mirror(link: Link, runs: tuple[str, ...] | None = None) -> None:
    """Call after the page's widgets: the address shows the choices in use, so it can be copied and shared — or,
    while the page shows a set of stored runs opened by their ids (`runs`), exactly those runs."""
    if runs:
        wanted = {RUNS_PARAM: ",".join(runs)}
    else:
        wanted = {field.param: field.write(st.session_state[field.key]) for field in link.fields
                  if field.key in st.session_state}
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)

"""The Our-digits page's pieces: the class code from the address, drawing and filing a digit, the set's counts and
grid, a session's undo and the teacher's controls. The verdict is in ui/class_verdict_view.py."""

from __future__ import annotations

import hmac
import os
import time

import numpy as np
import streamlit as st

from core.class_digits import ClassSet, DigitStore, Refused, check_class_code, digit_store
from core.class_digits.limits import DEFAULT_CODE, MAX_SET_SIZE, NUM_LABELS, check_session, prepare_drawing
from core.class_digits.mosaic import by_label
from core.runs import StoreError
from core.safe_text import echo
from ui import cache, drawing

ADDED = "class_added"      # session: [(code, digit id, time.monotonic())] of the digits this session added
TARGET = "class_target"    # session: the label the page asks for
CANVAS = "class_canvas"    # session: a counter in the canvas's key (a new key is a clean canvas)
FLASH = "class_flash"      # session: (kind, message, pixels or None) said once after a rerun
PASSWORD_SETTING = "CLASS_ADMIN_PASSWORD"
PER_LABEL_SHOWN = 24       # digits per label in the set's grid
TEACHER_SHOWN = 60         # newest digits the teacher's grid shows


def class_code() -> str:
    """The set named by ?class= (DEFAULT_CODE without one), kept in the address as it is stored; a code that
    cannot be used is a message and a stopped page."""
    given = st.query_params.get("class")
    try:
        code = check_class_code(given)
    except ValueError as error:
        st.error(f"The class code {echo(given)} cannot be used. {error} Ask your teacher for the class's link.",
                 icon=":material/link_off:")
        st.stop()
    if given is not None and given != code:
        st.query_params["class"] = code
    return code


def share_line(code: str) -> None:
    if code == DEFAULT_CODE:
        st.caption(f"These digits go to the open set ({DEFAULT_CODE}). A teacher gives the class its own set with a "
                   f"code at the end of this page's address: `?class=7B` (letters, digits and dashes).")
    else:
        address = str(st.context.url or "").split("?")[0]
        st.caption(f"Class **{code}**: everyone who opens `{address}?class={code}` draws into this set.")


@st.cache_resource(max_entries=4, show_spinner=False)
def _digit_store(location: str) -> DigitStore:
    return digit_store(cache.store(location))


def digits_store() -> DigitStore:
    """The class sets that go with the app's run store (its folder or its database), or a message and a stop."""
    try:
        return _digit_store(cache.store_location())
    except (StoreError, ValueError) as error:
        st.error(str(error), icon=":material/cloud_off:")
        st.stop()


@st.cache_data(max_entries=8, show_spinner=False)
def _class_set(location: str, code: str, version: str) -> ClassSet:
    """The set as read when its version was `version` (another version's readers get their own entry); at most
    8 kept (a full set is 4 MB)."""
    return _digit_store(location).read(code)


def current_set(code: str, digits: DigitStore) -> ClassSet:
    """The set as it is now: its version asked for (cheap), its digits read once per version."""
    try:
        return _class_set(cache.store_location(), code, digits.version(code))
    except (StoreError, OSError) as error:
        st.error(f"The class set could not be read: {error}", icon=":material/cloud_off:")
        st.stop()


def _state(key: str, default):
    return st.session_state.setdefault(key, default)


def draw_and_add(code: str, digits: DigitStore) -> None:
    """Ask for one label ("Draw a 7"), cycling 0-9 from the label the set has fewest of; Save files the drawing,
    prepared as Try it prepares it; Skip asks for the next label; Redo clears the canvas."""
    flash = st.session_state.pop(FLASH, None)
    if flash is not None:
        kind, message, pixels = flash
        (st.success if kind == "success" else st.warning)(message)
        if pixels is not None:
            st.image(pixels, caption="As stored (28×28)", width=84)
    if TARGET not in st.session_state:
        counts = digits.counts(code)
        st.session_state[TARGET] = int(np.argmin(counts))
    target = st.session_state[TARGET]
    st.subheader(f"Draw a {target}")
    st.caption("One digit, large, in the middle of the square; then Save.")
    canvas = drawing.canvas_pixels(key=f"class_canvas_{_state(CANVAS, 0)}")
    save, skip, redo = st.columns(3)
    if save.button(f"Save as a {target}", key="class_save", type="primary", icon=":material/save:"):
        _save(code, digits, target, canvas)
    if skip.button("Skip", key="class_skip", icon=":material/skip_next:",
                   help="Ask for the next digit instead (this drawing is not saved)."):
        _next(target + 1)
    if redo.button("Redo", key="class_redo", icon=":material/ink_eraser:", help="Clear the square and draw again."):
        st.session_state[CANVAS] += 1
        st.rerun()


def _next(label: int) -> None:
    st.session_state[TARGET] = label % NUM_LABELS
    st.session_state[CANVAS] += 1
    st.rerun()


def _save(code: str, digits: DigitStore, target: int, canvas) -> None:
    """Check, prepare and store the drawing; say what happened (refusals with their reason: nothing stored)."""
    added = _state(ADDED, [])
    try:
        if canvas is None:
            raise Refused("The canvas is blank: draw the digit first.")
        pixels = prepare_drawing(canvas)
        check_session([moment for _, _, moment in added], time.monotonic())
        digit_id = digits.add(code, target, pixels)
    except Refused as refusal:
        st.warning(str(refusal), icon=":material/block:")
        return
    except (StoreError, OSError) as error:
        st.error(f"Your digit could not be stored: {error}", icon=":material/cloud_off:")
        return
    added.append((code, digit_id, time.monotonic()))
    st.session_state[FLASH] = ("success", f"Saved your {target} (digit #{digit_id}). Now draw a "
                                          f"{(target + 1) % NUM_LABELS}.", pixels)
    _next(target + 1)


def show_set(code: str, class_set: ClassSet) -> None:
    """How many digits the set has per label, and the newest of each label as a grid."""
    counts = class_set.counts
    st.subheader(f"The class set: {len(class_set):,} digits")
    st.markdown("**Per digit:** " + " · ".join(f"{label}: {count}" for label, count in enumerate(counts)))
    if len(class_set) >= MAX_SET_SIZE:
        st.warning(f"The set is full ({MAX_SET_SIZE:,} digits): no more can be added.")
    if len(class_set):
        st.image(by_label(class_set.images, class_set.labels, PER_LABEL_SHOWN),
                 caption=f"A row per digit, 0 at the top: the newest {PER_LABEL_SHOWN} of each, as the networks see "
                         f"them (28×28, white ink on black).")


def own_digits(code: str, digits: DigitStore) -> None:
    """A session can take back the digits it added to this set, newest first."""
    mine = [entry for entry in _state(ADDED, []) if entry[0] == code]
    if not mine:
        return
    if st.button(f"Remove my last digit (#{mine[-1][1]})", key="class_undo", icon=":material/undo:",
                 help=f"You added {len(mine)} digit(s) to this set in this session."):
        try:
            digits.delete(code, [mine[-1][1]])
        except (StoreError, OSError) as error:
            st.error(f"The digit could not be removed: {error}")
            return
        st.session_state[ADDED].remove(mine[-1])
        st.session_state[FLASH] = ("warning", f"Removed your digit #{mine[-1][1]}.", None)
        st.rerun()


def admin_password() -> str | None:
    """CLASS_ADMIN_PASSWORD from the environment, else from the app's secrets; None when neither sets one."""
    value = os.environ.get(PASSWORD_SETTING, "").strip()
    if value:
        return value
    try:
        if st.secrets.load_if_toml_exists():
            found = st.secrets.to_dict().get(PASSWORD_SETTING)
            if isinstance(found, str) and found.strip():
                return found.strip()
    except (AttributeError, TypeError, OSError):
        pass
    return None


def teacher(code: str, digits: DigitStore, class_set: ClassSet) -> None:
    """With the admin password: remove chosen digits or clear the set. Without one set: nobody can."""
    with st.expander("For the teacher", icon=":material/admin_panel_settings:"):
        expected = admin_password()
        if expected is None:
            st.caption(f"No {PASSWORD_SETTING} is set for this app, so nobody can remove other people's digits "
                       f"(each session can remove its own).")
            return
        given = st.text_input("Teacher's password", type="password", key="class_admin_password")
        if not given:
            return
        if not hmac.compare_digest(given.encode(), expected.encode()):
            st.error("That is not the teacher's password.")
            return
        newest = list(range(len(class_set) - 1, max(-1, len(class_set) - 1 - TEACHER_SHOWN), -1))
        if newest:
            st.image([class_set.images[index] for index in newest], width=42,
                     caption=[f"#{class_set.ids[index]}: {class_set.labels[index]}" for index in newest])
        labels = {int(class_set.ids[index]): f"#{class_set.ids[index]} · a {class_set.labels[index]} · added "
                  f"{class_set.added_at[index]}" for index in range(len(class_set) - 1, -1, -1)}
        chosen = st.multiselect("Digits to remove", list(labels), format_func=labels.get, key="class_remove_ids")
        if st.button("Remove the chosen digits", key="class_remove", disabled=not chosen):
            _change(lambda: digits.delete(code, chosen), "Removed {} digit(s).")
        sure = st.checkbox(f"Yes, remove all {len(class_set):,} digits of class {code}", key="class_clear_sure")
        if st.button("Clear this set", key="class_clear", disabled=not sure or not len(class_set)):
            _change(lambda: digits.clear(code), "Removed all {} digits of the set.")


def _change(action, said: str) -> None:
    try:
        count = action()
    except (StoreError, OSError) as error:
        st.error(f"The set could not be changed: {error}")
        return
    st.session_state[FLASH] = ("warning", said.format(count), None)
    for key in ("class_remove_ids", "class_clear_sure"):
        st.session_state.pop(key, None)
    st.rerun()

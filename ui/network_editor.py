"""Design your own network: layers added, removed and reordered with widgets, a live layer table and
parameter count (worked out without TensorFlow), and a name to save it under.

The draft lives in session_state under DRAFT (not a widget's key), so it survives reruns and page
switches; each layer has a stable uid, and its widgets are keyed by it, so reordering keeps values.
"""

from __future__ import annotations

import streamlit as st

from core.architectures import INPUTS, MAX_DESCRIPTION, PRESETS, ArchitectureSpec, check_own_name, layer_rows
from core.layers import LAYER_KINDS, Flatten, layer_to_dict
from ui import cache
from core.safe_text import literal
from ui.network_choice import remember_shown, shown_networks
from ui.state import JUST_SAVED, SHOWN_NETWORKS

DRAFT = "network_draft"
OPEN = "net_open"
FIRST_DRAFT = "conv-small"  # small, with convolutions, pooling, dropout, flatten and dense layers
SAVED_MESSAGE = "_network_saved_message"


def _draft_from(spec: ArchitectureSpec, next_uid: int = 0) -> dict:
    layers = [{"uid": next_uid + position, **layer_to_dict(layer)} for position, layer in enumerate(spec.layers)]
    name = "" if spec.name in PRESETS else spec.name
    return {"input": spec.input, "layers": layers, "next_uid": next_uid + len(layers), "name": name,
            "description": "" if spec.name in PRESETS else spec.description}


def _draft() -> dict:
    if DRAFT not in st.session_state:
        st.session_state[DRAFT] = _draft_from(PRESETS[FIRST_DRAFT])
    return st.session_state[DRAFT]


# --- callbacks (run before the script, so they may change the draft freely) -------------------------

def _start_from(networks: dict) -> None:
    chosen = networks[st.session_state["net_start"]]
    if chosen.name not in PRESETS:  # loading a saved network adopts its current version in this session
        chosen = cache.networks().get(chosen.name, chosen)
        remember_shown(chosen)
    old = _draft()
    st.session_state[DRAFT] = _draft_from(chosen, next_uid=old["next_uid"])
    st.session_state["net_input"] = chosen.input
    st.session_state["net_name"] = st.session_state[DRAFT]["name"]
    st.session_state["net_description"] = st.session_state[DRAFT]["description"]


def _add_layer() -> None:
    """A layer that works on rows and columns (a convolution, a pooling) goes before the first Flatten, where
    it has an image to work on; any other layer at the end. The arrows move it from there."""
    draft = _draft()
    layer_type = LAYER_KINDS[st.session_state["net_add_kind"]]
    layers = draft["layers"]
    position = len(layers)
    if layer_type.spatial:
        position = next((index for index, layer in enumerate(layers) if layer["type"] == Flatten.kind), position)
    layers.insert(position, {"uid": draft["next_uid"], **layer_to_dict(layer_type())})
    draft["next_uid"] += 1


def _move(uid: int, step: int) -> None:
    layers = _draft()["layers"]
    index = next(i for i, layer in enumerate(layers) if layer["uid"] == uid)
    target = index + step
    if 0 <= target < len(layers):
        layers[index], layers[target] = layers[target], layers[index]


def _remove(uid: int) -> None:
    draft = _draft()
    draft["layers"] = [layer for layer in draft["layers"] if layer["uid"] != uid]


# --- the editor ---------------------------------------------------------------------------------

def network_editor() -> None:
    """The editor, behind a toggle (closed, it costs a first visit nothing); a saved network joins the
    architecture choices at once."""
    st.session_state.setdefault(OPEN, False)
    st.session_state[OPEN] = st.session_state[OPEN]  # keeps it open across page switches
    if not st.toggle("Design your own network", key=OPEN,
                     help="Change layers and widths, see the parameter count and shapes, save it under a name."):
        return
    networks = shown_networks()
    draft = _draft()
    with st.container(border=True):
        st.caption("Start from any network, change its layers, check the parameter count and the shapes, then "
                   "save it under a name: it joins the architecture choices (here, in Study, on the Runs page and "
                   "in the CLI). The output layer, Dense 10 softmax, is always added.")
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        st.session_state.setdefault("net_start", FIRST_DRAFT)
        left.selectbox("Start from", list(networks), key="net_start",
                       format_func=lambda name: f"{networks[name].label} · {networks[name].num_params:,} parameters")
        right.button("Load", key="net_load", on_click=_start_from, args=(networks,), width="stretch")

        st.session_state.setdefault("net_input", draft["input"])
        draft["input"] = st.radio("Read the digit as", list(INPUTS), key="net_input", horizontal=True,
                                  format_func=INPUTS.get)
        for position, layer in enumerate(draft["layers"], start=1):
            _layer_row(position, layer, len(draft["layers"]))

        add_kind, add = st.columns([3, 1], vertical_alignment="bottom")
        add_kind.selectbox("Add a layer", list(LAYER_KINDS), key="net_add_kind",
                           format_func=lambda kind: LAYER_KINDS[kind].label)
        add.button("Add", key="net_add", on_click=_add_layer, width="stretch")

        name_column, description_column = st.columns([1, 2])
        st.session_state.setdefault("net_name", draft["name"])
        st.session_state.setdefault("net_description", draft["description"])
        draft["name"] = name_column.text_input("Name", key="net_name", placeholder="my-net", max_chars=40)
        draft["description"] = description_column.text_input("What it tests (optional)", key="net_description",
                                                         max_chars=MAX_DESCRIPTION)
        spec = _preview(draft)
        if SAVED_MESSAGE in st.session_state:
            st.success(st.session_state.pop(SAVED_MESSAGE))
        if st.button("Save network", key="net_save", type="primary", disabled=spec is None):
            _save(cache.current_store(), spec)


def _layer_row(position: int, layer: dict, count: int) -> None:
    """One layer: its type, its settings (as its layer class declares them) and buttons to move it up or down
    or remove it."""
    uid = layer["uid"]
    layer_type = LAYER_KINDS[layer["type"]]
    columns = st.columns([2, 2, 2, 2, 1, 1, 1], vertical_alignment="bottom")
    columns[0].markdown(f"**{position}. {layer_type.label}**")
    for column, (name, setting) in zip(columns[1:4], layer_type.settings().items()):
        key = f"net_{uid}_{name}"
        if setting.choices:
            layer[name] = column.selectbox(setting.label, setting.choices, index=setting.choices.index(layer[name]),
                                           help=setting.help, key=key)
        else:
            # No min/max on the field: a browser keeps an out-of-range value red and sends nothing, so the old
            # value stayed in silence. The value typed is used, and the preview says why it cannot be built.
            number = float if setting.fraction else int  # a widget's numbers must all have one type
            bounds = f"From {number(setting.low):g} to {number(setting.editor_high):g}."
            layer[name] = column.number_input(setting.label, value=layer[name], step=number(setting.step), key=key,
                                              help=f"{setting.help} {bounds}" if setting.help else bounds)
    columns[4].button("↑", key=f"net_{uid}_up", on_click=_move, args=(uid, -1), disabled=position == 1,
                      help="Move up")
    columns[5].button("↓", key=f"net_{uid}_down", on_click=_move, args=(uid, 1), disabled=position == count,
                      help="Move down")
    columns[6].button("✕", key=f"net_{uid}_remove", on_click=_remove, args=(uid,), help="Remove")


def _preview(draft: dict) -> ArchitectureSpec | None:
    """The live layer table and parameter count; the spec, or None with one message saying why not."""
    layers = [{key: value for key, value in layer.items() if key != "uid"} for layer in draft["layers"]]
    try:
        layout = ArchitectureSpec("preview", draft["input"], tuple(layers))
    except ValueError as error:
        st.error(f"This network cannot be built: {literal(error)}")
        return None
    st.markdown(f"**{layout.num_params:,} parameters** — {layout.layer_summary()}")
    st.markdown(layer_table_markdown(layout))
    name = draft["name"].strip()
    if not name:
        st.caption("Give it a name to save it.")
        return None
    try:
        return layout.renamed(check_own_name(name), draft["description"].strip())
    except ValueError as error:
        st.error(literal(error))
        return None


def layer_table_markdown(spec: ArchitectureSpec) -> str:
    """The layer table as Markdown: light enough for every rerun (a dataframe would load pandas)."""
    lines = ["| layer | type | output shape | parameters |", "|---|---|---|--:|"]
    lines += [f"| {row['layer']} | {row['type']} | {row['output_shape']} | {row['params']:,} |"
              for row in layer_rows(spec)]
    return "\n".join(lines)


def _save(store, spec: ArchitectureSpec) -> None:
    """Save, unless it would replace a version of the network this session has not seen (another session's)."""
    from core.runs.networks import NetworkChanged

    seen = st.session_state.get(SHOWN_NETWORKS, {}).get(spec.name)
    replaced = seen is not None
    try:
        store.save_network(spec, expected=seen.hash if seen else None)
    except NetworkChanged as error:
        st.error(f"Not saved: {literal(error)} Save yours under another name, or load {spec.name} to see that "
                 f"version first.")
        return
    except OSError as error:
        st.error(f"Not saved: the store could not be written ({literal(error.strerror or error)}).")
        return
    remember_shown(spec)
    st.session_state[JUST_SAVED] = spec.name
    st.session_state[SAVED_MESSAGE] = (f"{'Replaced' if replaced else 'Saved'} {spec.name} ({spec.num_params:,} "
                                       f"parameters): it is now among the architectures, and chosen.")
    st.rerun()

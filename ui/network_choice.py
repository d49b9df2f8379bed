"""Choosing the networks to train: presets and the user's saved networks, as this session shows them."""

from __future__ import annotations

import streamlit as st

from core.architectures import DEFAULT_ARCHITECTURES, PRESETS, ArchitectureSpec
from core.safe_text import literal
from ui import cache
from ui.state import JUST_SAVED, SHOWN_NETWORKS


def shown_networks() -> dict[str, ArchitectureSpec]:
    """Every network, as this session shows it: a saved network changed by another session since this one first
    showed it keeps the version shown here (what is on screen is what trains); `remember_shown` adopts another."""
    networks = dict(cache.networks())
    shown = st.session_state.setdefault(SHOWN_NETWORKS, {})
    for name, spec in list(networks.items()):
        if name in PRESETS:
            continue
        if name not in shown:
            shown[name] = spec
        elif shown[name].hash != spec.hash:
            networks[name] = shown[name]
    return networks

def remember_shown(spec: ArchitectureSpec) -> None:
    """This session now shows `spec` under its name (saved or loaded by it)."""
    st.session_state.setdefault(SHOWN_NETWORKS, {})[spec.name] = spec

def architecture_select(key: str, label: str = "Architectures") -> list[ArchitectureSpec]:
    """The networks to train: presets and the user's saved ones, each shown with its parameter count."""
    networks = shown_networks()
    stored = cache.networks()
    changed = [name for name, spec in networks.items() if name in stored and stored[name].hash != spec.hash]
    chosen = list(st.session_state.get(key, DEFAULT_ARCHITECTURES))
    chosen = [name for name in chosen if name in networks]  # a saved network may have been deleted
    just_saved = st.session_state.pop(JUST_SAVED, None)
    if just_saved in networks and just_saved not in chosen:
        chosen.append(just_saved)
    st.session_state[key] = chosen
    names = st.multiselect(label, list(networks), key=key,
                           format_func=lambda name: f"{name} · {networks[name].num_params:,}",
                           help="Presets, then your own networks ('Design your own network', under the title). "
                                "The number is the network's parameter count.")
    described = [networks[name] for name in names if networks[name].description]
    if described:  # descriptions are a user's text: shown as text, never as Markdown
        st.caption("  \n".join(f"**{spec.name}** — {literal(spec.description)}" for spec in described))
    for name in changed:
        if name in names:
            st.caption(f"{name} was changed in another session: this page trains the version it shows "
                       f"({networks[name].num_params:,} parameters). Load it in the editor to use the new one.")
    problems = cache.network_problems()
    if problems:
        st.caption(f"{len(problems)} saved network file{'s' if len(problems) > 1 else ''} could not be read and "
                   f"{'are' if len(problems) > 1 else 'is'} left out: " + ", ".join(literal(name, 60)
                                                                                  for name in list(problems)[:5]))
    return [networks[name] for name in names]

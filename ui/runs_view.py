"""The Runs page's table: every stored run, in plain columns that sort."""

from __future__ import annotations

import json
from collections import Counter

import pandas as pd
import streamlit as st

PEAK_MEMORY_HELP = ("The process's peak resident memory while the run trained and predicted the test set, "
                    "TensorFlow itself included (~1 GB on its own); in a server it also counts other sessions' work "
                    "at the same time. Empty for runs stored before it was recorded and where it cannot be read "
                    "(only Linux reports it).")
COLUMNS = {"run_id": "run", "dataset": "dataset", "architecture": "architecture", "num_params": "params",
           "sample_size": "images",
           "num_epochs": "epochs", "batch_size": "batch", "seed": "seed", "recipe": "recipe",
           "precision": "precision", "optimizer": "optimizer",
           "learning_rate": "learning rate", "test_accuracy": "test accuracy", "test_loss": "test loss",
           "train_seconds": "train s",
           "peak_memory_mb": "peak memory MB", "trained_at": "trained at", "size_bytes": "size (bytes)"}


def runs_table(rows: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=list(COLUMNS)).rename(columns=COLUMNS)
    table.insert(3, "pixels", [_pixels(row) for row in rows])
    table["trained at"] = pd.to_datetime(table["trained at"], errors="coerce", utc=True)
    return table


def run_choice_label(row: dict) -> str:
    """Architecture, data, size, epochs, seed, accuracy; recipe and precision only when not the defaults."""
    extras = [value for value in (row.get("recipe"), row.get("precision")) if value not in (None, "student", "float32")]
    if _pixels(row) != "drawn":
        extras.append(f"{_pixels(row)} pixels")
    return (f"{row['architecture']} · {row['dataset']} · {row['sample_size']:,} images · {row['num_epochs']} epochs"
            f" · seed {row['seed']}" + "".join(f" · {extra}" for extra in extras)
            + f" · {row['test_accuracy']:.1%} · {row['run_id'][:8]}")


def _pixels(row: dict) -> str:
    """The run's pixel order, read from its config JSON (the index has no column for it; older runs: drawn)."""
    return json.loads(row.get("config_json") or "{}").get("pixels", "drawn")


def networks_section(store, rows: list[dict]) -> None:
    """The user's saved networks: what each is, how many stored runs it has; delete any (its runs stay)."""
    saved = store.saved_networks()
    if not saved:
        return
    runs = Counter(row["architecture"] for row in rows)
    st.subheader("Your networks")
    st.dataframe(pd.DataFrame([{"name": spec.name, "params": spec.num_params, "runs": runs[spec.name],
                                "layers": spec.layer_summary(), "what it tests": spec.description}
                               for spec in saved.values()]),
                 hide_index=True, key="networks_table",
                 column_config={"params": st.column_config.NumberColumn(format="localized")})
    chosen = st.multiselect("Networks to delete (their stored runs stay)", list(saved), key="chosen_networks")
    if st.button("Delete networks", key="delete_networks", disabled=not chosen):
        for name in chosen:
            store.delete_network(name)
        st.session_state.pop("chosen_networks")
        st.rerun()
    st.subheader("Runs")

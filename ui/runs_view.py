"""The Runs page's table: every stored run, in plain columns that sort."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

import pandas as pd
import streamlit as st

from core.formats import percent
from core.glossary import explain
from core.pixels import arm_label
from core.safe_text import literal
from ui.formats import percent_column

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
    table.insert(0, "network", [arm_label(row["architecture"], _pixels(row)) for row in rows])  # the one name
    table["trained at"] = pd.to_datetime(table["trained at"], errors="coerce", utc=True)
    return table


# The columns a reader can show, in this order: what a run is and how it did first. Optimizer, learning rate and
# size are the same for nearly every run and stay in the CSV view.
COLUMN_CHOICES = ["network", "test accuracy", "images", "epochs", "seed", "dataset", "train s", "recipe", "precision",
                  "params", "batch", "test loss", "peak memory MB", "trained at", "run"]
# Shown at first: the four that fit a phone's width (390 px) beside each other; the rest on demand.
SHOWN_FIRST = ["network", "test accuracy", "images", "seed"]


def show_runs_table(rows: list[dict]) -> None:
    """Every stored run in the columns chosen (at first the four that fit a phone; any other on demand): at 1366 px
    and on a phone the table fits its column."""
    chosen = st.pills("Columns", COLUMN_CHOICES, default=SHOWN_FIRST, selection_mode="multi", key="runs_columns",
                      help="More columns than the first four scroll sideways on a phone.")
    shown = [column for column in COLUMN_CHOICES if column in (chosen or SHOWN_FIRST)]
    st.dataframe(runs_table(rows), hide_index=True, key="runs_table", column_order=shown, column_config={
        "test accuracy": percent_column("test accuracy", help=explain("accuracy")),
        "params": st.column_config.NumberColumn(format="localized"),
        "train s": st.column_config.NumberColumn(format="%.1f", help=explain("train seconds")),
        "test loss": st.column_config.NumberColumn(format="%.3f", help=explain("loss")),
        "peak memory MB": st.column_config.NumberColumn(format="%.0f", help=PEAK_MEMORY_HELP),
        "trained at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "run": st.column_config.TextColumn(width="small"),
    })


def run_choice_label(row: dict) -> str:
    """The network by its one name ("conv (shuffled)"), data, size, epochs, seed, accuracy; recipe and precision only
    when not the defaults."""
    extras = [value for value in (row.get("recipe"), row.get("precision")) if value not in (None, "student", "float32")]
    return (f"{arm_label(row['architecture'], _pixels(row))} · {row['dataset']} · {row['sample_size']:,} images · "
            f"{row['num_epochs']} epochs · seed {row['seed']}" + "".join(f" · {extra}" for extra in extras)
            + f" · {percent(row['test_accuracy'])} · {row['run_id'][:8]}")


def _pixels(row: dict) -> str:
    """The run's pixel order, read from its config JSON (the index has no column for it; older runs: drawn)."""
    return json.loads(row.get("config_json") or "{}").get("pixels", "drawn")


def networks_section(store, rows: list[dict]) -> None:
    """The user's saved networks: what each is, how many stored runs it has; delete any (its runs stay)."""
    deleted_notice("networks")
    saved = store.saved_networks()
    if not saved:
        return
    runs = Counter(row["architecture"] for row in rows)
    st.subheader("Your networks")
    # st.table wraps its cells to the page's width (a phone's too); it reads them as Markdown: a user's text is
    # shown character for character (core.safe_text.literal)
    st.table(pd.DataFrame([{"name": literal(spec.name), "parameters": f"{spec.num_params:,}",
                            "runs": f"{runs[spec.name]:,}", "layers": literal(spec.layer_summary()),
                            "what it tests": literal(spec.description)} for spec in saved.values()]),
             hide_index=True)
    chosen = st.multiselect("Networks to delete (their stored runs stay)", list(saved), key="chosen_networks",
                            **EXACT_CHOICE)
    delete_with_confirmation("networks", chosen, {name: name for name in saved}, "network", store.delete_network,
                             "Their stored runs stay (on this page, and in Compare through the Runs list).")
    st.subheader("Runs")


# A multiselect whose choices get deleted: typing filters by plain substring (Streamlit's default, fuzzy matching,
# keeps "conv" and "c 1 0" alike), and there is no "Select all" / "Select N matches" entry to highlight first.
EXACT_CHOICE = {"filter_mode": "contains", "select_all": False}


def deleted_notice(key: str) -> None:
    """What the last confirmed Delete of the list `key` removed, once (call it where the list's page begins)."""
    message = st.session_state.pop(f"_delete_{key}_done", None)
    if message:
        st.success(message, icon=":material/delete:")


def delete_with_confirmation(key: str, chosen: list[str], labels: dict[str, str], noun: str,
                             delete: Callable[[str], object], note: str = "", where=None) -> None:
    """The Delete button of a list (key `delete_{key}`, under the `chosen_{key}` multiselect): it names what
    would go and asks once (`confirm_delete_{key}` or `cancel_delete_{key}`); after deleting, the page says
    what was deleted and the choice is empty. A changed choice drops a pending question. `where`: the container
    of the button (default: the page)."""
    asked, done = f"_delete_{key}_asked", f"_delete_{key}_done"
    if (where or st).button(f"Delete {noun}s…", key=f"delete_{key}", disabled=not chosen,
                 help=f"Asks first, naming every {noun} it would delete."):
        st.session_state[asked] = list(chosen)
    pending = st.session_state.get(asked)
    if not pending:
        return
    if pending != list(chosen):  # the choice changed since Delete was pressed: ask again
        del st.session_state[asked]
        return
    count = f"{len(pending)} {noun}{'s' if len(pending) > 1 else ''}"
    with st.container(border=True, key=f"confirm_{key}"):
        st.warning(f"Delete {count}? It cannot be undone, and it is gone for every user of this app. {note}\n\n"
                   + "\n".join(f"- {labels.get(item, item)}" for item in pending), icon=":material/warning:")
        left, right = st.columns(2)
        confirmed = left.button(f"Delete {count}", key=f"confirm_delete_{key}", type="primary", width="stretch")
        cancelled = right.button("Cancel", key=f"cancel_delete_{key}", width="stretch")
    if confirmed:
        for item in pending:
            delete(item)
        st.session_state[done] = f"Deleted {count}: " + "; ".join(labels.get(item, item) for item in pending) + "."
        st.session_state.pop(f"chosen_{key}", None)  # what is gone is no longer chosen
    if confirmed or cancelled:
        del st.session_state[asked]
        st.rerun()

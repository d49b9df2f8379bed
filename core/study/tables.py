"""The study's verdicts as tables a student reads: H1 (rows: sample sizes in increasing order; columns: networks;
a cell: the verdict word, the mean accuracy, its 95% CI) and the differences (rows: sizes; columns: pairs; a cell:
the verdict word, the difference, its CI, McNemar's test). A cell is lines of text; `markdown`, `html` and `text`
lay them out for the Study page (st.table), the HTML report and the CLI."""

from __future__ import annotations

import html
import math

import pandas as pd

from core.safe_text import literal
from core.stats import p_value_words
from core.formats import points
from core.study.words import percent_interval, points_interval

SIZE_COLUMN = "images"
MISSING = "–"


def h2_label(first: str, second: str) -> str:
    """A pair's column: 'conv − flat', marked '(H2)' when it is the student's second hypothesis."""
    return f"{first} − {second}" + (" (H2)" if {first, second} == {"conv", "flat"} else "")


def h1_table(summary: pd.DataFrame, arms=None) -> pd.DataFrame:
    """H1 per size (rows, increasing) and network (columns, in the order of `arms`, else as they come)."""
    arms = list(arms or dict.fromkeys(summary["architecture"]))
    sizes = sorted(summary["sample_size"].unique())
    cells = {(row.sample_size, row.architecture): "\n".join([row.h1, f"{row.mean_accuracy:.1%}",
                                                             percent_interval(row)])
             for row in summary.itertuples()}
    return pd.DataFrame([{SIZE_COLUMN: f"{size:,}", **{arm: cells.get((size, arm), MISSING) for arm in arms
                                                        if arm in set(summary["architecture"])}}
                         for size in sizes])


def pairs_table(gaps: pd.DataFrame, pairs=None) -> pd.DataFrame:
    """Every tested difference per size (rows, increasing) and pair (columns, in the order of `pairs`)."""
    pairs = [tuple(pair) for pair in (pairs or dict.fromkeys(zip(gaps["first"], gaps["second"])))]
    present = set(zip(gaps["first"], gaps["second"]))
    pairs = [pair for pair in pairs if pair in present]
    sizes = sorted(gaps["sample_size"].unique())
    cells = {(row.sample_size, row.first, row.second): "\n".join([
        row.verdict, points(row.mean_difference), points_interval(row),
        f"McNemar {p_value_words(row.mcnemar_p)}"]) for row in gaps.itertuples()}
    return pd.DataFrame([{SIZE_COLUMN: f"{size:,}", **{h2_label(*pair): cells.get((size, *pair), MISSING)
                                                        for pair in pairs}} for size in sizes])


PHONE_COLUMNS = 3  # networks or pairs beside the sizes that fit a phone's width (390 px) as st.table draws them


def parts(table: pd.DataFrame, columns: int = PHONE_COLUMNS) -> list[pd.DataFrame]:
    """`table` cut into as few tables as keep at most `columns` networks or pairs beside the sizes, as even as can be
    (four networks on both pixel orders: flat and conv as drawn, then shuffled), so that each fits a phone's width
    without scrolling."""
    data = [name for name in table.columns if name != SIZE_COLUMN]
    count = max(1, math.ceil(len(data) / columns))
    size = max(1, math.ceil(len(data) / count))
    return [table[[SIZE_COLUMN, *data[start:start + size]]] for start in range(0, max(len(data), 1), size)]


def markdown(table: pd.DataFrame) -> pd.DataFrame:
    """For st.table, which reads each cell as Markdown: every line shown as written (core.safe_text.literal), the
    verdict word in bold, one line under another."""
    def cell(text: str) -> str:
        lines = [literal(line) for line in str(text).split("\n")]
        if len(lines) > 1:
            lines[0] = f"**{lines[0]}**"
        return "  \n".join(lines)

    return table.apply(lambda column: column.map(cell))


def html_table(table: pd.DataFrame) -> str:
    """For the HTML report: escaped, the verdict word in bold, one line under another."""
    def cell(text: str) -> str:
        lines = [html.escape(line) for line in str(text).split("\n")]
        if len(lines) > 1:
            lines[0] = f"<b>{lines[0]}</b>"
        return "<br>".join(lines)

    head = "".join(f"<th>{html.escape(str(name))}</th>" for name in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(value)}</td>" for value in row) + "</tr>"
                   for row in table.itertuples(index=False))
    return (f'<div class="table"><table class="verdicts"><thead><tr>{head}</tr></thead><tbody>{body}</tbody>'
            f'</table></div>')


def text(table: pd.DataFrame) -> str:
    """For the CLI: a cell's lines joined with ' · '."""
    return table.apply(lambda column: column.map(lambda value: str(value).replace("\n", " · "))).to_string(
        index=False)

"""Small markdown tables for Dagster metadata (the UI renders them)."""

from __future__ import annotations

import polars as pl


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def md_table(frame: pl.DataFrame, max_rows: int = 200) -> str:
    if frame.width == 0:
        return "_(empty)_"
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.head(max_rows).iter_rows()]
    more = [f"\n_{frame.height - max_rows} more rows not shown_"] if frame.height > max_rows else []
    return "\n".join([head, rule, *rows, *more])

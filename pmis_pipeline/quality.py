"""A quarter's record issues, assembled from the three engines:

1. per-record rules in polars (:mod:`pmis_pipeline.rules`);
2. the Great Expectations column suite (row-level failures, converted by the caller);
3. cross-record SQL (:mod:`pmis_pipeline.crosscheck`).

The same problem found twice (a GX failure and the rule it mirrors) is kept
once, with the rule's Vietnamese message.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pmis_pipeline import crosscheck
from pmis_pipeline.warehouse import fetch_frame

KEY = ("submission_id", "row_number", "field", "rule")

#: Rule each GX expectation type mirrors (for de-duplication and messages).
GX_RULES: dict[str, str] = {
    "expect_column_values_to_not_be_null": "required",
    "expect_column_values_to_be_in_set": "not_in_catalog",
    "expect_column_values_to_be_between": "step_out_of_range",
}
GX_REGEX_RULES: dict[str, str] = {"ma_cb": "ma_cb_format", "so_cmnd": "id_number_format"}


def combine_issues(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Concatenate issue frames; the first of duplicates (by row, field, rule) wins."""
    schema = crosscheck.issue_schema()
    parts = [f.select(list(schema)).cast(schema) for f in frames if f.height]
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts).unique(subset=list(KEY), keep="first", maintain_order=True)


def gx_failures_to_issues(failures: pl.DataFrame, staff: pl.DataFrame) -> pl.DataFrame:
    """Row-level GX failures (row_key, field, expectation, value) as issue rows."""
    if failures.height == 0:
        return pl.DataFrame(schema=crosscheck.issue_schema())
    rows = staff.with_row_index("row_key").select(
        pl.col("row_key").cast(pl.Int64), "quarter", "submission_id", "row_number", "ma_cb", "reporting_unit", "ma_don_vi"
    )
    rule = (
        pl.when(pl.col("expectation") == "expect_column_values_to_match_regex")
        .then(pl.col("field").replace_strict(GX_REGEX_RULES, default="format"))
        .otherwise(pl.col("expectation").replace_strict(GX_RULES, default=pl.col("expectation")))
    )
    return (
        failures.with_columns(pl.col("row_key").cast(pl.Int64))
        .join(rows, on="row_key", how="inner")
        .select(
            "quarter", "submission_id", "row_number", "ma_cb", "reporting_unit", "ma_don_vi", "field",
            rule.alias("rule"),
            pl.lit("error").alias("severity"),
            pl.concat_str(pl.lit("Kiểm tra cột không đạt ("), pl.col("expectation"), pl.lit(")")).alias("message"),
            pl.col("value").cast(pl.Utf8),
        )
    )


def quarter_staff(con: duckdb.DuckDBPyConnection, quarter: str) -> pl.DataFrame:
    return fetch_frame(con, "SELECT * FROM core.staff_rows WHERE quarter = ? ORDER BY submission_id, row_number", [quarter])


def sql_issues(con: duckdb.DuckDBPyConnection, quarter: str) -> pl.DataFrame:
    return combine_issues([crosscheck.duplicate_issues(con, quarter), crosscheck.identity_drift(con, quarter)])

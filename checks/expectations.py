"""A Great Expectations (1.x) column suite built from the record schema.

GX is called directly (the dagster-ge integration is pinned to GX < 1): an
ephemeral context, a pandas data source, one whole-dataframe batch per chunk
of the quarter's staff rows (:class:`SuiteRunner`; the chunks' summaries add
up, :func:`pmis_pipeline.quality.combine_summaries`), result format COMPLETE
with ``row_key`` (the row's position in the quarter's staff rows ordered by
submission and row) as the unexpected-index column so that each failing
value maps back to its row.

The suite is derived from :mod:`pmis_pipeline.schema` (no column is listed by
hand) and mirrors the per-record rules of :mod:`pmis_pipeline.rules`:

* ``ExpectColumnValuesToNotBeNull`` for every unconditionally required key,
  on the cell *as received* with blanks made null (column ``raw_<key>``): the
  ``required`` rule and the completeness measure count the same cells, and an
  unreadable date is not "missing" (it is ``invalid_value``);
* ``ExpectColumnValuesToBeInSet`` for every catalog field (and the grade
  code), on the typed value (accepted variants already mapped to the stored
  form): ``not_in_catalog``;
* ``ExpectColumnValuesToMatchRegex`` for the fields with a format pattern
  (``rules.FORMAT_PATTERNS``: ma_cb, so_cmnd): ``ma_cb_format``,
  ``id_number_format``;
* ``ExpectColumnValuesToBeBetween`` for the numeric ranges
  (``rules.VALUE_RANGES``: bac_luong 1..12): ``step_out_of_range``.

GX is kept silent: no analytics (``GX_ANALYTICS_ENABLED=False`` is set before
it is imported), no progress bars, no network.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

import polars as pl

from checks import warmup
from pmis_pipeline import schema
from pmis_pipeline.reference import catalog_values, grades
from pmis_pipeline.rules import FORMAT_PATTERNS, VALUE_RANGES

if TYPE_CHECKING:
    import great_expectations as gx
    import pandas as pd
    from great_expectations.data_context import AbstractDataContext


def _gx():
    """great_expectations, imported on first use: it takes ~3.5 s (scipy, altair, pandas,
    sqlalchemy), which the code location's load and a run's start-up should not wait for."""
    os.environ["GX_ANALYTICS_ENABLED"] = "False"  # before great_expectations is imported
    import great_expectations

    return great_expectations

SUITE_NAME = "pmis_staff_rows"
ROW_KEY = "row_key"
RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_KEY]}
FAILURE_SCHEMA: dict[str, pl.DataType] = {
    ROW_KEY: pl.Int64(),
    "field": pl.Utf8(),
    "expectation": pl.Utf8(),
    "value": pl.Utf8(),
}


def filled_column(key: str) -> str:
    """GX column of a required key's cell as received, blanks null."""
    return f"raw_{key}"


def _accepted(field: schema.Field) -> list[str] | None:
    if field.catalog:
        return list(catalog_values(field.catalog))
    if field.kind == "grade":
        return grades()["ma_ngach"].to_list()
    return None


def build_suite() -> gx.ExpectationSuite:
    """The column suite, derived from the schema's fields (in a fresh ephemeral context:
    GX 1.x needs an active context to build a suite)."""
    _context()
    return _suite()


def _suite() -> gx.ExpectationSuite:
    gx = _gx()
    suite = gx.ExpectationSuite(name=SUITE_NAME)
    for f in schema.FIELDS:
        if f.required == "yes":
            suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column=filled_column(f.key)))
        accepted = _accepted(f)
        if accepted is not None:
            suite.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(column=f.key, value_set=accepted))
        if f.key in FORMAT_PATTERNS:
            suite.add_expectation(gx.expectations.ExpectColumnValuesToMatchRegex(column=f.key, regex=FORMAT_PATTERNS[f.key]))
        if f.key in VALUE_RANGES:
            low, high = VALUE_RANGES[f.key]
            suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(column=f.key, min_value=low, max_value=high))
    return suite


def _field_of(column: str) -> str:
    return column.removeprefix("raw_") if column.startswith("raw_") and column[4:] in schema.FIELD_BY_KEY else column


def _gx_frame(staff: pl.DataFrame, suite: gx.ExpectationSuite, offset: int = 0) -> pd.DataFrame:
    """The columns the suite reads, as pandas, with ``row_key`` = the row's
    position in ``staff`` plus ``offset``."""
    exprs: list[pl.Expr] = [(pl.int_range(pl.len(), dtype=pl.Int64) + offset).alias(ROW_KEY)]
    seen: set[str] = set()
    for exp in suite.expectations:
        column = exp.column
        if column in seen:
            continue
        seen.add(column)
        key = _field_of(column)
        if column != key:
            text = pl.col("raw").struct.field(key).str.strip_chars()
            exprs.append(pl.when(text == "").then(None).otherwise(text).alias(column))
        else:
            exprs.append(pl.col(key))
    return staff.select(exprs).to_pandas()


def _text(value) -> str | None:
    """A failing value as text (None for a missing one); whole floats lose their ``.0``."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else str(value)
    import pandas as pd

    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _context() -> AbstractDataContext:
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = _gx().get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


class SuiteRunner:
    """Validates chunks of a quarter's staff rows against the suite, one
    context and suite for every chunk (``runner(chunk, offset)``, see
    :func:`run_suite`). Each chunk is a batch of a data source of its own,
    removed once validated: GX caches metrics by batch id on a data source's
    execution engine, so a chunk never sees another's metrics and nothing of
    a validated chunk is kept. The context is made at the first chunk, so a
    runner can be handed over while Great Expectations is still being imported
    in the background (:mod:`checks.warmup`)."""

    def __init__(self) -> None:
        self.context: AbstractDataContext | None = None
        self.suite: gx.ExpectationSuite | None = None
        self.chunks = 0

    def __call__(self, staff: pl.DataFrame, offset: int = 0) -> tuple[pl.DataFrame, list[dict]]:
        if self.context is None:
            warmup.wait()
            self.context, self.suite = _context(), _suite()
        self.chunks += 1
        name = f"pmis_{self.chunks}"
        source = self.context.data_sources.add_pandas(name)
        try:
            batch = source.add_dataframe_asset("staff_rows").add_batch_definition_whole_dataframe("quarter").get_batch(
                batch_parameters={"dataframe": _gx_frame(staff, self.suite, offset)}
            )
            result = batch.validate(self.suite, result_format=RESULT_FORMAT)
        finally:
            self.context.data_sources.delete(name)
        return _outcome(result)


def _outcome(result) -> tuple[pl.DataFrame, list[dict]]:
    failures: list[dict] = []
    summary: list[dict] = []
    for r in result.results:
        config = r.expectation_config
        column = config.kwargs["column"]
        field = _field_of(column)
        details = r.result or {}
        summary.append(
            {
                "expectation": config.type,
                "column": field,
                "success": bool(r.success),
                "unexpected_count": int(details.get("unexpected_count") or 0),
                "element_count": int(details.get("element_count") or 0),
            }
        )
        for item in details.get("unexpected_index_list") or []:
            failures.append(
                {ROW_KEY: int(item[ROW_KEY]), "field": field, "expectation": config.type, "value": _text(item.get(column))}
            )
    return pl.DataFrame(failures, schema=FAILURE_SCHEMA) if failures else pl.DataFrame(schema=FAILURE_SCHEMA), summary


def run_suite(staff: pl.DataFrame, offset: int = 0) -> tuple[pl.DataFrame, list[dict]]:
    """Validate staff rows (a quarter's, or a chunk of them).

    Returns ``(failures, summary)``: one failure row per failing value
    (``row_key`` = 0-based position of the row in ``staff`` plus ``offset``,
    ``field`` = the schema key, ``expectation`` = the GX expectation type,
    ``value`` = the value as text, None when missing) and one summary dict per
    expectation (``expectation``, ``column`` (the schema key), ``success``,
    ``unexpected_count``, ``element_count``). Chunks' summaries combine with
    :func:`pmis_pipeline.quality.combine_summaries`; many chunks are better
    validated by one :class:`SuiteRunner`.
    """
    return SuiteRunner()(staff, offset)

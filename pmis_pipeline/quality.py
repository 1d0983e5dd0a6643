"""A quarter's record issues, assembled from the three engines:

1. per-record rules in polars (:mod:`pmis_pipeline.rules`);
2. the Great Expectations column suite (row-level failures, converted by the caller);
3. cross-record SQL (:mod:`pmis_pipeline.crosscheck`).

The same problem found twice (a GX failure and the rule it mirrors) is kept
once, with the rule's Vietnamese message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import polars as pl

from pmis_pipeline import crosscheck, rules
from pmis_pipeline.warehouse import append_rows, fetch_frame

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


def gx_failures_to_issues(failures: pl.DataFrame, staff: pl.DataFrame, offset: int = 0) -> pl.DataFrame:
    """Row-level GX failures (row_key, field, expectation, value) as issue rows;
    ``row_key`` is the row's position in ``staff`` plus ``offset`` (a chunk's
    first row in the quarter)."""
    if failures.height == 0:
        return pl.DataFrame(schema=crosscheck.issue_schema())
    rows = staff.with_row_index("row_key", offset=offset).select(
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


# ---------------------------------------------------------------- the quarter in chunks

#: Checks a chunk of staff rows at a time: ``gx(chunk, offset) -> (failures, summary)``,
#: failures' ``row_key`` counted from ``offset`` (the chunk's first row in the quarter).
ChunkSuite = Callable[[pl.DataFrame, int], tuple[pl.DataFrame, list[dict]]]

_STAGE = "pmis_issue_stage"
_STANDARDS = "pmis_standard_stage"
_PARTS = {"rules": 0, "sql": 1, "gx": 2}  # combine_issues' order: the first of duplicates wins


@dataclass(frozen=True)
class StaffChunk:
    """Consecutive submissions of the quarter's staff rows (ordered by
    submission_id, row_number): rows ``offset`` .. ``offset + rows - 1``."""

    first: str
    last: str
    offset: int
    rows: int


def staff_chunks(con: duckdb.DuckDBPyConnection, quarter: str, rows: int) -> list[StaffChunk]:
    """Whole submissions, in submission order, about ``rows`` staff rows a chunk
    (a larger submission is a chunk of its own)."""
    counts = con.execute(
        "SELECT submission_id, count(*) FROM core.staff_rows WHERE quarter = ? GROUP BY 1 ORDER BY 1", [quarter]
    ).fetchall()
    chunks: list[StaffChunk] = []
    first: str | None = None
    n = offset = 0
    for sid, count in counts:
        first = first or sid
        n += count
        if n >= rows:
            chunks.append(StaffChunk(first, sid, offset, n))
            offset += n
            first, n = None, 0
    if first is not None:
        chunks.append(StaffChunk(first, counts[-1][0], offset, n))
    return chunks


def chunk_staff(con: duckdb.DuckDBPyConnection, quarter: str, chunk: StaffChunk) -> pl.DataFrame:
    """One chunk's staff rows, every column, in the quarter's order."""
    return fetch_frame(
        con,
        "SELECT * FROM core.staff_rows WHERE quarter = ? AND submission_id BETWEEN ? AND ? ORDER BY submission_id, row_number",
        [quarter, chunk.first, chunk.last],
    )


def combine_summaries(chunks: list[list[dict]]) -> list[dict]:
    """The suite's summary over the whole quarter from its chunks' (same
    expectations, same order): counts add up, an expectation succeeds when it
    succeeds on every chunk (no ``mostly``: success is no unexpected value)."""
    if not chunks:
        return []
    out = []
    for parts in zip(*chunks, strict=True):
        first = parts[0]
        if any((p["expectation"], p["column"]) != (first["expectation"], first["column"]) for p in parts):
            raise ValueError("the chunks' summaries list different expectations")
        out.append(
            {
                "expectation": first["expectation"],
                "column": first["column"],
                "success": all(p["success"] for p in parts),
                "unexpected_count": sum(p["unexpected_count"] for p in parts),
                "element_count": sum(p["element_count"] for p in parts),
            }
        )
    return out


def _stage(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, part: str, seq: int) -> int:
    """Append issue rows to the stage, numbered from ``seq``; returns the next number."""
    schema = crosscheck.issue_schema()
    if frame.height == 0:
        return seq
    staged = frame.select(list(schema)).cast(schema).with_columns(
        pl.lit(_PARTS[part], dtype=pl.Int8).alias("part"),
        pl.int_range(seq, seq + frame.height, dtype=pl.Int64).alias("seq"),
    )
    append_rows(con, _STAGE, staged, schema="temp")
    return seq + frame.height


@dataclass
class QuarterQuality:
    gx_summary: list[dict]
    chunks: int
    seconds: dict[str, float] = field(default_factory=dict)


def check_quarter(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    units: pl.DataFrame,
    rules_config: dict,
    gx: ChunkSuite,
    chunk_rows: int,
    progress: Callable[[str], None] | None = None,
) -> QuarterQuality:
    """Write the quarter's ``record_issues`` and ``qualification_standard``
    (inside the caller's transaction), a chunk of staff rows at a time.

    Per chunk (whole submissions, :func:`staff_chunks`): the per-record rules
    (:func:`rules.record_issues`), the qualification standard and the Great
    Expectations suite (``gx``); across records, the SQL rules over the whole
    quarter (:func:`sql_issues`). The issues are staged in DuckDB and written
    once, the first of duplicates kept as :func:`combine_issues` would over
    the whole quarter (per-record rules, then SQL rules, then GX failures)."""
    say = progress or (lambda _msg: None)
    timings: dict[str, float] = {"rules": 0.0, "gx": 0.0, "fetch": 0.0}
    cols = ", ".join(f"{c} {'INTEGER' if t == pl.Int32 else 'VARCHAR'}" for c, t in crosscheck.issue_schema().items())
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_STAGE} ({cols}, part TINYINT, seq BIGINT)")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_STANDARDS} "
        "(quarter VARCHAR, submission_id VARCHAR, row_number INTEGER, qualification_standard VARCHAR)"
    )
    chunks = staff_chunks(con, quarter, max(1, chunk_rows))
    summaries: list[list[dict]] = []
    seq = {"rules": 0, "gx": 0}
    for i, chunk in enumerate(chunks or [None], start=1):
        t = time.perf_counter()
        staff = chunk_staff(con, quarter, chunk) if chunk else quarter_staff(con, quarter)
        offset = chunk.offset if chunk else 0
        timings["fetch"] += time.perf_counter() - t
        t = time.perf_counter()
        seq["rules"] = _stage(con, rules.record_issues(staff, quarter, units, rules_config), "rules", seq["rules"])
        if staff.height:
            standards = staff.select(
                "quarter", "submission_id", "row_number",
                rules.qualification_standard(staff, units).alias("qualification_standard"),
            )
            append_rows(con, _STANDARDS, standards, schema="temp")
        timings["rules"] += time.perf_counter() - t
        t = time.perf_counter()
        failures, summary = gx(staff, offset)
        summaries.append(summary)
        seq["gx"] = _stage(con, gx_failures_to_issues(failures, staff, offset), "gx", seq["gx"])
        timings["gx"] += time.perf_counter() - t
        say(f"checked {offset + staff.height} staff rows ({i}/{max(1, len(chunks))} chunks)")
        del staff
    t = time.perf_counter()
    _stage(con, sql_issues(con, quarter), "sql", 0)
    con.execute("DELETE FROM core.record_issues WHERE quarter = ?", [quarter])
    names = ", ".join(crosscheck.issue_schema())
    con.execute(
        f"""
        INSERT INTO core.record_issues BY NAME
        SELECT {names} FROM temp.{_STAGE}
        QUALIFY row_number() OVER (PARTITION BY {", ".join(KEY)} ORDER BY part, seq) = 1
        ORDER BY part, seq
        """
    )
    con.execute(
        f"""
        UPDATE core.staff_rows t SET qualification_standard = u.qualification_standard FROM temp.{_STANDARDS} u
        WHERE t.quarter = u.quarter AND t.submission_id = u.submission_id AND t.row_number = u.row_number
        """
    )
    con.execute(f"DROP TABLE temp.{_STAGE}")
    con.execute(f"DROP TABLE temp.{_STANDARDS}")
    timings["cross_record_and_write"] = time.perf_counter() - t
    return QuarterQuality(
        combine_summaries(summaries), len(chunks), {k: round(v, 3) for k, v in timings.items()}
    )


def issue_counts(con: duckdb.DuckDBPyConnection, quarter: str) -> pl.DataFrame:
    """Issues and persons per (rule, severity) of the quarter (a person whose
    staff code is missing counts once, as polars' ``n_unique`` counts null)."""
    return fetch_frame(
        con,
        """
        SELECT rule, severity, count(*)::UINTEGER AS issues,
               (count(DISTINCT ma_cb) + (count(*) FILTER (WHERE ma_cb IS NULL) > 0)::INTEGER)::UINTEGER AS persons
        FROM core.record_issues WHERE quarter = ? GROUP BY ALL
        """,
        [quarter],
    )

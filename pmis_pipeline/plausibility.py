"""Plausible record counts, and payments held until the Department confirms.

A reporting unit whose record count in a quarter jumps far beyond its own
previous quarter, or beyond what its schools in the catalog could employ,
is *implausible*: its payment lines are held (not paid) until the clerk
confirms the count in ``catalog/payment_confirmations.csv``::

    quarter,reporting_unit,confirmed_by,note
    2009-Q2,PGD03,Nguyễn Văn An,"sáp nhập 3 trường, đã kiểm tra"

The holds are derived from the staff counts (never stored as state), so the
payments of any quarter can be recomputed from the warehouse at any time.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import polars as pl

from pmis_pipeline.quarters import Quarter
from pmis_pipeline.warehouse import fetch_frame

CONFIRMATIONS_FILE = "payment_confirmations.csv"
CONFIRMATION_COLUMNS = ("quarter", "reporting_unit", "confirmed_by", "note")


def read_confirmations(path: Path) -> pl.DataFrame:
    """The clerk's confirmations (quarter, reporting_unit, confirmed_by, note); empty when absent."""
    schema = {c: pl.Utf8 for c in CONFIRMATION_COLUMNS}
    if not path.is_file():
        return pl.DataFrame(schema=schema)
    rows = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"quarter", "reporting_unit"} - {h.strip() for h in reader.fieldnames or []}
        if missing:
            raise ValueError(f"{path}: needs the columns quarter,reporting_unit (missing {', '.join(sorted(missing))})")
        for n, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            try:
                quarter = Quarter.parse_key(row["quarter"]).key
            except ValueError:
                raise ValueError(f"{path}: line {n}: quarter {row['quarter']!r} is not YYYY-Qn") from None
            rows.append(
                {
                    "quarter": quarter,
                    "reporting_unit": row["reporting_unit"].upper().replace(" ", ""),
                    "confirmed_by": row.get("confirmed_by") or None,
                    "note": row.get("note") or None,
                }
            )
    return pl.DataFrame(rows, schema=schema)


def holds_sql() -> str:
    """SQL (parameters ``$year``, ``$max_growth_pct``, ``$min_growth_records``,
    ``$max_per_school``) selecting the units held in each quarter of ``$year``:
    quarter, reporting_unit, n_records, previous_records, schools, reason."""
    return """
        WITH counts AS (
            SELECT quarter, reporting_unit, count(*) AS n FROM core.staff_rows GROUP BY ALL
        ), schools AS (
            SELECT ma_don_vi_bao_cao AS reporting_unit, count(*) AS n_units FROM core.units GROUP BY 1
        ), quarters AS (
            SELECT DISTINCT quarter FROM counts WHERE quarter LIKE $year || '-Q_'
        ), cur AS (
            SELECT c.quarter, c.reporting_unit, c.n,
                   p.n AS previous_records, coalesce(sc.n_units, 1) AS schools
            FROM counts c
            JOIN quarters USING (quarter)
            LEFT JOIN counts p ON p.reporting_unit = c.reporting_unit AND p.quarter = (
                CASE WHEN right(c.quarter, 1) = '1'
                     THEN (CAST(left(c.quarter, 4) AS INTEGER) - 1)::VARCHAR || '-Q4'
                     ELSE left(c.quarter, 6) || (CAST(right(c.quarter, 1) AS INTEGER) - 1)::VARCHAR END)
            LEFT JOIN schools sc ON sc.reporting_unit = c.reporting_unit
        )
        SELECT quarter, reporting_unit, n AS n_records, previous_records, schools,
               CASE WHEN n > schools * $max_per_school
                    THEN 'Số hồ sơ (' || n || ') vượt mức ' || $max_per_school || ' người cho mỗi trong '
                         || schools || ' đơn vị của danh mục'
                    ELSE 'Số hồ sơ tăng từ ' || previous_records || ' lên ' || n || ' so với quý trước'
               END AS reason
        FROM cur
        WHERE n > schools * $max_per_school
           OR (previous_records IS NOT NULL
               AND n > previous_records * (1 + $max_growth_pct / 100.0)
               AND n - previous_records >= $min_growth_records)
    """


def held_units(con: duckdb.DuckDBPyConnection, quarter: str, limits: dict) -> pl.DataFrame:
    """Units whose record count for ``quarter`` is implausible, with whether the
    Department confirmed it (confirmed units are paid)."""
    year = Quarter.parse_key(quarter).year
    return fetch_frame(
        con,
        f"""
        WITH held AS ({holds_sql()})
        SELECT h.*, c.reporting_unit IS NOT NULL AS confirmed, c.confirmed_by, c.note
        FROM held h
        LEFT JOIN core.payment_confirmations c USING (quarter, reporting_unit)
        WHERE h.quarter = $q
        ORDER BY reporting_unit
        """,
        {"q": quarter, "year": str(year), **hold_params(limits)},
    )


def hold_params(limits: dict) -> dict:
    """The ``[plausibility]`` section as the SQL's parameters."""
    return {
        "max_growth_pct": float(limits["max_growth_pct"]),
        "min_growth_records": int(limits["min_growth_records"]),
        "max_per_school": int(limits["max_records_per_school"]),
    }


def unconfirmed_holds_sql() -> str:
    """Units held (and not confirmed) in each quarter of ``$year``: quarter, reporting_unit."""
    return f"""
        SELECT h.quarter, h.reporting_unit FROM ({holds_sql()}) h
        WHERE NOT EXISTS (
            SELECT 1 FROM core.payment_confirmations c
            WHERE c.quarter = h.quarter AND c.reporting_unit = h.reporting_unit
        )
    """

"""Payment statements of the SREM data-entry funding (letter 346/2009, part III).

A person's record is payable once per calendar year, in the first quarter in
which it stands accepted (in ``staff``) with no ``error`` issue, to the
reporting unit that sent it. Paid records are derived, not stored as state:
for quarter Q they are Q's valid staff codes that were not valid in an earlier
quarter of the same year, so re-materializing any quarter gives the same
answer. Rates come from the ``[payments]`` config section.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pmis_pipeline.plausibility import hold_params, unconfirmed_holds_sql
from pmis_pipeline.quarters import Quarter
from pmis_pipeline.warehouse import fetch_frame

SO_PAYEE = "SO"
SO_NAME = "Sở Giáo dục và Đào tạo"


def paid_records(con: duckdb.DuckDBPyConnection, quarter: str, plausibility: dict) -> pl.DataFrame:
    """The records first payable in ``quarter``: quarter, ma_cb, reporting_unit, loai.

    A record is payable in a quarter where it stands with no error and its
    unit's count is plausible (or confirmed by the Department); a record
    held in one quarter is paid in the first later quarter of the year in
    which it is payable."""
    year = Quarter.parse_key(quarter).year
    return fetch_frame(
        con,
        f"""
        WITH held AS ({unconfirmed_holds_sql()}),
        valid AS (
            SELECT s.quarter, s.ma_cb, s.reporting_unit
            FROM core.staff_rows s
            WHERE s.quarter LIKE $year || '-Q_' AND s.quarter <= $q AND s.ma_cb IS NOT NULL
              AND NOT EXISTS (
                  SELECT 1 FROM core.record_issues i
                  WHERE i.quarter = s.quarter AND i.submission_id = s.submission_id
                    AND i.row_number = s.row_number AND i.severity = 'error'
              )
              AND NOT EXISTS (SELECT 1 FROM held h WHERE h.quarter = s.quarter AND h.reporting_unit = s.reporting_unit)
        )
        SELECT v.quarter, v.ma_cb, v.reporting_unit, u.loai
        FROM valid v JOIN core.units u ON u.ma_don_vi = v.reporting_unit
        WHERE v.quarter = $q
          AND NOT EXISTS (SELECT 1 FROM valid e WHERE e.ma_cb = v.ma_cb AND e.quarter < $q)
        ORDER BY v.reporting_unit, v.ma_cb
        """,
        {"q": quarter, "year": str(year), **hold_params(plausibility)},
    )


def payment_lines(paid: pl.DataFrame, units: pl.DataFrame, quarter: str, rates: dict[str, int]) -> pl.DataFrame:
    """The ``payments`` view's lines for a quarter: each district office
    (``nhap_lieu``, ``tong_hop_kiem_tra``), each direct unit (``nhap_lieu``) with
    payable records, and the Department (``tong_hop_phong``, ``tong_hop_truc_thuoc``)."""
    counts = paid.group_by("reporting_unit", "loai").agg(pl.len().alias("n_records"))
    names = units.select(pl.col("ma_don_vi").alias("reporting_unit"), pl.col("ten_don_vi").alias("payee_name"))
    counts = counts.join(names, on="reporting_unit", how="left")
    items = pl.DataFrame(
        {
            "loai": ["phong", "phong", "truc_thuoc"],
            "item": ["nhap_lieu", "tong_hop_kiem_tra", "nhap_lieu"],
            "rate_vnd": [rates["phong_nhap_lieu"], rates["phong_tong_hop_kiem_tra"], rates["truc_thuoc_nhap_lieu"]],
            "order": [1, 2, 1],
        },
        schema_overrides={"rate_vnd": pl.Int64},
    )
    unit_lines = counts.join(items, on="loai").select(
        pl.lit(quarter).alias("quarter"),
        pl.col("reporting_unit").alias("payee"),
        "payee_name",
        pl.col("loai").alias("payee_type"),
        "item",
        pl.col("n_records").cast(pl.Int64),
        "rate_vnd",
        (pl.col("n_records").cast(pl.Int64) * pl.col("rate_vnd")).alias("amount_vnd"),
        "order",
    )
    n_phong = int(counts.filter(pl.col("loai") == "phong")["n_records"].sum() or 0)
    n_direct = int(counts.filter(pl.col("loai") == "truc_thuoc")["n_records"].sum() or 0)
    so = pl.DataFrame(
        {
            "quarter": [quarter, quarter],
            "payee": [SO_PAYEE, SO_PAYEE],
            "payee_name": [SO_NAME, SO_NAME],
            "payee_type": ["so", "so"],
            "item": ["tong_hop_phong", "tong_hop_truc_thuoc"],
            "n_records": [n_phong, n_direct],
            "rate_vnd": [rates["so_tong_hop_phong"], rates["so_tong_hop_truc_thuoc"]],
            "amount_vnd": [n_phong * rates["so_tong_hop_phong"], n_direct * rates["so_tong_hop_truc_thuoc"]],
            "order": [1, 2],
        },
        schema=unit_lines.schema,
    )
    type_order = pl.col("payee_type").replace_strict({"phong": 0, "truc_thuoc": 1, "so": 2}, return_dtype=pl.Int8)
    return pl.concat([unit_lines, so]).sort(type_order, "payee", "order").drop("order")

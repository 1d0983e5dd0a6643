"""Quarterly compliance of the reporting units: timeliness, completeness,
accuracy, photos, lost records, score and rank (the contract's default rules,
weights from the ``[scoring]`` config section)."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from pmis_pipeline.warehouse import fetch_frame


def unit_compliance(
    con: duckdb.DuckDBPyConnection, quarter: str, deadline: date, scoring: dict[str, float]
) -> pl.DataFrame:
    """One row per reporting unit of the catalog (submitted or not).

    - submitted: at least one readable (accepted or superseded) file arrived;
    - timeliness: 100 on or before the deadline, 100 - penalty x days late
      (not below 0), 0 when nothing arrived; days are local calendar days;
    - completeness_pct: filled required cells / required cells over its staff rows;
    - accuracy_pct: staff rows with no ``error`` issue / staff rows;
    - photo_pct: staff rows with a photo / staff rows;
    - score: weighted sum of the published (rounded) figures, rounded to 2
      decimals; rank: dense within the group (phong, truc_thuoc) by score, then
      earlier first receipt, then code.

    Percentages and the score are computed exactly (integers and DECIMAL) and
    rounded half up, as by hand: in binary floating point
    ``0.4 x 100 + 0.3 x 99.98 + 0.3 x 97.07`` (exactly 99.115) rounds to 99.11,
    not 99.12, and two units' ranks can swap. A percentage 100 x a / b to two
    decimals is ``(20000 a + b) // 2b`` hundredths.
    """
    return fetch_frame(
        con,
        """
        WITH ru AS (
            SELECT ma_don_vi AS reporting_unit, ten_don_vi, loai FROM core.units
            WHERE loai IN ('phong', 'truc_thuoc')
        ), files AS (
            SELECT reporting_unit, min(received_at) AS first_received_at
            FROM core.submission_files WHERE quarter = $q AND readable GROUP BY 1
        ), st AS (
            SELECT s.reporting_unit, count(*) AS n_records,
                   sum(s.filled_required) AS filled, sum(s.required_cells) AS required,
                   count(*) FILTER (WHERE NOT coalesce(f.has_error, FALSE)) AS n_valid,
                   count(*) FILTER (WHERE s.has_photo) AS n_photo
            FROM core.staff_rows s
            LEFT JOIN core.row_flags f USING (quarter, submission_id, row_number)
            WHERE s.quarter = $q GROUP BY 1
        ), lost AS (
            SELECT reporting_unit, count(*) AS lost_records FROM core.lost_records WHERE quarter = $q GROUP BY 1
        ), base AS (
            SELECT $q AS quarter, ru.reporting_unit, ru.ten_don_vi, ru.loai,
                   f.first_received_at IS NOT NULL AS submitted,
                   f.first_received_at,
                   $deadline::DATE AS deadline,
                   CASE WHEN f.first_received_at IS NULL THEN NULL
                        ELSE greatest(0, date_diff('day', $deadline::DATE, f.first_received_at::DATE)) END AS days_late,
                   coalesce(st.n_records, 0) AS n_records,
                   CASE WHEN coalesce(st.required, 0) = 0 THEN 0::DECIMAL(5, 2)
                        ELSE ((20000 * st.filled::HUGEINT + st.required) // (2 * st.required::HUGEINT))::DECIMAL(18, 0)
                             * 0.01 END AS completeness_pct,
                   CASE WHEN coalesce(st.n_records, 0) = 0 THEN 0::DECIMAL(5, 2)
                        ELSE ((20000 * st.n_valid::HUGEINT + st.n_records) // (2 * st.n_records::HUGEINT))::DECIMAL(18, 0)
                             * 0.01 END AS accuracy_pct,
                   CASE WHEN coalesce(st.n_records, 0) = 0 THEN 0::DECIMAL(5, 2)
                        ELSE ((20000 * st.n_photo::HUGEINT + st.n_records) // (2 * st.n_records::HUGEINT))::DECIMAL(18, 0)
                             * 0.01 END AS photo_pct,
                   coalesce(lost.lost_records, 0) AS lost_records
            FROM ru
            LEFT JOIN files f USING (reporting_unit)
            LEFT JOIN st USING (reporting_unit)
            LEFT JOIN lost USING (reporting_unit)
        ), scored AS (
            SELECT *,
                   CASE WHEN NOT submitted THEN 0::DECIMAL(18, 6)
                        ELSE greatest(0, 100 - $penalty::DECIMAL(18, 6) * days_late) END AS timeliness,
            FROM base
        ), final AS (
            SELECT * REPLACE (completeness_pct::DOUBLE AS completeness_pct, accuracy_pct::DOUBLE AS accuracy_pct,
                              photo_pct::DOUBLE AS photo_pct, timeliness::DOUBLE AS timeliness),
                   round($w_t::DECIMAL(18, 6) * timeliness + $w_c::DECIMAL(18, 6) * completeness_pct
                         + $w_a::DECIMAL(18, 6) * accuracy_pct, 2)::DOUBLE AS score
            FROM scored
        )
        SELECT *, dense_rank() OVER (
                   PARTITION BY loai
                   ORDER BY score DESC, first_received_at ASC NULLS LAST, reporting_unit ASC
               ) AS rank
        FROM final
        ORDER BY loai, rank
        """,
        {
            "q": quarter,
            "deadline": deadline,
            "penalty": float(scoring["penalty_per_day_late"]),
            "w_t": float(scoring["weight_timeliness"]),
            "w_c": float(scoring["weight_completeness"]),
            "w_a": float(scoring["weight_accuracy"]),
        },
    )

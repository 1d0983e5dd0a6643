"""Data-quality assets: every record checked, every problem made visible."""

import dagster as dg
import polars as pl

from assets.intake import staff
from assets.partitions import quarterly_partitions
from assets.resources import PmisResource
from checks.expectations import run_suite
from pmis_pipeline import crosscheck, quality, rules, schema, warehouse
from pmis_pipeline.catalog import read_units
from pmis_pipeline.documents.feedback import write_feedback_workbook
from pmis_pipeline.documents.review import write_department_review
from pmis_pipeline.markdown import md_table


@dg.asset(
    partitions_def=quarterly_partitions,
    group_name="quality",
    kinds={"duckdb"},
    deps=[staff],
    description=(
        "Every problem of every staff row of the quarter: per-record rules (polars), the Great "
        "Expectations column suite, duplicates and identity drift (SQL). Also the quarter's lost "
        "records, catalog proposals and each teacher's qualification standard. Lost records and "
        "drift compare with the previous quarter: materialize quarters in order."
    ),
)
def record_issues(context: dg.AssetExecutionContext, pmis: PmisResource) -> dg.MaterializeResult:
    quarter = context.partition_key
    settings = pmis.settings()
    units = read_units(settings.paths.units_csv)
    with pmis.build_db() as con:
        frame = quality.quarter_staff(con, quarter)
        gx_failures, gx_summary = run_suite(frame)
        issues = quality.combine_issues(
            [
                rules.record_issues(frame, quarter, units, settings.section("rules")),
                quality.sql_issues(con, quarter),
                quality.gx_failures_to_issues(gx_failures, frame),
            ]
        )
        lost = crosscheck.lost_records(con, quarter)
        standards = frame.select(
            "quarter", "submission_id", "row_number",
            rules.qualification_standard(frame, units).alias("qualification_standard"),
        )
        gx_table = pl.DataFrame(gx_summary).with_columns(pl.lit(quarter).alias("quarter")) if gx_summary else pl.DataFrame()
        warehouse.replace_quarter(
            con,
            quarter,
            {"record_issues": issues, "lost_records": lost, "expectation_results": gx_table},
            updates={"staff_rows": standards},
        )
        proposals = crosscheck.catalog_proposals(con, quarter)
        warehouse.replace_quarter(con, quarter, {"catalog_proposals": proposals})
    by_rule = (
        issues.group_by("rule", "severity").agg(pl.len().alias("issues"), pl.col("ma_cb").n_unique().alias("persons"))
        .sort("issues", descending=True)
    )
    n_errors = int((issues["severity"] == "error").sum())
    rows_with_error = issues.filter(pl.col("severity") == "error").select("submission_id", "row_number").unique().height
    return dg.MaterializeResult(
        metadata={
            "staff_rows": frame.height,
            "issues": issues.height,
            "errors": n_errors,
            "warnings": issues.height - n_errors,
            "rows_with_error": rows_with_error,
            "lost_records": lost.height,
            "catalog_proposals": proposals.height,
            "gx_expectations_failed": sum(1 for s in gx_summary if not s["success"]),
            "by_rule": dg.MetadataValue.md(md_table(by_rule)),
        }
    )


@dg.asset(
    partitions_def=quarterly_partitions,
    group_name="quality",
    kinds={"excel"},
    deps=[record_issues],
    description=(
        "A feedback workbook per reporting unit (Vietnamese): summary by problem and school, every "
        "record to fix (school, mã cán bộ, họ tên, field, problem, value as received), lost records, "
        "rejected files. Written to warehouse/reports/YYYY-Qn/phan-hoi/."
    ),
)
def feedback_workbooks(context: dg.AssetExecutionContext, pmis: PmisResource) -> dg.MaterializeResult:
    quarter = context.partition_key
    settings = pmis.settings()
    out_dir = settings.paths.reports / quarter / "phan-hoi"
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.xlsx"):  # a re-materialized quarter replaces its workbooks
        stale.unlink()
    with pmis.build_db() as con:
        units = warehouse.fetch_frame(con, "SELECT * FROM core.units")
        issues = warehouse.fetch_frame(
            con,
            """
            SELECT i.reporting_unit, i.ma_don_vi, u.ten_don_vi, i.ma_cb, s.ho_ten, i.field, i.rule,
                   i.severity, i.message, i.value, f.file_name, i.row_number
            FROM core.record_issues i
            LEFT JOIN core.staff_rows s USING (quarter, submission_id, row_number)
            LEFT JOIN core.submission_files f USING (quarter, submission_id)
            LEFT JOIN core.units u ON u.ma_don_vi = i.ma_don_vi
            WHERE i.quarter = ? ORDER BY i.reporting_unit, i.ma_don_vi, i.ma_cb, i.row_number
            """,
            [quarter],
        )
        counts = warehouse.fetch_frame(
            con,
            """
            SELECT s.reporting_unit, s.ma_don_vi, any_value(u.ten_don_vi) AS ten_don_vi, count(*) AS n_records,
                   count(*) FILTER (WHERE f.has_error) AS n_with_error,
                   count(*) FILTER (WHERE f.has_warning) AS n_with_warning
            FROM core.staff_rows s
            LEFT JOIN core.row_flags f USING (quarter, submission_id, row_number)
            LEFT JOIN core.units u ON u.ma_don_vi = s.ma_don_vi
            WHERE s.quarter = $q GROUP BY ALL ORDER BY 1, 2
            """,
            {"q": quarter},
        )
        lost = warehouse.fetch_frame(con, "SELECT * FROM core.lost_records WHERE quarter = ?", [quarter])
        rejected = warehouse.fetch_frame(
            con,
            "SELECT reporting_unit, file_name, error FROM core.submission_files WHERE quarter = ? AND NOT readable",
            [quarter],
        )
    headers = {f.key: f.header for f in schema.FIELDS}
    written = []
    for unit in units.filter(pl.col("loai") != "truong").iter_rows(named=True):
        code = unit["ma_don_vi"]
        unit_counts = counts.filter(pl.col("reporting_unit") == code)
        unit_issues = issues.filter(pl.col("reporting_unit") == code)
        unit_rejected = rejected.filter(pl.col("reporting_unit") == code)
        if unit_counts.height == 0 and unit_rejected.height == 0:
            continue  # nothing received from this unit: its absence is in the ranking
        path = write_feedback_workbook(
            out_dir / f"{code}.xlsx",
            quarter=quarter,
            reporting_unit=code,
            reporting_unit_name=unit["ten_don_vi"],
            issues=unit_issues.drop("reporting_unit"),
            staff_counts=unit_counts.drop("reporting_unit"),
            lost=lost.filter(pl.col("reporting_unit") == code).select("ma_cb", "ho_ten", "ma_don_vi", "last_quarter"),
            rejected_files=unit_rejected.select("file_name", "error"),
            field_headers=headers,
        )
        written.append((code, unit_issues.height, str(path)))
    table = pl.DataFrame(written, schema=["reporting_unit", "issues", "workbook"], orient="row")
    return dg.MaterializeResult(
        metadata={
            "workbooks": len(written),
            "folder": dg.MetadataValue.path(str(out_dir)),
            "files": dg.MetadataValue.md(md_table(table)),
        }
    )


@dg.asset(
    partitions_def=quarterly_partitions,
    group_name="quality",
    kinds={"excel"},
    deps=[record_issues],
    description=(
        "The Department's review workbook for the quarter (warehouse/reports/YYYY-Qn/ra-soat-YYYY-Qn.xlsx): "
        "catalog proposals (schools declared or used but absent from units.csv, names that disagree; nothing is "
        "added without an operator editing the catalog), rejected files, and each reporting unit's figures."
    ),
)
def department_review(context: dg.AssetExecutionContext, pmis: PmisResource) -> dg.MaterializeResult:
    quarter = context.partition_key
    settings = pmis.settings()
    with pmis.build_db() as con:
        proposals = warehouse.fetch_frame(con, "SELECT * FROM core.catalog_proposals WHERE quarter = ?", [quarter])
        rejected = warehouse.fetch_frame(
            con,
            """SELECT file_name, reporting_unit, received_at, error FROM core.submission_files
               WHERE quarter = ? AND NOT readable ORDER BY received_at""",
            [quarter],
        )
        per_unit = warehouse.fetch_frame(
            con,
            """
            WITH st AS (
                SELECT s.reporting_unit, count(*) AS n_records, count(*) FILTER (WHERE f.has_error) AS n_errors,
                       count(*) FILTER (WHERE f.has_warning) AS n_warnings
                FROM core.staff_rows s LEFT JOIN core.row_flags f USING (quarter, submission_id, row_number)
                WHERE s.quarter = $q GROUP BY 1
            ), lost AS (SELECT reporting_unit, count(*) AS lost_records FROM core.lost_records WHERE quarter = $q GROUP BY 1)
            SELECT u.ma_don_vi AS reporting_unit, u.ten_don_vi, coalesce(n_records, 0) AS n_records,
                   coalesce(n_errors, 0) AS n_errors, coalesce(n_warnings, 0) AS n_warnings,
                   coalesce(lost_records, 0) AS lost_records
            FROM core.units u LEFT JOIN st ON st.reporting_unit = u.ma_don_vi
            LEFT JOIN lost ON lost.reporting_unit = u.ma_don_vi
            WHERE u.loai IN ('phong', 'truc_thuoc') ORDER BY u.loai, u.ma_don_vi
            """,
            {"q": quarter},
        )
    path = write_department_review(
        settings.paths.reports / quarter / f"ra-soat-{quarter}.xlsx",
        quarter=quarter,
        proposals=proposals,
        rejected_files=rejected,
        units=per_unit,
    )
    return dg.MaterializeResult(
        metadata={
            "workbook": dg.MetadataValue.path(str(path)),
            "catalog_proposals": proposals.height,
            "rejected_files": rejected.height,
            "proposals": dg.MetadataValue.md(md_table(proposals.drop("quarter"))),
        }
    )

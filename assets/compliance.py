"""Compliance ranking and payment statements: what the Department announces and pays."""

import dagster as dg
import polars as pl

from assets.partitions import quarterly_partitions
from assets.quality import record_issues
from assets.resources import PmisResource
from pmis_pipeline import warehouse
from pmis_pipeline.compliance import unit_compliance as compute_compliance
from pmis_pipeline.documents.announcement import write_announcement
from pmis_pipeline.documents.payments import write_district_contracts, write_payment_summary, write_receipt_list
from pmis_pipeline.markdown import md_table
from pmis_pipeline.payments import paid_records, payment_lines
from pmis_pipeline.quarters import Quarter, deadline_for, read_deadline_overrides


@dg.asset(
    partitions_def=quarterly_partitions,
    group_name="compliance",
    kinds={"duckdb", "excel"},
    deps=[record_issues],
    description=(
        "Every reporting unit of the catalog for the quarter (submitted or not): first receipt, days "
        "late, completeness, accuracy, photo coverage, lost records, score and rank per group; and the "
        "announcement workbook 'Thông báo kết quả cập nhật dữ liệu PMIS' (A4) in warehouse/reports/YYYY-Qn/."
    ),
)
def unit_compliance(context: dg.AssetExecutionContext, pmis: PmisResource) -> dg.MaterializeResult:
    quarter = context.partition_key
    settings = pmis.settings()
    deadline = deadline_for(
        Quarter.parse_key(quarter), settings.config["calendar"]["deadlines"], read_deadline_overrides(settings.paths.deadlines_csv)
    )
    with pmis.build_db() as con:
        table = compute_compliance(con, quarter, deadline, settings.section("scoring"))
        warehouse.replace_quarter(con, quarter, {"unit_compliance": table})
    out = settings.paths.reports / quarter / f"thong-bao-ket-qua-{quarter}.xlsx"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_announcement(out, quarter=quarter, compliance=table)
    shown = table.select(
        "loai", "rank", "reporting_unit", "days_late", "n_records", "completeness_pct", "accuracy_pct",
        "photo_pct", "lost_records", "score",
    )
    submitted = table.filter(pl.col("submitted"))
    return dg.MaterializeResult(
        metadata={
            "deadline": str(deadline),
            "reporting_units": table.height,
            "submitted": submitted.height,
            "not_submitted": table.height - submitted.height,
            "late": int((submitted["days_late"] > 0).sum()),
            "mean_score": round(float(table["score"].mean() or 0), 2),
            "mean_completeness_pct": round(float(submitted["completeness_pct"].mean() or 0), 2),
            "mean_accuracy_pct": round(float(submitted["accuracy_pct"].mean() or 0), 2),
            "mean_photo_pct": round(float(submitted["photo_pct"].mean() or 0), 2),
            "lost_records": int(table["lost_records"].sum()),
            "ranking": dg.MetadataValue.md(md_table(shown)),
            "announcement": dg.MetadataValue.path(str(out)),
        }
    )


@dg.asset(
    partitions_def=quarterly_partitions,
    group_name="compliance",
    kinds={"duckdb", "excel"},
    deps=[record_issues],
    description=(
        "Payment lines of the SREM data-entry funding for the quarter (each record paid once a year, in "
        "the first quarter it stands accepted with no error) and the documents: contracts and liquidation "
        "minutes for district offices, the signed receipt list of direct units, the Department summary."
    ),
)
def payments(context: dg.AssetExecutionContext, pmis: PmisResource) -> dg.MaterializeResult:
    quarter = context.partition_key
    settings = pmis.settings()
    with pmis.build_db() as con:
        units = warehouse.fetch_frame(con, "SELECT * FROM core.units")
        paid = paid_records(con, quarter)
        lines = payment_lines(paid, units, quarter, settings.section("payments"))
        warehouse.replace_quarter(con, quarter, {"paid_records": paid, "payments": lines})
        officers = dict(
            con.execute(
                """
                SELECT reporting_unit, arg_max(prepared_by, received_at) FROM core.submission_files
                WHERE quarter = ? AND readable AND prepared_by IS NOT NULL GROUP BY 1
                """,
                [quarter],
            ).fetchall()
        )
    folder = settings.paths.reports / quarter / "thanh-toan"
    folder.mkdir(parents=True, exist_ok=True)
    docs = {
        "contracts": write_district_contracts(folder / f"hop-dong-thanh-ly-{quarter}.xlsx", quarter=quarter, lines=lines),
        "receipt_list": write_receipt_list(folder / f"danh-sach-ky-nhan-{quarter}.xlsx", quarter=quarter, lines=lines, officers=officers),
        "summary": write_payment_summary(folder / f"tong-hop-kinh-phi-{quarter}.xlsx", quarter=quarter, lines=lines),
    }
    by_type = lines.group_by("payee_type").agg(pl.col("amount_vnd").sum()).sort("payee_type")
    return dg.MaterializeResult(
        metadata={
            "paid_records": paid.height,
            "total_vnd": int(lines["amount_vnd"].sum()),
            **{f"total_{r['payee_type']}_vnd": int(r["amount_vnd"]) for r in by_type.iter_rows(named=True)},
            "lines": dg.MetadataValue.md(md_table(lines.drop("quarter"))),
            **{name: dg.MetadataValue.path(str(path)) for name, path in docs.items()},
        }
    )

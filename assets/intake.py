"""Intake assets: the quarter's files -> archive -> ``submissions`` -> ``staff``."""


import time

import dagster as dg
import polars as pl

from assets.partitions import quarterly_partitions
from assets.resources import PmisResource
from pmis_pipeline import warehouse
from pmis_pipeline.catalog import read_units
from pmis_pipeline.intake import ingest_quarter
from pmis_pipeline.markdown import md_table


@dg.asset(
    partitions_def=quarterly_partitions,
    group_name="intake",
    kinds={"duckdb", "excel"},
    description=(
        "Every file received for the quarter (inbox/YYYY-Qn/), archived by sha256 and read: "
        "ThongTin validated, HoSo records normalised. Writes core.submission_files, core.records, "
        "core.photos and core.declared_units for the quarter in one transaction."
    ),
)
def submissions(context: dg.AssetExecutionContext, pmis: PmisResource) -> dg.MaterializeResult:
    quarter = context.partition_key
    settings = pmis.settings()
    units = read_units(settings.paths.units_csv)
    archive = pmis.archive()
    registered = archive.register_folder(settings.paths.inbox / quarter, quarter)
    for warning in registered.warnings:
        context.log.warning(warning)
    started = time.perf_counter()
    intake = ingest_quarter(archive, quarter, units, progress=context.log.info)
    elapsed = time.perf_counter() - started
    with pmis.build_db() as con:
        warehouse.replace_units(con, units)
        warehouse.replace_quarter(
            con,
            quarter,
            {
                "submission_files": intake.submissions,
                "records": intake.records,
                "photos": intake.photos,
                "declared_units": intake.declared_units,
            },
        )
    subs = intake.submissions
    n_records = intake.records.height
    table = subs.select(
        "file_name",
        pl.col("reporting_unit").fill_null("—"),
        pl.col("received_at").dt.strftime("%Y-%m-%d %H:%M"),
        pl.col("n_records"),
        pl.col("error").fill_null("").str.slice(0, 120),
    ).sort("file_name")
    return dg.MaterializeResult(
        metadata={
            "files": len(subs),
            "new_files": registered.new_files,
            "rejected_files": intake.n_rejected,
            "records_read": n_records,
            "photos": intake.photos.height,
            "intake_seconds": round(elapsed, 2),
            "rows_per_second": round(n_records / elapsed) if elapsed else 0,
            "files_table": dg.MetadataValue.md(md_table(table)),
        }
    )


@dg.asset(
    partitions_def=quarterly_partitions,
    group_name="intake",
    kinds={"duckdb"},
    deps=[submissions],
    description=(
        "The quarter's staff after re-submissions are resolved: for each (reporting unit, school) "
        "the latest received file wins. Fills core.staff_rows and each file's status "
        "(accepted / superseded / rejected)."
    ),
)
def staff(context: dg.AssetExecutionContext, pmis: PmisResource) -> dg.MaterializeResult:
    quarter = context.partition_key
    with pmis.build_db() as con:
        counts = warehouse.resolve_quarter(con, quarter)
        per_unit = warehouse.fetch_frame(
            con,
            """
            SELECT reporting_unit, count(*) AS records, count(*) FILTER (WHERE is_complete) AS complete,
                   count(*) FILTER (WHERE has_photo) AS with_photo
            FROM core.staff_rows WHERE quarter = ? GROUP BY 1 ORDER BY 1
            """,
            [quarter],
        )
    return dg.MaterializeResult(
        metadata={
            "staff_rows": counts["staff"],
            "reporting_units": per_unit.height,
            "accepted_files": counts["accepted"],
            "superseded_files": counts["superseded"],
            "rejected_files": counts["rejected"],
            "per_reporting_unit": dg.MetadataValue.md(md_table(per_unit)),
        }
    )

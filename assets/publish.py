"""Publishing the analysts' read-only file."""


import dagster as dg

from assets.compliance import payments, unit_compliance
from assets.partitions import quarterly_partitions
from assets.quality import department_review, feedback_workbooks
from assets.resources import PmisResource
from pmis_pipeline import warehouse

#: Assets whose tables the published file must include.
PUBLISHED_AFTER = [feedback_workbooks, department_review, unit_compliance, payments]


@dg.asset(
    partitions_def=quarterly_partitions,
    group_name="warehouse",
    kinds={"duckdb"},
    deps=PUBLISHED_AFTER,
    description=(
        "Copies the build database to data/warehouse/pmis.duckdb with an atomic rename, so "
        "analysts always open a complete, consistent file (read-only) and never block a run."
    ),
)
def analyst_warehouse(context: dg.AssetExecutionContext, pmis: PmisResource) -> dg.MaterializeResult:
    paths = pmis.settings().paths
    target = warehouse.publish(paths.build_db, paths.published_db)
    with warehouse.connect(target, read_only=True) as con:
        staff_rows, quarters = con.execute("SELECT count(*), count(DISTINCT quarter) FROM staff").fetchone()
    context.log.info(f"published {target}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(target)),
            "size_mb": round(target.stat().st_size / 1e6, 2),
            "staff_rows_all_quarters": staff_rows,
            "quarters_loaded": quarters,
        }
    )

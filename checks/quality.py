"""Asset checks of data quality, per quarter partition.

None of these blocks: a province with incomplete records must still be
ranked and told what to fix. They warn (or, for duplicates, error) with the
figures and the worst units in their metadata.
"""

import dagster as dg
import polars as pl

from assets.intake import staff
from assets.quality import record_issues
from assets.resources import PmisResource
from pmis_pipeline import warehouse
from pmis_pipeline.markdown import md_table

WORST = 5


def _per_unit(con, quarter: str) -> pl.DataFrame:
    return warehouse.fetch_frame(
        con,
        """
        SELECT s.reporting_unit, count(*) AS records,
               round(100.0 * sum(s.filled_required) / nullif(sum(s.required_cells), 0), 2) AS completeness_pct,
               round(100.0 * count(*) FILTER (WHERE NOT coalesce(f.has_error, FALSE)) / count(*), 2) AS accuracy_pct
        FROM core.staff_rows s LEFT JOIN core.row_flags f USING (quarter, submission_id, row_number)
        WHERE s.quarter = $q GROUP BY 1
        """,
        {"q": quarter},
    )


@dg.asset_check(
    asset=staff,
    description="Completeness: filled required cells / required cells over the province's records (conditional "
    "requirements only where they apply). Warns below [checks] min_completeness_pct.",
)
def completeness(context: dg.AssetCheckExecutionContext, pmis: PmisResource) -> dg.AssetCheckResult:
    quarter = context.partition_key
    threshold = float(pmis.settings().section("checks")["min_completeness_pct"])
    with pmis.build_db() as con:
        filled, required, complete, n = con.execute(
            """SELECT coalesce(sum(filled_required), 0), coalesce(sum(required_cells), 0),
                      count(*) FILTER (WHERE is_complete), count(*)
               FROM core.staff_rows WHERE quarter = ?""",
            [quarter],
        ).fetchone()
        units = _per_unit(con, quarter)
    pct = round(100.0 * filled / required, 2) if required else 0.0
    return dg.AssetCheckResult(
        passed=n > 0 and pct >= threshold,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "completeness_pct": pct,
            "threshold_pct": threshold,
            "complete_records": complete,
            "records": n,
            "worst_units": dg.MetadataValue.md(md_table(units.sort("completeness_pct").head(WORST).select("reporting_unit", "records", "completeness_pct"))),
        },
    )


@dg.asset_check(
    asset=record_issues,
    description="Accuracy: records with no error / records. Warns below [checks] min_accuracy_pct.",
)
def accuracy(context: dg.AssetCheckExecutionContext, pmis: PmisResource) -> dg.AssetCheckResult:
    quarter = context.partition_key
    threshold = float(pmis.settings().section("checks")["min_accuracy_pct"])
    with pmis.build_db() as con:
        units = _per_unit(con, quarter)
        by_rule = warehouse.fetch_frame(
            con,
            "SELECT rule, severity, count(*) AS issues FROM core.record_issues WHERE quarter = ? GROUP BY ALL ORDER BY 3 DESC",
            [quarter],
        )
    n = int(units["records"].sum() or 0)
    valid = float((units["records"] * units["accuracy_pct"] / 100).sum() or 0)
    pct = round(100.0 * valid / n, 2) if n else 0.0
    return dg.AssetCheckResult(
        passed=n > 0 and pct >= threshold,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "accuracy_pct": pct,
            "threshold_pct": threshold,
            "records": n,
            "by_rule": dg.MetadataValue.md(md_table(by_rule)),
            "worst_units": dg.MetadataValue.md(md_table(units.sort("accuracy_pct").head(WORST).select("reporting_unit", "records", "accuracy_pct"))),
        },
    )


@dg.asset_check(
    asset=record_issues,
    description="Duplicated persons: a mã cán bộ twice in a unit, or sent by two reporting units. Fails with "
    "severity ERROR (each copy carries an error and is not paid) but does not block.",
)
def duplicates(context: dg.AssetCheckExecutionContext, pmis: PmisResource) -> dg.AssetCheckResult:
    quarter = context.partition_key
    frame = pmis.frame(
        """SELECT rule, reporting_unit, count(DISTINCT ma_cb) AS persons, count(*) AS rows
           FROM core.record_issues WHERE quarter = ? AND rule IN ('duplicate_ma_cb', 'duplicate_across_units')
           GROUP BY ALL ORDER BY persons DESC""",
        [quarter],
    )
    return dg.AssetCheckResult(
        passed=frame.height == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "duplicated_persons": int(frame["persons"].sum() or 0),
            "duplicated_rows": int(frame["rows"].sum() or 0),
            "by_unit": dg.MetadataValue.md(md_table(frame)),
        },
    )


@dg.asset_check(
    asset=record_issues,
    description="Lost data: persons working in a unit last quarter who appear nowhere in the province now. "
    "Warns; the units find them by name in their feedback workbooks.",
)
def lost_records(context: dg.AssetCheckExecutionContext, pmis: PmisResource) -> dg.AssetCheckResult:
    quarter = context.partition_key
    frame = pmis.frame(
        "SELECT reporting_unit, count(*) AS lost FROM core.lost_records WHERE quarter = ? GROUP BY 1 ORDER BY 2 DESC",
        [quarter],
    )
    return dg.AssetCheckResult(
        passed=frame.height == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"lost_records": int(frame["lost"].sum() or 0), "units": frame.height, "worst_units": dg.MetadataValue.md(md_table(frame.head(WORST)))},
    )


@dg.asset_check(
    asset=record_issues,
    description="The Great Expectations column suite (built from the schema) on the quarter's records: "
    "every expectation with its unexpected count. Warns when any fails.",
)
def expectations(context: dg.AssetCheckExecutionContext, pmis: PmisResource) -> dg.AssetCheckResult:
    quarter = context.partition_key
    frame = pmis.frame(
        """SELECT expectation, "column", success, unexpected_count, element_count
           FROM core.expectation_results WHERE quarter = ? ORDER BY success, unexpected_count DESC""",
        [quarter],
    )
    failed = frame.filter(~pl.col("success"))
    return dg.AssetCheckResult(
        passed=frame.height > 0 and failed.height == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "expectations": frame.height,
            "failed": failed.height,
            "results": dg.MetadataValue.md(md_table(frame)),
        },
    )

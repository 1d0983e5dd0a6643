"""Asset checks of the intake: files that could not be used, and the integrity of ``staff``."""

import dagster as dg
import polars as pl

from assets.intake import staff, submissions
from assets.resources import PmisResource
from pmis_pipeline import warehouse
from pmis_pipeline.markdown import md_table


@dg.asset_check(
    asset=submissions,
    description="Files of the quarter that could not be used (rejected), with the reason. Warns; never blocks: "
    "the other files load and the unit is told in its feedback workbook.",
)
def rejected_files(context: dg.AssetCheckExecutionContext, pmis: PmisResource) -> dg.AssetCheckResult:
    quarter = context.partition_key
    with pmis.build_db() as con:
        frame = warehouse.fetch_frame(
            con,
            "SELECT file_name, reporting_unit, error FROM core.submission_files WHERE quarter = ? AND NOT readable ORDER BY 1",
            [quarter],
        )
        total = con.execute("SELECT count(*) FROM core.submission_files WHERE quarter = ?", [quarter]).fetchone()[0]
    return dg.AssetCheckResult(
        passed=frame.height == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"rejected_files": frame.height, "files": total, "rejected": dg.MetadataValue.md(md_table(frame))},
    )


@dg.asset_check(
    asset=staff,
    blocking=True,
    description="Integrity of the resolution: no staff row comes from a superseded or rejected file, every "
    "accepted file with records contributes rows, and no (reporting unit, school) comes from two files. "
    "Blocks downstream assets: a wrong resolution would mis-rank and mis-pay.",
)
def staff_resolution(context: dg.AssetCheckExecutionContext, pmis: PmisResource) -> dg.AssetCheckResult:
    quarter = context.partition_key
    with pmis.build_db() as con:
        from_wrong = con.execute(
            """SELECT count(*) FROM core.staff_rows s JOIN core.submission_status st USING (quarter, submission_id)
               WHERE s.quarter = ? AND st.status <> 'accepted'""",
            [quarter],
        ).fetchone()[0]
        silent = warehouse.fetch_frame(
            con,
            """SELECT f.file_name FROM core.submission_files f JOIN core.submission_status st USING (quarter, submission_id)
               WHERE f.quarter = $q AND st.status = 'accepted' AND f.n_records > 0
                 AND NOT EXISTS (SELECT 1 FROM core.staff_rows s WHERE s.quarter = $q AND s.submission_id = f.submission_id)""",
            {"q": quarter},
        )
        split = con.execute(
            """SELECT count(*) FROM (SELECT reporting_unit, ma_don_vi FROM core.staff_rows WHERE quarter = ?
               GROUP BY ALL HAVING count(DISTINCT submission_id) > 1)""",
            [quarter],
        ).fetchone()[0]
    return dg.AssetCheckResult(
        passed=from_wrong == 0 and silent.height == 0 and split == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "rows_from_non_accepted_files": from_wrong,
            "accepted_files_without_rows": silent.height,
            "schools_from_two_files": split,
        },
    )

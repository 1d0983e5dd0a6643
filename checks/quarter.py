"""The quarter's asset checks, evaluated inside the quarter's transaction.

The ``quarter_warehouse`` step builds a quarter in one DuckDB transaction and
evaluates these checks on the same connection before it commits, so the
quarter's ``core.quarter_state`` records whether its blocking checks passed
(only such quarters are published, and only their documents are written).

Blocking (severity ERROR, downstream documents and publishing stop):
``staff_resolution`` and ``payments_consistent``. The others warn (or, for
duplicates, report an ERROR without blocking): a province with incomplete
records must still be ranked and told what to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
import duckdb
import polars as pl

from assets.partitions import quarterly_partitions
from pmis_pipeline import warehouse
from pmis_pipeline.markdown import md_table
from pmis_pipeline.payments import SO_PAYEE
from pmis_pipeline.quarters import Quarter
from pmis_pipeline.settings import Settings

WORST = 5
Evaluate = Callable[[duckdb.DuckDBPyConnection, str, Settings], dg.AssetCheckResult]


@dataclass(frozen=True)
class QuarterCheck:
    asset: str
    name: str
    blocking: bool
    description: str
    evaluate: Evaluate

    @property
    def spec(self) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(
            self.name,
            asset=self.asset,
            blocking=self.blocking,
            description=self.description,
            partitions_def=quarterly_partitions,
        )


def _one(con: duckdb.DuckDBPyConnection, sql: str, params) -> tuple:
    return con.execute(sql, params).fetchone()


def rejected_files(con, quarter, settings) -> dg.AssetCheckResult:
    frame = warehouse.fetch_frame(
        con,
        "SELECT file_name, reporting_unit, error FROM core.submission_files WHERE quarter = ? AND NOT readable ORDER BY 1",
        [quarter],
    )
    (total,) = _one(con, "SELECT count(*) FROM core.submission_files WHERE quarter = ?", [quarter])
    return dg.AssetCheckResult(
        passed=frame.height == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"rejected_files": frame.height, "files": total, "rejected": dg.MetadataValue.md(md_table(frame))},
    )


def staff_resolution(con, quarter, settings) -> dg.AssetCheckResult:
    (from_wrong,) = _one(
        con,
        """SELECT count(*) FROM core.staff_rows s JOIN core.submission_status st USING (quarter, submission_id)
           WHERE s.quarter = ? AND st.status <> 'accepted'""",
        [quarter],
    )
    silent = warehouse.fetch_frame(
        con,
        """SELECT f.file_name FROM core.submission_files f JOIN core.submission_status st USING (quarter, submission_id)
           WHERE f.quarter = $q AND st.status = 'accepted' AND f.n_records > 0
             AND NOT EXISTS (SELECT 1 FROM core.staff_rows s WHERE s.quarter = $q AND s.submission_id = f.submission_id)""",
        {"q": quarter},
    )
    (split_school,) = _one(
        con,
        """SELECT count(*) FROM (SELECT reporting_unit, ma_don_vi FROM core.staff_rows WHERE quarter = ?
           GROUP BY ALL HAVING count(DISTINCT submission_id) > 1)""",
        [quarter],
    )
    (split_person,) = _one(
        con,
        """SELECT count(*) FROM (SELECT reporting_unit, ma_cb FROM core.staff_rows WHERE quarter = ? AND ma_cb IS NOT NULL
           GROUP BY ALL HAVING count(DISTINCT submission_id) > 1)""",
        [quarter],
    )
    return dg.AssetCheckResult(
        passed=from_wrong == 0 and silent.height == 0 and split_school == 0 and split_person == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "rows_from_non_accepted_files": from_wrong,
            "accepted_files_without_rows": silent.height,
            "schools_from_two_files": split_school,
            "persons_from_two_files": split_person,
        },
    )


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


def completeness(con, quarter, settings) -> dg.AssetCheckResult:
    threshold = settings.model.checks.min_completeness_pct
    filled, required, complete, n = _one(
        con,
        """SELECT coalesce(sum(filled_required), 0), coalesce(sum(required_cells), 0),
                  count(*) FILTER (WHERE is_complete), count(*)
           FROM core.staff_rows WHERE quarter = ?""",
        [quarter],
    )
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
            "worst_units": dg.MetadataValue.md(
                md_table(units.sort("completeness_pct").head(WORST).select("reporting_unit", "records", "completeness_pct"))
            ),
        },
    )


def accuracy(con, quarter, settings) -> dg.AssetCheckResult:
    threshold = settings.model.checks.min_accuracy_pct
    units = _per_unit(con, quarter)
    by_rule = warehouse.fetch_frame(
        con,
        "SELECT rule, severity, count(*) AS issues FROM core.record_issues WHERE quarter = ? GROUP BY ALL ORDER BY 3 DESC, 1",
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
            "worst_units": dg.MetadataValue.md(
                md_table(units.sort("accuracy_pct").head(WORST).select("reporting_unit", "records", "accuracy_pct"))
            ),
        },
    )


def duplicates(con, quarter, settings) -> dg.AssetCheckResult:
    frame = warehouse.fetch_frame(
        con,
        """SELECT rule, reporting_unit, count(DISTINCT ma_cb) AS persons, count(*) AS rows
           FROM core.record_issues WHERE quarter = ? AND rule IN ('duplicate_ma_cb', 'duplicate_across_units')
           GROUP BY ALL ORDER BY persons DESC, reporting_unit""",
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


def lost_records(con, quarter, settings) -> dg.AssetCheckResult:
    frame = warehouse.fetch_frame(
        con,
        "SELECT reporting_unit, count(*) AS lost FROM core.lost_records WHERE quarter = ? GROUP BY 1 ORDER BY 2 DESC, 1",
        [quarter],
    )
    return dg.AssetCheckResult(
        passed=frame.height == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "lost_records": int(frame["lost"].sum() or 0),
            "units": frame.height,
            "worst_units": dg.MetadataValue.md(md_table(frame.head(WORST))),
        },
    )


def expectations(con, quarter, settings) -> dg.AssetCheckResult:
    frame = warehouse.fetch_frame(
        con,
        """SELECT expectation, "column", success, unexpected_count, element_count
           FROM core.expectation_results WHERE quarter = ? ORDER BY success, unexpected_count DESC, 1, 2""",
        [quarter],
    )
    failed = frame.filter(~pl.col("success"))
    return dg.AssetCheckResult(
        passed=frame.height > 0 and failed.height == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"expectations": frame.height, "failed": failed.height, "results": dg.MetadataValue.md(md_table(frame))},
    )


def payment_problems(con: duckdb.DuckDBPyConnection, quarter: str) -> tuple[list[str], pl.DataFrame, int]:
    """(problems, lines, records paid twice in the year up to this quarter) of the
    quarter's payments. Later quarters of the year are not counted: they read
    this one and are rebuilt after it."""
    year = Quarter.parse_key(quarter).year
    lines = warehouse.fetch_frame(con, "SELECT * FROM core.payments WHERE quarter = ?", [quarter])
    (paid_twice,) = _one(
        con,
        """SELECT count(*) FROM (SELECT ma_cb FROM core.paid_records WHERE quarter LIKE ? || '-Q_' AND quarter <= ?
           GROUP BY 1 HAVING count(*) > 1)""",
        [str(year), quarter],
    )
    paid_by_type = dict(
        con.execute("SELECT loai, count(*) FROM core.paid_records WHERE quarter = ? GROUP BY 1", [quarter]).fetchall()
    )
    problems: list[str] = []
    wrong = lines.filter(pl.col("amount_vnd") != pl.col("n_records") * pl.col("rate_vnd"))
    if wrong.height:
        problems.append(f"{wrong.height} lines where amount != n x rate")
    so = {r["item"]: r["n_records"] for r in lines.filter(pl.col("payee") == SO_PAYEE).iter_rows(named=True)}
    for item, loai in (("tong_hop_phong", "phong"), ("tong_hop_truc_thuoc", "truc_thuoc")):
        units_n = int(lines.filter((pl.col("payee_type") == loai) & (pl.col("item") == "nhap_lieu"))["n_records"].sum() or 0)
        if so.get(item) != units_n or units_n != paid_by_type.get(loai, 0):
            problems.append(f"{item}: Department {so.get(item)} records, units {units_n}, paid {paid_by_type.get(loai, 0)}")
    if paid_twice:
        problems.append(f"{paid_twice} records paid twice in {year}")
    return problems, lines, paid_twice


def payments_consistent(con, quarter, settings) -> dg.AssetCheckResult:
    problems, lines, paid_twice = payment_problems(con, quarter)
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "total_vnd": int(lines["amount_vnd"].sum() or 0),
            "lines": lines.height,
            "records_paid_twice": paid_twice,
            "problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems) or "none"),
        },
    )


def plausible_counts(con, quarter, settings) -> dg.AssetCheckResult:
    holds = warehouse.fetch_frame(con, "SELECT * FROM core.payment_holds WHERE quarter = ? ORDER BY reporting_unit", [quarter])
    held = holds.filter(~pl.col("confirmed"))
    return dg.AssetCheckResult(
        passed=held.height == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "units_held": held.height,
            "units_confirmed": holds.height - held.height,
            "records_held": int(held["n_records"].sum() or 0),
            "holds": dg.MetadataValue.md(md_table(holds.drop("quarter"))),
        },
    )


QUARTER_CHECKS: tuple[QuarterCheck, ...] = (
    QuarterCheck(
        "submissions", "rejected_files", False,
        "Files of the quarter that could not be used (rejected), with the reason. Warns; never blocks: "
        "the other files load and the unit is told in its feedback workbook.",
        rejected_files,
    ),
    QuarterCheck(
        "staff", "staff_resolution", True,
        "Integrity of the resolution: no staff row comes from a superseded or rejected file, every accepted file "
        "with records contributes rows, no (reporting unit, school) and no (reporting unit, person) comes from two "
        "files. Blocks documents and publishing: a wrong resolution would mis-rank and mis-pay.",
        staff_resolution,
    ),
    QuarterCheck(
        "staff", "completeness", False,
        "Completeness: filled required cells / required cells over the province's records (conditional "
        "requirements only where they apply). Warns below [checks] min_completeness_pct.",
        completeness,
    ),
    QuarterCheck(
        "record_issues", "accuracy", False,
        "Accuracy: records with no error / records. Warns below [checks] min_accuracy_pct.",
        accuracy,
    ),
    QuarterCheck(
        "record_issues", "duplicates", False,
        "Duplicated persons: a mã cán bộ twice in a unit, or sent by two reporting units. Fails with severity "
        "ERROR (each copy carries an error and is not paid) but does not block.",
        duplicates,
    ),
    QuarterCheck(
        "record_issues", "lost_records", False,
        "Lost data: persons working in a unit last quarter who appear nowhere in the province now. Warns; the "
        "units find them by name in their feedback workbooks.",
        lost_records,
    ),
    QuarterCheck(
        "record_issues", "expectations", False,
        "The Great Expectations column suite (built from the schema) on the quarter's records: every "
        "expectation with its unexpected count. Warns when any fails.",
        expectations,
    ),
    QuarterCheck(
        "payments", "plausible_counts", False,
        "Record counts are plausible: a unit whose count jumps far beyond its previous quarter (or beyond what its "
        "schools could employ) has its payment held until the Department confirms the count in "
        "catalog/payment_confirmations.csv. Warns; the rest of the quarter is paid.",
        plausible_counts,
    ),
    QuarterCheck(
        "payments", "payments_consistent", True,
        "Payments are consistent: every line is n x rate; the Department's lines equal the records paid to "
        "district offices and direct units; no record is paid twice in a calendar year. Blocks the payment "
        "documents and publishing: the Department signs these.",
        payments_consistent,
    ),
)


def evaluate_quarter_checks(
    con: duckdb.DuckDBPyConnection, quarter: str, settings: Settings
) -> list[tuple[QuarterCheck, dg.AssetCheckResult]]:
    """Every quarter check, each result addressed to its asset and check name."""
    out = []
    for c in QUARTER_CHECKS:
        result = c.evaluate(con, quarter, settings)
        out.append((c, result._replace(asset_key=dg.AssetKey(c.asset), check_name=c.name)))
    return out

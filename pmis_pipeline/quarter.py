"""One quarter, from the archive to payments, as plain functions.

:func:`read_quarter` archives the settled inbox files and reads every file
version ever handed over (no database); :func:`load_quarter` then writes the
whole quarter (submissions, resolved staff, issues, ranking, payments) inside
the caller's transaction, so the quarter changes all at once or not at all.
The Dagster asset ``quarter_warehouse`` calls both; so can a rebuild from the
archive.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import duckdb
import polars as pl

from pmis_pipeline import crosscheck, quality, rules, warehouse
from pmis_pipeline.archive import Archive, RegisterSummary, read_receipts
from pmis_pipeline.catalog import read_units
from pmis_pipeline.compliance import unit_compliance
from pmis_pipeline.inputs import RECEIPTS_FILE, quarter_deadline, quarter_folders, settled_inbox, short_hash
from pmis_pipeline.intake import QuarterIntake, ingest_quarter
from pmis_pipeline.isolation import IntakeLimits
from pmis_pipeline.payments import paid_records, payment_lines
from pmis_pipeline.plausibility import held_units, read_confirmations
from pmis_pipeline.readcache import read_cache
from pmis_pipeline.settings import Settings

Progress = Callable[[str], None]

#: The quarter's tables behind each asset of the quarter (for data versions).
ASSET_TABLES: dict[str, tuple[str, ...]] = {
    "submissions": ("submission_files", "photos", "declared_units"),
    "staff": ("staff_rows", "submission_status"),
    "record_issues": ("record_issues", "lost_records", "catalog_proposals", "expectation_results"),
    "unit_compliance": ("unit_compliance",),
    "payments": ("payments", "paid_records", "payment_holds"),
}


@dataclass
class QuarterRead:
    quarter: str
    units: pl.DataFrame
    registered: RegisterSummary
    intake: QuarterIntake
    waiting: list[str]  # files not yet settled (still being copied)
    seconds: float


@dataclass
class QuarterLoad:
    quarter: str
    resolution: dict[str, int]
    issues: pl.DataFrame
    gx_summary: list[dict]
    lost: pl.DataFrame
    proposals: pl.DataFrame
    deadline: date
    compliance: pl.DataFrame
    paid: pl.DataFrame
    lines: pl.DataFrame
    holds: pl.DataFrame  # implausible record counts: held unless confirmed
    seconds: dict[str, float] = field(default_factory=dict)


def read_quarter(settings: Settings, quarter: str, progress: Progress | None = None) -> QuarterRead:
    """Archive the quarter's settled inbox files, then read every version ever
    received for it from the archive (a version already read comes from the
    read cache, :mod:`pmis_pipeline.readcache`)."""
    started = time.perf_counter()
    units = read_units(settings.paths.units_csv)
    archive = Archive(settings.paths.archive, settings.tz)
    settled, waiting = settled_inbox(settings, quarter)
    receipts: dict = {}
    notes: list[str] = []
    for folder in quarter_folders(settings.paths.inbox).get(quarter, []):
        found, warnings = read_receipts(folder / RECEIPTS_FILE)
        receipts.update(found)
        notes += warnings
    notes += [f"{f.name}: tệp mới sửa hoặc đang chép; sẽ đọc khi đã ổn định" for f in waiting]
    registered = archive.register(quarter, settled, receipts, notes)
    limits = IntakeLimits.from_config(settings.section("intake"))
    cache = read_cache(settings.paths.warehouse, limits)
    intake = ingest_quarter(archive, quarter, units, progress=progress, limits=limits, cache=cache)
    return QuarterRead(quarter, units, registered, intake, [f.name for f in waiting], time.perf_counter() - started)


def load_quarter(con: duckdb.DuckDBPyConnection, settings: Settings, read: QuarterRead, gx: Callable) -> QuarterLoad:
    """Write the quarter's tables (inside the caller's transaction).

    ``gx(frame) -> (row failures, summary)`` runs the Great Expectations suite
    (it lives with the checks)."""
    quarter = read.quarter
    timings: dict[str, float] = {}

    def timed(name: str, started: float) -> None:
        timings[name] = round(time.perf_counter() - started, 3)

    t = time.perf_counter()
    warehouse.replace_units(con, read.units)
    warehouse.replace_quarter(
        con,
        quarter,
        {
            "submission_files": read.intake.submissions,
            "records": read.intake.records,
            "photos": read.intake.photos,
            "declared_units": read.intake.declared_units,
        },
    )
    resolution = warehouse.resolve_quarter(con, quarter)
    timed("load_and_resolve", t)

    t = time.perf_counter()
    frame = quality.quarter_staff(con, quarter)
    gx_failures, gx_summary = gx(frame)
    issues = quality.combine_issues(
        [
            rules.record_issues(frame, quarter, read.units, settings.section("rules")),
            quality.sql_issues(con, quarter),
            quality.gx_failures_to_issues(gx_failures, frame),
        ]
    )
    lost = crosscheck.lost_records(con, quarter)
    standards = frame.select(
        "quarter", "submission_id", "row_number",
        rules.qualification_standard(frame, read.units).alias("qualification_standard"),
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
    timed("quality", t)

    t = time.perf_counter()
    deadline = quarter_deadline(settings, quarter)
    compliance = unit_compliance(con, quarter, deadline, settings.section("scoring"))
    warehouse.replace_confirmations(con, read_confirmations(settings.paths.confirmations_csv))
    plausibility = settings.section("plausibility")
    holds = held_units(con, quarter, plausibility)
    paid = paid_records(con, quarter, plausibility)
    units = warehouse.fetch_frame(con, "SELECT * FROM core.units")
    lines = payment_lines(paid, units, quarter, settings.section("payments"))
    warehouse.replace_quarter(
        con, quarter, {"unit_compliance": compliance, "paid_records": paid, "payments": lines, "payment_holds": holds}
    )
    timed("ranking_and_payments", t)
    return QuarterLoad(
        quarter, resolution, issues, gx_summary, lost, proposals, deadline, compliance, paid, lines, holds, timings
    )


def data_versions(con: duckdb.DuckDBPyConnection, quarter: str) -> dict[str, str]:
    """A content hash of each asset's tables for the quarter: a quarter rebuilt
    to the same content keeps its versions, so later quarters stay fresh."""
    out = {}
    for asset, tables in ASSET_TABLES.items():
        parts = []
        for table in tables:
            n, h = con.execute(f"SELECT count(*), sum(hash(t)::HUGEINT) FROM core.{table} t WHERE quarter = ?", [quarter]).fetchone()
            parts.append(f"{table}:{n}:{h or 0}")
        out[asset] = short_hash(*parts)
    return out

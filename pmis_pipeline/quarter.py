"""One quarter, from the archive to payments, as plain functions.

:func:`read_quarter` archives the settled inbox files and prepares the
reading of every file version ever handed over (no database);
:func:`load_quarter` then reads them batch by batch into the warehouse and
writes the whole quarter (submissions, resolved staff, issues, ranking,
payments) inside the caller's transaction, so the quarter changes all at
once or not at all. Memory grows with a batch (``[quarter] batch_records``),
not with the quarter: records are normalised and appended a batch of files at
a time, and checked a chunk of staff rows at a time. The Dagster asset
``quarter_warehouse`` calls both; so can a rebuild from the archive.
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
from pmis_pipeline.intake import DEFAULT_BATCH_RECORDS, QuarterStream
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
    intake: QuarterStream  # read by load_quarter; then its submissions and counts are known
    waiting: list[str]  # files not yet settled (still being copied)
    seconds: float
    batch_records: int = DEFAULT_BATCH_RECORDS


@dataclass
class QuarterLoad:
    quarter: str
    resolution: dict[str, int]
    issues: pl.DataFrame  # issues and persons per (rule, severity): quality.issue_counts
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
    """Archive the quarter's settled inbox files, and prepare the reading of
    every version ever received for it from the archive (a version already
    read comes from the read cache, :mod:`pmis_pipeline.readcache`): the files
    are read when :func:`load_quarter` iterates ``intake``."""
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
    batch = settings.model.quarter.batch_records
    intake = QuarterStream(archive, quarter, units, progress=progress, limits=limits, cache=cache, batch_records=batch)
    return QuarterRead(quarter, units, registered, intake, [f.name for f in waiting], time.perf_counter() - started, batch)


#: Tables of a quarter's intake, appended batch by batch.
INTAKE_TABLES = ("submission_files", "records", "photos", "declared_units")


def load_quarter(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    read: QuarterRead,
    gx: quality.ChunkSuite,
    progress: Progress | None = None,
) -> QuarterLoad:
    """Read the quarter's files into the warehouse and write its tables
    (inside the caller's transaction), a batch at a time.

    ``gx(chunk, offset) -> (row failures, summary)`` runs the Great
    Expectations suite on a chunk of staff rows (it lives with the checks)."""
    quarter = read.quarter
    timings: dict[str, float] = {}

    def timed(name: str, started: float) -> None:
        timings[name] = round(time.perf_counter() - started, 3)

    t = time.perf_counter()
    # the quarter's memory is a batch, DuckDB's is bounded (it spills beyond): a validated integer, not data
    con.execute(f"SET memory_limit = '{int(settings.model.quarter.duckdb_memory_mb)}MB'")
    warehouse.replace_units(con, read.units)
    warehouse.clear_quarter(con, quarter, INTAKE_TABLES)
    for batch in read.intake:  # whole files, about batch_records records each
        warehouse.append_rows(con, "records", batch.records)
        warehouse.append_rows(con, "photos", batch.photos)
        warehouse.append_rows(con, "declared_units", batch.declared_units)
    warehouse.append_rows(con, "submission_files", read.intake.submissions)
    timed("read_and_load", t)

    t = time.perf_counter()
    resolution = warehouse.resolve_quarter(con, quarter)
    timed("resolve", t)

    t = time.perf_counter()
    checked = quality.check_quarter(
        con, quarter, read.units, settings.section("rules"), gx, read.batch_records, progress=progress
    )
    gx_summary = checked.gx_summary
    lost = crosscheck.lost_records(con, quarter)
    gx_table = pl.DataFrame(gx_summary).with_columns(pl.lit(quarter).alias("quarter")) if gx_summary else pl.DataFrame()
    warehouse.replace_quarter(con, quarter, {"lost_records": lost, "expectation_results": gx_table})
    proposals = crosscheck.catalog_proposals(con, quarter)
    warehouse.replace_quarter(con, quarter, {"catalog_proposals": proposals})
    issues = quality.issue_counts(con, quarter)
    timed("quality", t)
    timings.update({f"quality_{k}": v for k, v in checked.seconds.items()})

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

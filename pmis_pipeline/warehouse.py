"""The DuckDB warehouse: DDL derived from the schema, per-quarter loads, views.

Tables live in the ``core`` schema of the build database (the pipeline's
single writer); the analysts' stable face is the set of views in ``main``
(``units``, ``submissions``, ``staff``, ...), documented in the contract.
A quarter is written in ONE transaction (:func:`transaction`): a failed or
killed run leaves the quarter as it was. The build database has one writer at
a time: :func:`connect` takes an exclusive lock on ``build.duckdb.lock``
(shared for read-only use) and waits for it without polling. Publishing
copies the build database to a fresh file and renames it over
``pmis.duckdb`` (an atomic replace), so an analyst holding the published file
open never blocks the pipeline; only quarters whose blocking checks passed are
published (:func:`publish`).

All SQL takes values as parameters; only identifiers that come from the
schema module (never from data) are formatted into statements.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from pmis_pipeline import schema, stats
from pmis_pipeline.catalog import UNIT_COLUMNS
from pmis_pipeline.files import copy_atomically
from pmis_pipeline.textnorm import blank_sql

SCHEMA_VERSION = 6  # bump on any DDL or derivation change: every quarter is rebuilt from the archive


def _record_columns_ddl() -> str:
    cols = [f"    {f.key} {f.sql_type}" for f in schema.FIELDS]
    cols += [f"    {k}_year_only BOOLEAN" for k in schema.DATE_KEYS]
    raw = ", ".join(f"{k} VARCHAR" for k in schema.KEYS)
    cols += [f"    raw STRUCT({raw})", "    extras VARCHAR"]
    return ",\n".join(cols)


@functools.cache
def ddl() -> str:
    """The whole DDL of the build database (idempotent)."""
    units = ",\n".join(f"    {c} VARCHAR" for c in UNIT_COLUMNS)
    return f"""
CREATE SCHEMA IF NOT EXISTS core;
CREATE TABLE IF NOT EXISTS core.meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS core.quarter_state (
    quarter VARCHAR PRIMARY KEY,
    built_at TIMESTAMP NOT NULL,
    run_id VARCHAR,
    blocking_passed BOOLEAN NOT NULL,  -- publishable: the quarter's blocking checks passed
    problems VARCHAR                   -- why not, when they failed
);
CREATE TABLE IF NOT EXISTS core.units (
{units}
);
CREATE TABLE IF NOT EXISTS core.submission_files (
    quarter VARCHAR NOT NULL,
    submission_id VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    size_bytes BIGINT,
    received_at TIMESTAMP NOT NULL,
    received_source VARCHAR,
    first_seen_at TIMESTAMP,
    seq INTEGER,
    reporting_unit VARCHAR,
    reporting_unit_name VARCHAR,
    declared_quarter VARCHAR,
    prepared_by VARCHAR,
    phone VARCHAR,
    exported_at VARCHAR,
    readable BOOLEAN NOT NULL,
    error VARCHAR,
    error_detail VARCHAR,
    n_records INTEGER,
    encoding VARCHAR,
    legacy_cells INTEGER,
    extra_columns VARCHAR[],
    warnings VARCHAR[],
    duplicate_of VARCHAR,
    n_photos INTEGER,
    handover_unit VARCHAR,             -- reporting unit the clerk wrote in receipts.csv
    PRIMARY KEY (quarter, submission_id)
);
CREATE TABLE IF NOT EXISTS core.records (
    quarter VARCHAR NOT NULL,
    submission_id VARCHAR NOT NULL,
    row_number INTEGER NOT NULL,
    reporting_unit VARCHAR NOT NULL,
{_record_columns_ddl()}
);
CREATE TABLE IF NOT EXISTS core.photos (
    quarter VARCHAR NOT NULL,
    submission_id VARCHAR NOT NULL,
    ma_cb VARCHAR,
    entry VARCHAR,
    photo_sha256 VARCHAR,
    is_valid BOOLEAN,
    problem VARCHAR
);
CREATE TABLE IF NOT EXISTS core.declared_units (
    quarter VARCHAR NOT NULL,
    submission_id VARCHAR NOT NULL,
    reporting_unit VARCHAR,
    ma_don_vi VARCHAR,
    ten_don_vi VARCHAR,
    cap_hoc VARCHAR,
    xa_phuong VARCHAR
);
CREATE TABLE IF NOT EXISTS core.submission_status (
    quarter VARCHAR NOT NULL,
    submission_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    PRIMARY KEY (quarter, submission_id)
);
CREATE TABLE IF NOT EXISTS core.staff_rows (
    quarter VARCHAR NOT NULL,
    submission_id VARCHAR NOT NULL,
    row_number INTEGER NOT NULL,
    reporting_unit VARCHAR NOT NULL,
{_record_columns_ddl()},
    has_photo BOOLEAN,
    filled_required INTEGER,
    required_cells INTEGER,
    is_complete BOOLEAN,
    qualification_standard VARCHAR
);
CREATE TABLE IF NOT EXISTS core.record_issues (
    quarter VARCHAR NOT NULL,
    submission_id VARCHAR NOT NULL,
    row_number INTEGER NOT NULL,
    ma_cb VARCHAR,
    reporting_unit VARCHAR,
    ma_don_vi VARCHAR,
    field VARCHAR,
    rule VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    message VARCHAR,
    value VARCHAR
);
CREATE TABLE IF NOT EXISTS core.lost_records (
    quarter VARCHAR NOT NULL,
    reporting_unit VARCHAR,
    ma_cb VARCHAR,
    ho_ten VARCHAR,
    ma_don_vi VARCHAR,
    last_quarter VARCHAR
);
CREATE TABLE IF NOT EXISTS core.catalog_proposals (
    quarter VARCHAR NOT NULL,
    proposal VARCHAR,
    reporting_unit VARCHAR,
    ma_don_vi VARCHAR,
    name_sent VARCHAR,
    name_in_catalog VARCHAR,
    cap_hoc VARCHAR,
    n_records BIGINT,
    reason VARCHAR
);
CREATE TABLE IF NOT EXISTS core.unit_compliance (
    quarter VARCHAR NOT NULL,
    reporting_unit VARCHAR NOT NULL,
    ten_don_vi VARCHAR,
    loai VARCHAR,
    submitted BOOLEAN,
    first_received_at TIMESTAMP,
    deadline DATE,
    days_late INTEGER,
    n_records BIGINT,
    completeness_pct DOUBLE,
    accuracy_pct DOUBLE,
    photo_pct DOUBLE,
    lost_records BIGINT,
    timeliness DOUBLE,
    score DOUBLE,
    rank BIGINT
);
CREATE TABLE IF NOT EXISTS core.expectation_results (
    quarter VARCHAR NOT NULL,
    expectation VARCHAR,
    "column" VARCHAR,
    success BOOLEAN,
    unexpected_count BIGINT,
    element_count BIGINT
);
CREATE TABLE IF NOT EXISTS core.paid_records (
    quarter VARCHAR NOT NULL,
    ma_cb VARCHAR NOT NULL,
    reporting_unit VARCHAR,
    loai VARCHAR
);
CREATE TABLE IF NOT EXISTS core.payment_confirmations (
    quarter VARCHAR NOT NULL,
    reporting_unit VARCHAR NOT NULL,
    confirmed_by VARCHAR,
    note VARCHAR
);
CREATE TABLE IF NOT EXISTS core.payment_holds (
    quarter VARCHAR NOT NULL,
    reporting_unit VARCHAR NOT NULL,
    n_records BIGINT,
    previous_records BIGINT,
    schools BIGINT,
    reason VARCHAR,
    confirmed BOOLEAN,
    confirmed_by VARCHAR,
    note VARCHAR
);
CREATE TABLE IF NOT EXISTS core.payments (
    quarter VARCHAR NOT NULL,
    payee VARCHAR NOT NULL,
    payee_name VARCHAR,
    payee_type VARCHAR,
    item VARCHAR,
    n_records BIGINT,
    rate_vnd BIGINT,
    amount_vnd BIGINT
);
{VIEWS}
"""


_STAFF_KEYS = ", ".join(f"s.{k}" for k in schema.KEYS if k not in ("ma_cb", "ma_don_vi"))
_YEAR_ONLY = ", ".join(f"s.{k}_year_only" for k in schema.DATE_KEYS)

VIEWS = f"""
CREATE OR REPLACE VIEW units AS
SELECT {", ".join(UNIT_COLUMNS)} FROM core.units;

CREATE OR REPLACE VIEW submissions AS
SELECT f.quarter, f.submission_id, f.file_name, f.sha256, f.reporting_unit, f.received_at,
       coalesce(st.status, CASE WHEN f.readable THEN 'accepted' ELSE 'rejected' END) AS status,
       f.error, f.n_records, f.received_source, f.reporting_unit_name, f.prepared_by, f.phone,
       f.declared_quarter, f.encoding, f.legacy_cells, f.extra_columns, f.warnings, f.duplicate_of,
       f.n_photos, f.size_bytes, f.first_seen_at, f.error_detail, f.handover_unit
FROM core.submission_files f
LEFT JOIN core.submission_status st USING (quarter, submission_id);

CREATE OR REPLACE VIEW record_issues AS
SELECT quarter, ma_cb, reporting_unit, ma_don_vi, field, rule, severity, message, value,
       submission_id, row_number
FROM core.record_issues;

CREATE OR REPLACE VIEW staff AS
SELECT s.quarter, s.ma_cb, s.ma_don_vi, s.reporting_unit, {_STAFF_KEYS},
       s.has_photo, s.is_complete,
       NOT EXISTS (
           SELECT 1 FROM core.record_issues i
           WHERE i.quarter = s.quarter AND i.submission_id = s.submission_id
             AND i.row_number = s.row_number AND i.severity = 'error'
       ) AS is_valid,
       s.submission_id, s.row_number, s.qualification_standard, {_YEAR_ONLY}, s.raw, s.extras
FROM core.staff_rows s;

CREATE OR REPLACE VIEW core.row_flags AS  -- one row per staff row that has issues
SELECT quarter, submission_id, row_number,
       bool_or(severity = 'error') AS has_error, bool_or(severity = 'warning') AS has_warning
FROM core.record_issues GROUP BY ALL;

CREATE OR REPLACE VIEW lost_records AS
SELECT quarter, reporting_unit, ma_cb, ho_ten, ma_don_vi, last_quarter FROM core.lost_records;

CREATE OR REPLACE VIEW catalog_proposals AS
SELECT * FROM core.catalog_proposals;

CREATE OR REPLACE VIEW unit_compliance AS
SELECT quarter, reporting_unit, loai, submitted, first_received_at, deadline, days_late, n_records,
       completeness_pct, accuracy_pct, photo_pct, lost_records, score, rank, ten_don_vi, timeliness
FROM core.unit_compliance;

CREATE OR REPLACE VIEW payment_holds AS
SELECT quarter, reporting_unit, n_records, previous_records, schools, reason, confirmed, confirmed_by, note
FROM core.payment_holds;

CREATE OR REPLACE VIEW payments AS
SELECT quarter, payee, payee_type, item, n_records, rate_vnd, amount_vnd, payee_name FROM core.payments;
"""
VIEWS += stats.views_ddl()  # reference tables, person history, statistics


def _filled_sql(key: str) -> str:
    """A cell is filled unless it is blank by the one definition of blank (textnorm.is_blank).

    A cell holding an ASCII letter or digit is filled without the cleaning's
    regular expressions (cleaning removes invisible characters, whitespace and
    leading apostrophes only, never a letter or digit): the same answer, about
    3x faster over a national quarter's cells."""
    cell = f"raw.{key}"
    return f"({cell} IS NOT NULL AND (regexp_matches({cell}, '[0-9A-Za-z]') OR NOT {blank_sql(cell)}))"


def completeness_sql() -> tuple[str, str]:
    """(filled required cells, required cells) per record, from the schema's requirement rules."""
    filled, required = [], []
    for key in schema.REQUIRED_KEYS:
        applies = schema.is_required_expr_sql(key)
        required.append(f"CASE WHEN {applies} THEN 1 ELSE 0 END")
        filled.append(f"CASE WHEN {applies} AND {_filled_sql(key)} THEN 1 ELSE 0 END")
    return " + ".join(filled), " + ".join(required)


@contextmanager
def writer_lock(path: Path, shared: bool = False) -> Iterator[None]:
    """Hold ``<path>.lock``: exclusive for the writer, shared for readers.

    Blocks until the lock is free (the kernel wakes us: no polling). Every
    process that opens the build database goes through here: Dagster runs
    started from the UI, a sensor, a backfill or a terminal, and ``pmis``
    commands alike. The Dagster pool ``pmis_writer`` queues steps before they
    get here, so a step rarely waits on the lock itself."""
    lock = path.with_name(path.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the build database under its lock (see :func:`writer_lock`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with writer_lock(path, shared=read_only):
        con = duckdb.connect(str(path), read_only=read_only)
        con.execute("SET enable_progress_bar = false")  # a long query must not draw bars in the clerk's terminal
        try:
            if not read_only:
                _migrate(con)
            yield con
        finally:
            con.close()


@contextmanager
def open_published(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The analysts' file, read-only (never locked: it is replaced by rename)."""
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET enable_progress_bar = false")
    try:
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: commit on success, roll back on any error. A process
    killed inside leaves no trace (DuckDB discards the uncommitted transaction)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Create the schema; a build database of an older schema version is
    emptied and recreated. Nothing is lost: the quarter assets carry
    ``SCHEMA_VERSION`` as their code version, so Dagster marks every quarter
    stale and the automation rebuilds them from the archive, in order."""
    text = ddl()
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]  # views and reference data change without a version bump
    has_meta = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'core' AND table_name = 'meta'"
    ).fetchone()[0]
    if has_meta:
        meta = dict(con.execute("SELECT key, value FROM core.meta").fetchall())
        if meta.get("schema_version") == str(SCHEMA_VERSION) and meta.get("ddl") == digest:
            return  # up to date: nothing to do on this connection
        if meta.get("schema_version") != str(SCHEMA_VERSION):
            con.execute("DROP SCHEMA core CASCADE")
    con.execute(text)
    con.execute("INSERT OR REPLACE INTO core.meta VALUES ('schema_version', ?), ('ddl', ?)", [str(SCHEMA_VERSION), digest])


def replace_confirmations(con: duckdb.DuckDBPyConnection, confirmations: pl.DataFrame) -> None:
    """Replace the Department's payment confirmations (inside the caller's transaction)."""
    con.execute("DELETE FROM core.payment_confirmations")
    if confirmations.height:
        con.register("confirmations_in", confirmations.to_arrow())
        con.execute("INSERT INTO core.payment_confirmations BY NAME SELECT * FROM confirmations_in")
        con.unregister("confirmations_in")


def replace_units(con: duckdb.DuckDBPyConnection, units: pl.DataFrame) -> None:
    """Replace the catalog copy (inside the caller's transaction)."""
    con.register("units_in", units.select(UNIT_COLUMNS).to_arrow())
    con.execute("DELETE FROM core.units")
    con.execute("INSERT INTO core.units BY NAME SELECT * FROM units_in")
    con.unregister("units_in")


def replace_quarter(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    tables: dict[str, pl.DataFrame],
    updates: dict[str, pl.DataFrame] | None = None,
) -> None:
    """Replace ``quarter``'s rows of each ``core`` table (inside the caller's transaction).

    ``updates`` maps a table to a frame keyed by (quarter, submission_id,
    row_number) whose other columns are written into the matching rows."""
    for table, frame in (updates or {}).items():
        pmis_updates_in = frame.to_arrow()  # read by DuckDB's replacement scan (see append_rows)
        sets = ", ".join(f"{c} = u.{c}" for c in frame.columns if c not in ("quarter", "submission_id", "row_number"))
        con.execute(
            f"UPDATE core.{table} t SET {sets} FROM pmis_updates_in u "
            "WHERE t.quarter = u.quarter AND t.submission_id = u.submission_id AND t.row_number = u.row_number"
        )
        del pmis_updates_in
    clear_quarter(con, quarter, list(tables))
    for table, frame in tables.items():
        append_rows(con, table, frame)


def clear_quarter(con: duckdb.DuckDBPyConnection, quarter: str, tables: Sequence[str]) -> None:
    """Delete ``quarter``'s rows of each ``core`` table (inside the caller's transaction)."""
    for table in tables:
        con.execute(f"DELETE FROM core.{table} WHERE quarter = ?", [quarter])


def append_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, schema: str = "core") -> None:
    """Append a frame's rows to a table (``core`` by default), columns by name
    (inside the caller's transaction): how a quarter's records go in batch by
    batch.

    The frame is read through DuckDB's replacement scan of a local variable,
    never ``register``: a view registered (and unregistered) inside a
    transaction keeps its Arrow data alive until the transaction ends, so a
    quarter appended batch by batch would hold every batch until it commits."""
    if frame.height:
        pmis_rows_in = frame.to_arrow()
        con.execute(f"INSERT INTO {schema}.{table} BY NAME SELECT * FROM pmis_rows_in")
        del pmis_rows_in


def resolve_quarter(con: duckdb.DuckDBPyConnection, quarter: str) -> dict[str, int]:
    """Resolve re-submissions (inside the caller's transaction): fill
    ``staff_rows`` and ``submission_status`` for the quarter.

    Within a reporting unit, files are ordered by received time (then order of
    arrival). A record stands when its file is the latest that carries its
    school, and no later file carries its person (``ma_cb``): a school sent
    again is replaced as a whole, and a person sent again is taken from the
    later file whatever school code either file gives (a mistyped school code
    is corrected by sending the file again). A readable file none of whose
    records stand is ``superseded``."""
    filled, required = completeness_sql()
    con.execute("DELETE FROM core.staff_rows WHERE quarter = ?", [quarter])
    con.execute("DELETE FROM core.submission_status WHERE quarter = ?", [quarter])
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE standing AS
        WITH files AS (
            SELECT submission_id, reporting_unit,
                   row_number() OVER (PARTITION BY reporting_unit ORDER BY received_at, seq) AS file_order
            FROM core.submission_files WHERE quarter = $q AND readable
        ), ranked AS (
            SELECT r.submission_id, r.row_number, r.reporting_unit, r.ma_don_vi, r.ma_cb, f.file_order,
                   max(f.file_order) OVER (PARTITION BY r.reporting_unit, r.ma_don_vi) AS school_latest,
                   max(f.file_order) OVER (PARTITION BY r.reporting_unit, r.ma_cb) AS person_latest
            FROM core.records r JOIN files f USING (submission_id, reporting_unit)
            WHERE r.quarter = $q
        )
        SELECT submission_id, row_number FROM ranked
        WHERE file_order = school_latest AND (ma_cb IS NULL OR file_order = person_latest)
        """,
        {"q": quarter},
    )
    con.execute(
        f"""
        INSERT INTO core.staff_rows BY NAME
        SELECT *, filled_required = required_cells AS is_complete FROM (
            SELECT r.*,
                   EXISTS (
                       SELECT 1 FROM core.photos p
                       WHERE p.ma_cb = r.ma_cb AND p.is_valid AND p.quarter <= $q
                   ) AS has_photo,
                   {filled} AS filled_required,
                   {required} AS required_cells
            FROM core.records r
            JOIN standing w USING (submission_id, row_number)
            WHERE r.quarter = $q
        )
        """,
        {"q": quarter},
    )
    con.execute(
        """
        INSERT INTO core.submission_status
        SELECT f.quarter, f.submission_id,
               CASE WHEN NOT f.readable THEN 'rejected'
                    WHEN f.n_records > 0
                         AND NOT EXISTS (SELECT 1 FROM standing w WHERE w.submission_id = f.submission_id)
                    THEN 'superseded'
                    ELSE 'accepted' END
        FROM core.submission_files f WHERE f.quarter = $q
        """,
        {"q": quarter},
    )
    counts = con.execute(
        """
        SELECT (SELECT count(*) FROM core.staff_rows WHERE quarter = $q),
               count(*) FILTER (WHERE status = 'accepted'),
               count(*) FILTER (WHERE status = 'superseded'),
               count(*) FILTER (WHERE status = 'rejected')
        FROM core.submission_status WHERE quarter = $q
        """,
        {"q": quarter},
    ).fetchone()
    return dict(zip(("staff", "accepted", "superseded", "rejected"), counts))


def record_quarter_state(
    con: duckdb.DuckDBPyConnection, quarter: str, run_id: str | None, blocking_passed: bool, problems: Sequence[str]
) -> None:
    """Whether the quarter as just built may be published (inside the quarter's transaction)."""
    con.execute(
        "INSERT OR REPLACE INTO core.quarter_state VALUES (?, ?, ?, ?, ?)",
        [quarter, datetime.now().replace(microsecond=0), run_id, blocking_passed, "; ".join(problems) or None],
    )


PUBLISHED_TABLES = (
    "submission_files", "records", "photos", "declared_units", "submission_status", "staff_rows",
    "record_issues", "lost_records", "catalog_proposals", "unit_compliance", "expectation_results",
    "paid_records", "payments", "payment_holds",
)


def publish(build: Path, published: Path) -> dict[str, list[str]]:
    """Write the analysts' file: a copy of the build database, renamed over
    ``published`` (atomic: a reader sees the old file or the new one).

    Only quarters whose blocking checks passed are published as built; a
    quarter whose latest build failed them keeps the rows it had in the
    previous published file (or none). Returns the quarters published as
    built and those held back."""
    for stale in published.parent.glob(f".{published.name}.*.tmp"):  # left by a killed publish
        stale.unlink(missing_ok=True)
    with connect(build) as con:
        con.execute("CHECKPOINT")
        held = [q for (q,) in con.execute("SELECT quarter FROM core.quarter_state WHERE NOT blocking_passed ORDER BY 1").fetchall()]
        built = [q for (q,) in con.execute("SELECT quarter FROM core.quarter_state WHERE blocking_passed ORDER BY 1").fetchall()]

        def carry_over(copy: Path) -> None:
            if not held:
                return
            with duckdb.connect(str(copy)) as out:
                old_version = None
                if published.is_file():
                    out.execute("ATTACH ? AS old (READ_ONLY)", [str(published)])
                    row = out.execute("SELECT value FROM old.core.meta WHERE key = 'schema_version'").fetchone()
                    old_version = row[0] if row else None
                with transaction(out):
                    for table in PUBLISHED_TABLES:
                        out.execute(f"DELETE FROM core.{table} WHERE quarter IN (SELECT unnest(?::VARCHAR[]))", [held])
                        if old_version == str(SCHEMA_VERSION):
                            out.execute(
                                f"INSERT INTO core.{table} BY NAME SELECT * FROM old.core.{table} "
                                "WHERE quarter IN (SELECT unnest(?::VARCHAR[]))",
                                [held],
                            )
                out.execute("CHECKPOINT")

        copy_atomically(build, published, check=carry_over)
    return {"published": built, "held_back": held}


def fetch_frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> pl.DataFrame:
    """Run a parameterised query and return a polars frame (through Arrow)."""
    con.complete()  # finish any result left open by execute().fetchone() on this connection
    return con.sql(sql, params=params or None).pl()

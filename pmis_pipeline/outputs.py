"""Where a quarter's documents go, what they read, and how they are put in place.

Every document asset owns a set of files under
``warehouse/reports/<quarter>/``. It writes its new files into a staging
folder first; only when all are written (and verified) are they moved into
place, and the files it owned before but did not write again (a draft
replaced by the final version, the workbook of a unit that no longer
submits) are removed. A killed run leaves only a staging folder, which the
next run removes.

Signable documents (the announcement and the payment documents) exist only
for quarters whose blocking checks passed: :func:`withdraw_signable` removes
them when a rebuild of the quarter fails its checks.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pmis_pipeline.faults import checkpoint
from pmis_pipeline.warehouse import fetch_frame

_PACKAGE = Path(__file__).resolve().parent

@dataclass(frozen=True)
class Owned:
    """The files a document asset owns: glob patterns relative to the quarter's report folder."""

    patterns: tuple[str, ...]

    def files(self, folder: Path) -> set[Path]:
        return {p for pattern in self.patterns for p in folder.glob(pattern) if p.is_file()}


ANNOUNCEMENT = Owned(("thong-bao-ket-qua-*.xlsx",))
PAYMENT_DOCUMENTS = Owned(("thanh-toan/*.xlsx",))
FEEDBACK = Owned(("phan-hoi/*.xlsx",))
REVIEW = Owned(("ra-soat-*.xlsx",))
STATISTICS = Owned(("thong-ke-*.xlsx",))
SIGNABLE = (ANNOUNCEMENT, PAYMENT_DOCUMENTS)


def quarter_reports(reports: Path, quarter: str) -> Path:
    return reports / quarter


@contextmanager
def staged(folder: Path, owned: Owned) -> Iterator[Path]:
    """Yield an empty staging folder; on success, move what was written there
    into ``folder`` (same relative paths) and remove the owned files not
    written again. On error nothing in ``folder`` changes."""
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob(".staging-*"):  # a killed run's
        shutil.rmtree(leftover, ignore_errors=True)
    stage = folder / f".staging-{os.getpid()}"
    stage.mkdir()
    try:
        yield stage
        checkpoint("documents_written")
        written = [p for p in stage.rglob("*") if p.is_file()]
        keep = set()
        for path in written:
            target = folder / path.relative_to(stage)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            keep.add(target)
        for old in owned.files(folder) - keep:
            old.unlink()
    finally:
        shutil.rmtree(stage, ignore_errors=True)


@functools.cache
def writers_version() -> str:
    """A hash of the document writers' code and openpyxl's version: a new writer rewrites every document."""
    from importlib import metadata

    digest = hashlib.sha256(f"{metadata.version('openpyxl')} {metadata.version('pyicu-wheels')}".encode())
    sources = [*(_PACKAGE / "documents").glob("*.py"), _PACKAGE / "rules.py", _PACKAGE / "schema.py"]  # + labels, headers
    for source in sorted(sources):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def inputs_key(*parts: Any) -> str:
    """A digest of what a document is written from: frames (by their Arrow IPC bytes) and plain values (by repr)."""
    digest = hashlib.sha256(writers_version().encode())
    for part in parts:
        if isinstance(part, pl.DataFrame):
            buf = io.BytesIO()
            part.write_ipc(buf, compression="uncompressed")
            digest.update(b"frame\0" + buf.getvalue())
        else:
            digest.update(b"value\0" + repr(part).encode())
    return digest.hexdigest()


class Reuse:
    """Only what changed is rewritten: in a staged set of files (:func:`staged`),
    a file whose inputs (:func:`inputs_key`) are those it was last written from
    is linked into the stage as it is instead of being written again.

    The keys live in ``<folder>/<subdir>/.inputs.json`` (written to the stage
    with the files, so they move into place together)."""

    MANIFEST = ".inputs.json"

    def __init__(self, folder: Path, stage: Path, subdir: str) -> None:
        self.folder, self.stage, self.subdir = folder, stage, subdir
        try:
            self.before: dict[str, str] = json.loads((folder / subdir / self.MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.before = {}
        self.now: dict[str, str] = {}
        self.reused = 0

    def keep(self, name: str, key: str) -> Path | None:
        """The stage path of ``name`` if it was written from ``key`` and is still in place (linked into the stage)."""
        old = self.folder / self.subdir / name
        if self.before.get(name) != key or not old.is_file():
            return None
        target = self.stage / self.subdir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(old, target)
        except OSError:
            shutil.copy2(old, target)
        self.now[name] = key
        self.reused += 1
        return target

    def wrote(self, name: str, key: str) -> None:
        self.now[name] = key

    def save(self) -> None:
        path = self.stage / self.subdir / self.MANIFEST
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.now, sort_keys=True, indent=0), encoding="utf-8")


def replace_folder(target: Path, build: Callable[[Path], None]) -> Path:
    """Build a whole folder beside ``target`` (same name, in a staging parent)
    and swap it in; a failure or a kill leaves ``target`` as it was."""
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    for leftover in parent.glob(".staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    stage = parent / f".staging-{os.getpid()}"
    try:
        build(stage / target.name)
        checkpoint("folder_written")
        old = parent / f".staging-{os.getpid()}-old"
        if target.exists():
            os.replace(target, old)
        os.replace(stage / target.name, target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return target


def remove_folder(target: Path) -> None:
    """Remove a folder an asset owns (when it has nothing to hold any more)."""
    shutil.rmtree(target, ignore_errors=True)


def withdraw_signable(folder: Path) -> list[Path]:
    """Remove the quarter's signable documents (its blocking checks failed)."""
    removed = []
    for owned in SIGNABLE:
        for path in owned.files(folder):
            path.unlink()
            removed.append(path)
    return removed


def file_counts(con: duckdb.DuckDBPyConnection, quarter: str) -> tuple[int, int]:
    """(files received, readable files) of the quarter."""
    return con.execute(
        "SELECT count(*), count(*) FILTER (WHERE readable) FROM core.submission_files WHERE quarter = ?", [quarter]
    ).fetchone()


def feedback_inputs(con: duckdb.DuckDBPyConnection, quarter: str) -> dict[str, pl.DataFrame]:
    """What the units' feedback workbooks show, for every reporting unit at once."""
    return {
        "units": fetch_frame(con, "SELECT * FROM core.units"),
        "issues": fetch_frame(
            con,
            """
            SELECT i.reporting_unit, i.ma_don_vi, u.ten_don_vi, i.ma_cb, s.ho_ten, i.field, i.rule,
                   i.severity, i.message, i.value, f.file_name, i.row_number
            FROM core.record_issues i
            LEFT JOIN core.staff_rows s USING (quarter, submission_id, row_number)
            LEFT JOIN core.submission_files f USING (quarter, submission_id)
            LEFT JOIN core.units u ON u.ma_don_vi = i.ma_don_vi
            WHERE i.quarter = ? ORDER BY i.reporting_unit, i.ma_don_vi, i.ma_cb, i.row_number, i.field, i.rule
            """,
            [quarter],
        ),
        "counts": fetch_frame(
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
        ),
        "lost": fetch_frame(con, "SELECT * FROM core.lost_records WHERE quarter = ? ORDER BY reporting_unit, ma_cb", [quarter]),
        "rejected": fetch_frame(
            con,
            """SELECT reporting_unit, file_name, error FROM core.submission_files
               WHERE quarter = ? AND NOT readable ORDER BY received_at, seq""",
            [quarter],
        ),
    }


def review_inputs(con: duckdb.DuckDBPyConnection, quarter: str) -> dict[str, pl.DataFrame]:
    """What the Department's review workbook shows."""
    return {
        "proposals": fetch_frame(con, "SELECT * FROM core.catalog_proposals WHERE quarter = ?", [quarter]),
        "rejected": fetch_frame(
            con,
            """SELECT file_name, reporting_unit, received_at, error FROM core.submission_files
               WHERE quarter = ? AND NOT readable ORDER BY received_at, seq""",
            [quarter],
        ),
        "units": fetch_frame(
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
        ),
    }


def payment_inputs(con: duckdb.DuckDBPyConnection, quarter: str) -> tuple[pl.DataFrame, dict[str, str]]:
    """The quarter's payment lines, and each unit's PMIS officer (the latest ``Người lập``)."""
    lines = fetch_frame(con, "SELECT * FROM core.payments WHERE quarter = ?", [quarter])
    officers = dict(
        con.execute(
            """
            SELECT reporting_unit, arg_max(prepared_by, received_at) FROM core.submission_files
            WHERE quarter = ? AND readable AND prepared_by IS NOT NULL GROUP BY 1
            """,
            [quarter],
        ).fetchall()
    )
    return lines, officers


def compliance_table(con: duckdb.DuckDBPyConnection, quarter: str) -> pl.DataFrame:
    return fetch_frame(con, "SELECT * FROM core.unit_compliance WHERE quarter = ? ORDER BY loai, rank", [quarter])


@dataclass(frozen=True)
class DocumentState:
    """Whether a quarter's signable documents are written, and as drafts or final."""

    deadline: date
    today: date
    received_files: int
    readable_files: int

    @property
    def before_deadline(self) -> bool:
        return self.today <= self.deadline

    @property
    def draft(self) -> bool:
        return self.before_deadline

    @property
    def announcement_due(self) -> bool:
        """Before the deadline only when a file arrived (as a draft); after it always
        (the units that sent nothing are listed as "Chưa gửi")."""
        return self.readable_files > 0 or not self.before_deadline

    @property
    def review_due(self) -> bool:
        """The Department's review workbook: once any file arrived (rejected ones too), or after the deadline."""
        return self.received_files > 0 or not self.before_deadline

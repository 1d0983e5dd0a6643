"""The consolidated export the Department sends on to the SREM project, per quarter.

Letter 346/2009 asks the Department to "tổng hợp cơ sở dữ liệu của toàn Sở
... và gửi về dự án SREM". For a quarter, :func:`export_quarter` writes a
folder (by default ``<data>/warehouse/export/<quarter>/``) holding:

* ``pmis-SO-<quarter>.xlsx`` (beyond :data:`MAX_RECORDS_PER_WORKBOOK` records,
  ``pmis-SO-<quarter>-phan-1.xlsx``, ``-phan-2.xlsx``, ..., cut between
  reporting units: a worksheet holds 1,048,576 rows): the province's records (every ``staff`` row of
  the quarter, i.e. the accepted records after re-submissions are resolved)
  in the contract's submission format: ``ThongTin`` (reporting unit
  :data:`DEPARTMENT_CODE` = ``SO``, the Department, the code its payment
  lines already carry), ``HoSo`` (the schema's columns, typed values; a value
  that could not be read is written as the unit sent it; a bare-year date as
  the bare year; one extra column, ``Mã đơn vị báo cáo``, says which unit sent
  each record) and ``DonVi`` (the unit catalog). The project's own reader reads
  it back to the same values (tested);
* one Parquet file per contract view (``units``, ``submissions``, ``staff``,
  ``record_issues``, ``unit_compliance``, ``payments``), the quarter's rows
  (``units``: the whole catalog);
* ``manifest.json``: quarter, creation time, and for every file its row
  count, size and SHA-256, so that the receiver can check what came with
  :func:`verify_export` (``pmis verify-export <folder>``).

A re-export replaces the folder as a whole (written beside it, then swapped).
Photos are not included (the warehouse keeps only their checks; the archived
zips hold them).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow.parquet as pq
import xlsxwriter

from pmis_pipeline import schema
from pmis_pipeline.archive import sha256_file
from pmis_pipeline.documents.common import clean_text, is_formula_like
from pmis_pipeline.quarters import Quarter

#: Reporting unit code of the Department in the consolidated file (also the payee code of its payment lines).
DEPARTMENT_CODE = "SO"
DEPARTMENT_NAME = "Sở Giáo dục và Đào tạo Bến Tre"
#: Extra HoSo column naming the unit that sent each record (kept by the reader as an extra column).
REPORTING_UNIT_HEADER = "Mã đơn vị báo cáo"
CONTRACT_VIEWS: tuple[str, ...] = ("units", "submissions", "staff", "record_issues", "unit_compliance", "payments")
MANIFEST = "manifest.json"
FORMAT = "pmis-srem-export/1"
DATE_FORMAT = "dd/mm/yyyy"
#: Dates before this one are written as text: Excel's 1900 date system has no dates before 1900 and
#: counts a 29 February 1900 that never was.
EXCEL_FIRST_SAFE_DATE = date(1900, 3, 1)
TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
#: Records per workbook: a worksheet holds 1,048,576 rows (xlsxwriter silently drops the rest), so a
#: quarter beyond this is exported in parts.
MAX_RECORDS_PER_WORKBOOK = 1_000_000

Progress = Callable[[str], None]


class ExportError(ValueError):
    """The quarter cannot be exported (not loaded, ...)."""


def export_folder(warehouse_dir: Path, quarter: str) -> Path:
    """``<data>/warehouse/export/<quarter>``."""
    return Path(warehouse_dir) / "export" / Quarter.parse_key(quarter).key


def workbook_name(quarter: str, part: int | None = None) -> str:
    """``pmis-SO-<quarter>.xlsx``, or ``pmis-SO-<quarter>-phan-<part>.xlsx`` for a part of a large quarter."""
    return f"pmis-{DEPARTMENT_CODE}-{quarter}{f'-phan-{part}' if part else ''}.xlsx"


# --------------------------------------------------------------------------
# The submission-format workbook
# --------------------------------------------------------------------------


class _Sheet:
    """One worksheet written row by row (xlsxwriter, constant memory): text as
    string cells (never a formula; a formula-like text also carries Excel's
    quote prefix, so editing the cell keeps it text), numbers as numbers,
    dates as dates."""

    def __init__(self, book: xlsxwriter.Workbook, name: str, date_format, quote_format):
        self.ws = book.add_worksheet(name)
        self.row = 0
        self.date_format = date_format
        self.quote_format = quote_format

    def text(self, col: int, text: str) -> None:
        text = clean_text(text)
        if is_formula_like(text):
            self.ws.write_string(self.row, col, text, self.quote_format)
        else:
            self.ws.write_string(self.row, col, text)

    def write(self, col: int, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, str):
            self.text(col, value)
        elif isinstance(value, bool):
            self.text(col, str(value))
        elif isinstance(value, (int, float)):
            self.ws.write_number(self.row, col, value)
        elif isinstance(value, date):
            self.ws.write_datetime(self.row, col, value, self.date_format)
        else:
            self.text(col, str(value))

    def append(self, values: list[Any]) -> None:
        for col, value in enumerate(values):
            self.write(col, value)
        self.row += 1


def _present(raw: Any) -> bool:
    return raw is not None and str(raw).strip() != ""


def _cell(kind: str, value: Any, raw: Any, year_only: bool) -> Any:
    """A HoSo cell: the typed value in its kind, else the value as received (unreadable
    values stay visible to the receiver and read back as unreadable)."""
    if value is None:
        return str(raw) if _present(raw) else None
    if kind == "date":
        if year_only:
            return str(value.year)
        if value < EXCEL_FIRST_SAFE_DATE:  # Excel's 1900 calendar cannot hold it (nor 29/02/1900): as text
            return value.strftime("%d/%m/%Y")
        return value
    if kind == "int":
        return int(value)
    if kind == "decimal":
        return float(value)
    return str(value)


def _staff_sql() -> str:
    keys = ", ".join(f.key for f in schema.FIELDS)
    flags = ", ".join(f"{k}_year_only" for k in schema.DATE_KEYS)
    return f"""
        SELECT reporting_unit, {keys}, {flags}, raw
        FROM staff WHERE quarter = ?
        ORDER BY reporting_unit, ma_don_vi NULLS LAST, ma_cb NULLS LAST, submission_id, row_number
    """


def _open_workbook(path: Path, quarter: str, prepared_by: str | None, exported_on: date | None) -> tuple[xlsxwriter.Workbook, _Sheet]:
    """A submission workbook with its ThongTin sheet and HoSo's header row; returns it and HoSo."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    date_format = book.add_format({"num_format": DATE_FORMAT})
    quote_format = book.add_format({"quote_prefix": True})
    info = _Sheet(book, schema.SHEET_INFO, date_format, quote_format)
    values = {
        "reporting_unit": DEPARTMENT_CODE,
        "reporting_unit_name": DEPARTMENT_NAME,
        "quarter": quarter,
        "exported_at": (exported_on or datetime.now(TIMEZONE).date()).strftime("%d/%m/%Y"),
        "prepared_by": prepared_by,
        "phone": None,
    }
    for label in schema.INFO_LABELS:
        info.append([label.label, values.get(label.key)])
    records = _Sheet(book, schema.SHEET_RECORDS, date_format, quote_format)
    records.append([f.header for f in schema.FIELDS] + [REPORTING_UNIT_HEADER])
    return book, records


def _close_workbook(con: duckdb.DuckDBPyConnection, book: xlsxwriter.Workbook, records: _Sheet) -> None:
    """Write the DonVi sheet (the unit catalog) and close the workbook."""
    units = _Sheet(book, schema.SHEET_UNITS, records.date_format, records.quote_format)
    units.append([f.header for f in schema.UNIT_FIELDS])
    for code, name, level in con.execute("SELECT ma_don_vi, ten_don_vi, cap_hoc FROM units ORDER BY ma_don_vi").fetchall():
        units.append([code, name, level, None])
    book.close()


def write_submission_workbooks(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    folder: Path,
    *,
    prepared_by: str | None = None,
    exported_on: date | None = None,
    max_records: int = MAX_RECORDS_PER_WORKBOOK,
) -> list[tuple[Path, int]]:
    """The quarter's ``staff`` rows as submissions of reporting unit ``SO``:
    one workbook (:func:`workbook_name`), or, beyond ``max_records`` (a
    worksheet holds 1,048,576 rows), parts of at most that many records,
    each a complete submission, cut between reporting units (a unit larger
    than a part is cut where the part is full). Returns (path, records) per
    workbook."""
    counts = dict(con.execute("SELECT reporting_unit, count(*) FROM staff WHERE quarter = ? GROUP BY 1", [quarter]).fetchall())
    parts = sum(counts.values()) > max_records
    written: list[tuple[Path, int]] = []
    book: xlsxwriter.Workbook | None = None
    records: _Sheet | None = None
    n = 0
    unit = object()

    def start() -> None:
        nonlocal book, records, n
        path = folder / workbook_name(quarter, len(written) + 1 if parts else None)
        book, records = _open_workbook(path, quarter, prepared_by, exported_on)
        written.append((path, 0))
        n = 0

    def finish() -> None:
        _close_workbook(con, book, records)
        written[-1] = (written[-1][0], n)

    start()
    cur = con.execute(_staff_sql(), [quarter])
    names = [d[0] for d in cur.description]
    pos = {name: i for i, name in enumerate(names)}
    raw_pos, unit_pos = pos["raw"], pos["reporting_unit"]
    while batch := cur.fetchmany(5000):
        for row in batch:
            if row[unit_pos] != unit:
                unit = row[unit_pos]
                if n and n + counts[unit] > max_records:
                    finish()
                    start()
            if n >= max_records:
                finish()
                start()
            n += 1
            raw = row[raw_pos] or {}
            line: list[Any] = []
            for f in schema.FIELDS:
                if f.key == "row_no":
                    line.append(n)  # STT: the row number of this file
                    continue
                year_only = bool(row[pos[f"{f.key}_year_only"]]) if f.kind == "date" else False
                line.append(_cell(f.kind, row[pos[f.key]], raw.get(f.key), year_only))
            line.append(row[unit_pos])
            records.append(line)
    finish()
    return written


# --------------------------------------------------------------------------
# Parquet files, manifest, the folder as a whole
# --------------------------------------------------------------------------


def write_view_parquet(con: duckdb.DuckDBPyConnection, view: str, quarter: str, path: Path) -> int:
    """One contract view's rows of ``quarter`` (``units``: all) as Parquet; returns the row count."""
    if view not in CONTRACT_VIEWS:
        raise ValueError(f"not a contract view: {view}")
    if view == "units":
        table = con.sql("SELECT * FROM units ORDER BY ma_don_vi").to_arrow_table()
    else:  # the view name is one of the constants above, never data
        table = con.sql(f"SELECT * FROM {view} WHERE quarter = $q", params={"q": quarter}).to_arrow_table()
    pq.write_table(table, path, compression="zstd")
    return table.num_rows


def export_quarter(
    con: duckdb.DuckDBPyConnection,
    quarter: str,
    folder: Path,
    *,
    prepared_by: str | None = None,
    exported_on: date | None = None,
    progress: Progress | None = None,
    max_records: int = MAX_RECORDS_PER_WORKBOOK,
) -> dict:
    """Write the quarter's export folder (workbook, Parquet files, manifest); returns the manifest.

    The folder is built beside ``folder`` and swapped in at the end, so an
    interrupted export never leaves a half-written folder behind."""
    say = progress or (lambda _msg: None)
    quarter = Quarter.parse_key(quarter).key
    loaded = con.execute(
        "SELECT (SELECT count(*) FROM unit_compliance WHERE quarter = $q) + (SELECT count(*) FROM staff WHERE quarter = $q)",
        {"q": quarter},
    ).fetchone()[0]
    if not loaded:
        raise ExportError(f"quarter {quarter} is not loaded in the warehouse (materialize it first)")
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".tmp"))
    try:
        files = []
        for book, n in write_submission_workbooks(
            con, quarter, work, prepared_by=prepared_by, exported_on=exported_on, max_records=max_records
        ):
            files.append({"name": book.name, "kind": "submission", "rows": n})
            say(f"{book.name}: {n} records")
        for view in CONTRACT_VIEWS:
            path = work / f"{view}.parquet"
            rows = write_view_parquet(con, view, quarter, path)
            files.append({"name": path.name, "kind": "view", "view": view, "rows": rows})
            say(f"{path.name}: {rows} rows")
        for entry in files:
            path = work / entry["name"]
            entry["bytes"] = path.stat().st_size
            entry["sha256"] = sha256_file(path)
        manifest = {
            "format": FORMAT,
            "quarter": quarter,
            "reporting_unit": DEPARTMENT_CODE,
            "reporting_unit_name": DEPARTMENT_NAME,
            "created_at": datetime.now(TIMEZONE).isoformat(timespec="seconds"),
            "files": files,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        _swap_in(work, folder)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return manifest


def _swap_in(new: Path, folder: Path) -> None:
    old = None
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        os.replace(folder, old)
    os.replace(new, folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _count_rows(path: Path, entry: dict) -> int | None:
    if entry.get("kind") == "view":
        return pq.read_metadata(path).num_rows
    return None  # the workbook's rows are covered by its SHA-256


def verify_export(folder: Path) -> list[str]:
    """Check an export folder against its manifest: every listed file present with
    its size, SHA-256 and row count, nothing else in the folder, the quarter
    matching the folder's name. Returns the problems (empty: the folder is intact)."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        return [f"{folder}: no {MANIFEST}"]
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        entries = list(manifest["files"])
        quarter = str(manifest["quarter"])
    except (ValueError, KeyError, TypeError) as exc:
        return [f"{path}: unreadable manifest ({exc})"]
    problems = []
    try:
        Quarter.parse_key(folder.name)
        if folder.name != quarter:
            problems.append(f"{folder}: manifest is for quarter {quarter}, the folder is {folder.name}")
    except ValueError:
        pass  # a folder renamed by the receiver: nothing to compare
    listed = set()
    for entry in entries:
        name = str(entry.get("name", ""))
        listed.add(name)
        file = folder / name
        if not name or Path(name).name != name:
            problems.append(f"{path}: bad file name {name!r}")
            continue
        if not file.is_file():
            problems.append(f"{name}: missing")
            continue
        if file.stat().st_size != entry.get("bytes"):
            problems.append(f"{name}: {file.stat().st_size} bytes, manifest says {entry.get('bytes')}")
        if sha256_file(file) != entry.get("sha256"):
            problems.append(f"{name}: SHA-256 differs from the manifest (file changed or damaged)")
            continue
        try:
            rows = _count_rows(file, entry)
        except Exception as exc:  # a damaged Parquet file whose bytes still match: report, never raise
            problems.append(f"{name}: unreadable ({exc})")
            continue
        if rows is not None and rows != entry.get("rows"):
            problems.append(f"{name}: {rows} rows, manifest says {entry.get('rows')}")
    extra = sorted(p.name for p in folder.iterdir() if p.name not in listed and p.name != MANIFEST)
    problems.extend(f"{name}: not listed in the manifest" for name in extra)
    return problems

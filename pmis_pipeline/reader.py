"""Read one submitted file (``.xlsx``, ``.xls`` or ``.zip``) into raw frames.

Reading is the hot path: workbooks are read with fastexcel (Rust calamine),
every cell as text, so identity numbers keep their digits and nothing is
guessed before normalisation. A file that cannot be used raises
:class:`RejectedFile` with a message naming the file and, where it applies,
the sheet, row and column; the caller records it and goes on with the others.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import polars as pl

from pmis_pipeline import schema
from pmis_pipeline.textnorm import header_key

WORKBOOK_SUFFIXES = (".xlsx", ".xls")
SUBMISSION_SUFFIXES = (".xlsx", ".xls", ".zip")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")
HEADER_SCAN_ROWS = 15
MIN_HEADER_MATCHES = 3
# Hostile archives: refuse what no honest unit sends.
MAX_WORKBOOK_BYTES = 200 * 1024 * 1024
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_ZIP_ENTRIES = 200_000
MAX_WORKBOOK_EXPANDED = 2 * 1024**3  # XML inside an .xlsx; a 100,000-row sheet is ~150 MB


class RejectedFile(Exception):
    """The file cannot be used; ``str(exc)`` is the message for the unit (Vietnamese)."""


@dataclass
class Photo:
    ma_cb: str
    entry: str
    data: bytes


@dataclass
class RawWorkbook:
    """What a submitted file holds, every value as received (text)."""

    info: dict[str, str | None]
    records: pl.DataFrame  # _row (Excel row number) + one Utf8 column per schema key present
    columns: dict[str, str]  # key -> header as it appeared in the file
    extras: list[str]  # headers of unknown columns (kept in records as "extra:<header>")
    units: pl.DataFrame | None  # DonVi sheet (raw text), if any
    photos: list[Photo] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    workbook_name: str = ""

    @property
    def extra_columns(self) -> list[str]:
        return [f"extra:{h}" for h in self.extras]


def read_submission(path: Path, display_name: str | None = None) -> RawWorkbook:
    """Read a submitted file from disk. ``display_name`` names it in messages."""
    name = display_name or path.name
    suffix = Path(name).suffix.lower()
    if suffix not in SUBMISSION_SUFFIXES:
        raise RejectedFile(f"{name}: không phải tệp .xlsx, .xls hoặc .zip")
    data = path.read_bytes()
    if suffix == ".zip":
        return _read_zip(data, name)
    return read_workbook_bytes(data, name)


_DRIVE = re.compile(r"^[A-Za-z]:")


def _suffix(entry: str) -> str:
    base = entry.rsplit("/", 1)[-1]
    dot = base.rfind(".")
    return base[dot:].lower() if dot > 0 else ""


def _read_zip(data: bytes, name: str) -> RawWorkbook:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise RejectedFile(f"{name}: tệp nén .zip bị hỏng, không mở được ({exc})") from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise RejectedFile(f"{name}: tệp nén có quá nhiều mục ({len(entries)})")
    warnings: list[str] = []
    workbooks: list[zipfile.ZipInfo] = []
    photos: list[zipfile.ZipInfo] = []
    for info in entries:
        if info.is_dir():
            continue
        entry = info.filename.replace("\\", "/")
        parts = [p for p in entry.split("/") if p not in ("", ".")]  # plain string work: zips hold many photos
        if entry.startswith("/") or ".." in parts or _DRIVE.match(entry):
            warnings.append(f"{name}: bỏ qua mục '{entry}' (đường dẫn ra ngoài tệp nén)")
            continue
        suffix = _suffix(entry)
        if len(parts) == 1 and suffix in WORKBOOK_SUFFIXES:
            workbooks.append(info)
        elif len(parts) == 2 and parts[0].lower() == "anh" and suffix in PHOTO_SUFFIXES:
            photos.append(info)
        else:
            warnings.append(f"{name}: bỏ qua mục '{entry}' (không phải bảng tính hoặc ảnh trong thư mục anh/)")
    if len(workbooks) != 1:
        found = ", ".join(w.filename for w in workbooks) or "không có"
        raise RejectedFile(f"{name}: tệp nén phải chứa đúng một bảng tính .xlsx/.xls ở thư mục gốc (tìm thấy: {found})")
    book = workbooks[0]
    if book.file_size > MAX_WORKBOOK_BYTES:
        raise RejectedFile(f"{name}: bảng tính {book.filename} quá lớn ({book.file_size} byte)")
    try:
        raw = read_workbook_bytes(archive.read(book), f"{name}/{book.filename}")
    except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
        raise RejectedFile(f"{name}: không đọc được {book.filename} trong tệp nén ({exc})") from None
    raw.workbook_name = book.filename
    for info in photos:
        if info.file_size > MAX_PHOTO_BYTES:
            warnings.append(f"{name}: bỏ qua ảnh '{info.filename}' (quá lớn: {info.file_size} byte)")
            continue
        try:
            payload = archive.read(info)
        except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
            warnings.append(f"{name}: ảnh '{info.filename}' hỏng, không giải nén được ({exc})")
            continue
        base = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
        stem = base[: len(base) - len(_suffix(base))].strip().upper()
        raw.photos.append(Photo(ma_cb=stem, entry=info.filename, data=payload))
    raw.warnings = warnings + raw.warnings
    return raw


def _load_sheet(reader: fastexcel.ExcelReader, sheet: str, name: str) -> pl.DataFrame:
    try:
        return reader.load_sheet(
            sheet, header_row=None, dtypes="string", skip_rows=0, whitespace_as_null=True
        ).to_polars()
    except Exception as exc:  # fastexcel raises its own error types per cell problem
        raise RejectedFile(f"{name}, sheet {sheet}: không đọc được ({exc})") from None


def _find_sheet(names: list[str], wanted: str) -> str | None:
    key = header_key(wanted)
    for candidate in names:
        if header_key(candidate) == key:
            return candidate
    return None


def _refuse_bombs(data: bytes, name: str) -> None:
    """An .xlsx is a zip of XML: refuse one that would expand beyond
    MAX_WORKBOOK_EXPANDED bytes before the reader inflates it in memory."""
    if not data.startswith(b"PK"):
        return  # .xls (OLE2) or not a workbook at all: the reader decides
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            expanded = sum(info.file_size for info in book.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # broken: the reader rejects it with its own message
    if expanded > MAX_WORKBOOK_EXPANDED:
        raise RejectedFile(
            f"{name}: bảng tính giải nén ra {expanded // 2**20} MB, vượt giới hạn "
            f"{MAX_WORKBOOK_EXPANDED // 2**20} MB; đề nghị kiểm tra lại tệp"
        )


def read_workbook_bytes(data: bytes, name: str) -> RawWorkbook:
    """Read a workbook's ``ThongTin``, ``HoSo`` and optional ``DonVi`` sheets."""
    _refuse_bombs(data, name)
    try:
        reader = fastexcel.read_excel(data)
        sheet_names = list(reader.sheet_names)
    except Exception as exc:  # calamine: not a workbook, encrypted, truncated...
        raise RejectedFile(f"{name}: không mở được bảng tính ({type(exc).__name__}: {exc})") from None
    info_sheet = _find_sheet(sheet_names, schema.SHEET_INFO)
    records_sheet = _find_sheet(sheet_names, schema.SHEET_RECORDS)
    if records_sheet is None:
        raise RejectedFile(f"{name}: thiếu sheet {schema.SHEET_RECORDS} (các sheet có: {', '.join(sheet_names)})")
    if info_sheet is None:
        raise RejectedFile(f"{name}: thiếu sheet {schema.SHEET_INFO} (mã đơn vị báo cáo, quý)")
    info = _read_info(_load_sheet(reader, info_sheet, name))
    records, columns, extras = _read_table(
        _load_sheet(reader, records_sheet, name), schema.HEADER_KEYS, name, records_sheet, schema.STRUCTURAL_KEYS
    )
    units = None
    units_sheet = _find_sheet(sheet_names, schema.SHEET_UNITS)
    warnings: list[str] = []
    if extras:
        warnings.append(f"{name}, sheet {records_sheet}: cột không có trong mẫu, được giữ lại: {', '.join(extras)}")
    if units_sheet is not None:
        try:
            units, _, _ = _read_table(
                _load_sheet(reader, units_sheet, name), schema.UNIT_HEADER_KEYS, name, units_sheet, ("ma_don_vi",)
            )
        except RejectedFile as exc:  # DonVi is optional: a bad one is a warning
            warnings.append(str(exc))
    return RawWorkbook(info=info, records=records, columns=columns, extras=extras, units=units, warnings=warnings)


def _read_info(frame: pl.DataFrame) -> dict[str, str | None]:
    info: dict[str, str | None] = {label.key: None for label in schema.INFO_LABELS}
    if frame.width < 2:
        return info
    for label, value in frame.select(frame.columns[0], frame.columns[1]).iter_rows():
        if label is None:
            continue
        key = schema.LABEL_KEYS.get(header_key(label))
        if key and info[key] is None and value is not None and value.strip():
            info[key] = value.strip()
    return info


def _read_table(
    frame: pl.DataFrame, header_keys: dict[str, str], name: str, sheet: str, needed: tuple[str, ...]
) -> tuple[pl.DataFrame, dict[str, str], list[str]]:
    """Find the header row, name the columns by schema key, keep unknown ones."""
    best_row, best_hits = -1, 0
    for i, row in enumerate(frame.head(HEADER_SCAN_ROWS).iter_rows()):
        hits = sum(1 for v in row if v is not None and header_keys.get(header_key(v)))
        if hits > best_hits:
            best_row, best_hits = i, hits
    if best_hits < min(MIN_HEADER_MATCHES, len(needed)):
        raise RejectedFile(
            f"{name}, sheet {sheet}: không tìm thấy dòng tiêu đề trong {HEADER_SCAN_ROWS} dòng đầu "
            f"(cần các cột như {', '.join(schema.FIELD_BY_KEY[k].header for k in needed if k in schema.FIELD_BY_KEY) or 'Mã đơn vị'})"
        )
    header = frame.row(best_row)
    rename: dict[str, str] = {}
    columns: dict[str, str] = {}
    extras: list[str] = []
    for col, text in zip(frame.columns, header):
        if text is None or not text.strip():
            continue
        key = header_keys.get(header_key(text))
        if key and key not in columns:
            columns[key] = text.strip()
            rename[col] = key
        else:
            label = text.strip()
            while f"extra:{label}" in rename.values():
                label += "'"
            extras.append(label)
            rename[col] = f"extra:{label}"
    missing = [k for k in needed if k not in columns]
    if missing:
        heads = ", ".join(f"'{schema.FIELD_BY_KEY[k].header}'" if k in schema.FIELD_BY_KEY else k for k in missing)
        raise RejectedFile(f"{name}, sheet {sheet}, dòng {best_row + 1}: thiếu cột bắt buộc {heads}")
    body = (
        frame.slice(best_row + 1)
        .select(list(rename))
        .rename(rename)
        .with_row_index("_row", offset=best_row + 2)
        .with_columns(pl.col("_row").cast(pl.Int32))
    )
    value_cols = [c for c in body.columns if c != "_row"]
    body = body.filter(pl.any_horizontal(pl.col(value_cols).is_not_null()))  # blank cells are null (whitespace_as_null)
    return body, columns, extras

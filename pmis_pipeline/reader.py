"""Read one submitted file (``.xlsx``, ``.xls`` or ``.zip``) into raw frames.

Reading is the hot path: workbooks are read with fastexcel (Rust calamine),
every cell as text, so identity numbers keep their digits and nothing is
guessed before normalisation. A file that cannot be used raises
:class:`RejectedFile` with a message naming the file and, where it applies,
the sheet, row and column; the caller records it and goes on with the others.

Before the library sees a file, its bytes say what it is (:func:`identify`):
an empty file, a web page or PDF renamed ``.xls``, a password-protected
workbook, a damaged container each get their own message. An ``.xlsx`` is
inflated once with a byte counter (the sizes a zip declares are not trusted)
and each worksheet's cell span is measured, so a zip bomb or one cell at
``XFD1048576`` is refused before calamine allocates its grid. Photos of a
``.zip`` are inflated, hashed and checked one at a time within a total
budget. Whatever still brings the library down (an abort, a panic) is caught
by the child process that runs this module (:mod:`pmis_pipeline.isolation`).
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import fastexcel
import olefile
import polars as pl
from PIL import Image

from pmis_pipeline import schema
from pmis_pipeline.textnorm import clean_text, clean_text_expr, header_key, is_blank_expr

WORKBOOK_SUFFIXES = (".xlsx", ".xls")
SUBMISSION_SUFFIXES = (".xlsx", ".xls", ".zip")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")
HEADER_SCAN_ROWS = 15
MIN_HEADER_MATCHES = 3
#: HoSo columns a blank template may carry pre-filled; a row with nothing else is no person.
TEMPLATE_KEYS = ("row_no", "ma_don_vi")
#: Keys whose cell type (number or text) the reader reports (see normalize.TYPED_NUMBER_KEYS).
TYPED_NUMBER_KEYS = tuple(f.key for f in schema.FIELDS if f.kind == "id_number")
_MB = 1024 * 1024


@dataclass(frozen=True)
class ReadLimits:
    """What no honest unit sends (the ``[intake]`` section of the configuration).

    Sizes are measured while inflating, never taken from what a zip declares."""

    max_file_bytes: int = 200 * _MB  # a workbook (a file, or the one inside a .zip), as stored
    max_expanded_bytes: int = 1024 * _MB  # the XML inside an .xlsx, inflated
    max_sheet_cells: int = 20_000_000  # rows x columns spanned by one sheet's cells
    max_photo_bytes: int = 10 * _MB  # one photo, inflated
    max_photos_bytes: int = 1024 * _MB  # all photos of one .zip, inflated
    max_photo_pixels: int = 40_000_000  # width x height of one photo
    max_zip_entries: int = 200_000


DEFAULT_LIMITS = ReadLimits()

#: Why a file was rejected (``RejectedFile.cause``); each has its own message.
Cause = Literal[
    "empty", "encrypted", "damaged", "renamed", "not_workbook", "too_large", "timeout", "crashed", "content",
]


class RejectedFile(Exception):
    """The file cannot be used. ``str(exc)`` is the message for the unit: one
    line, Vietnamese, naming the file and what to do. ``detail`` is the
    technical reason for the operator (English library text, may be
    multi-line); ``cause`` says which kind of problem it is."""

    def __init__(self, message: str, *, cause: Cause = "content", detail: str | None = None) -> None:
        super().__init__(message)
        self.cause: Cause = cause
        self.detail = detail


# -- the messages a unit reads, one per cause ---------------------------------------------

_REDO = "đề nghị đơn vị mở tệp bằng Excel trên máy của mình, lưu lại (Save As) thành Excel Workbook (.xlsx) rồi gửi lại"


def empty_file(name: str) -> RejectedFile:
    return RejectedFile(
        f"{name}: tệp rỗng (0 byte), không có dữ liệu; đề nghị đơn vị chép lại tệp bảng tính đã lưu đầy đủ rồi gửi lại",
        cause="empty", detail="file has 0 bytes",
    )


def encrypted_file(name: str, detail: str) -> RejectedFile:
    return RejectedFile(
        f"{name}: tệp có đặt mật khẩu (đã mã hoá) nên không đọc được; đề nghị đơn vị bỏ mật khẩu mở tệp "
        "(File > Info > Protect Workbook > Encrypt with Password, xoá mật khẩu) rồi gửi lại",
        cause="encrypted", detail=detail,
    )


def damaged_file(name: str, detail: str) -> RejectedFile:
    return RejectedFile(
        f"{name}: tệp bị hỏng hoặc chép chưa hết, không đọc được cấu trúc bảng tính; {_REDO}",
        cause="damaged", detail=detail,
    )


def renamed_file(name: str, kind: str, detail: str) -> RejectedFile:
    ext = Path(name).suffix.lower() or "(không có đuôi)"
    return RejectedFile(
        f"{name}: tệp thực chất là {kind} được đặt đuôi {ext}, không phải bảng tính Excel; "
        "đề nghị mở bằng Excel, chọn Lưu thành (Save As) kiểu Excel Workbook (.xlsx) rồi gửi lại",
        cause="renamed", detail=detail,
    )


def not_a_workbook(name: str, detail: str) -> RejectedFile:
    return RejectedFile(
        f"{name}: nội dung tệp không phải bảng tính Excel (.xlsx hoặc .xls); đề nghị đơn vị kiểm tra và gửi đúng tệp",
        cause="not_workbook", detail=detail,
    )


def too_large(name: str, what: str, detail: str) -> RejectedFile:
    return RejectedFile(
        f"{name}: {what}, vượt giới hạn xử lý; đề nghị đơn vị xoá các dòng, cột, ảnh thừa rồi gửi lại",
        cause="too_large", detail=detail,
    )


def took_too_long(name: str, seconds: float) -> RejectedFile:
    return RejectedFile(
        f"{name}: đọc tệp quá {seconds:g} giây nên đã dừng; {_REDO}",
        cause="timeout", detail=f"no result within {seconds:g} s; the reader process was killed",
    )


def reader_crashed(name: str, detail: str) -> RejectedFile:
    return RejectedFile(
        f"{name}: chương trình đọc bảng tính bị lỗi khi mở tệp này (tệp có thể bị hỏng); {_REDO}",
        cause="crashed", detail=detail,
    )


def _size_text(n: int) -> str:
    return f"{n / _MB:.1f} MB" if n >= _MB else f"{max(1, round(n / 1024))} KB"


def _library_detail(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _is_fatal(exc: BaseException) -> bool:
    """Exceptions a reader must never swallow (a Rust panic is a BaseException but not one of these)."""
    return isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit))


@dataclass
class Photo:
    """A photo of a .zip, checked and hashed as it was read (its bytes are not kept)."""

    ma_cb: str
    entry: str
    sha256: str | None
    problem: str | None  # None when it opens as a real JPEG or PNG


@dataclass
class RawWorkbook:
    """What a submitted file holds, every value as received (text)."""

    info: dict[str, str | None]
    records: pl.DataFrame  # _row (Excel row number) + one Utf8 column per schema key present (+ "_number:<key>")
    columns: dict[str, str]  # key -> header as it appeared in the file
    extras: list[str]  # headers of unknown columns (kept in records as "extra:<header>")
    units: pl.DataFrame | None  # DonVi sheet (raw text), if any
    photos: list[Photo] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    workbook_name: str = ""
    template_rows: int = 0  # HoSo rows with no person (only STT / unit code), skipped

    @property
    def extra_columns(self) -> list[str]:
        return [f"extra:{h}" for h in self.extras]


def read_submission(path: Path, display_name: str | None = None, limits: ReadLimits = DEFAULT_LIMITS) -> RawWorkbook:
    """Read a submitted file from disk. ``display_name`` names it in messages."""
    name = display_name or path.name
    suffix = Path(name).suffix.lower()
    if suffix not in SUBMISSION_SUFFIXES:
        raise RejectedFile(f"{name}: không phải tệp .xlsx, .xls hoặc .zip", cause="not_workbook", detail=f"suffix {suffix!r}")
    size = path.stat().st_size
    if size > limits.max_file_bytes and suffix != ".zip":
        raise too_large(name, f"tệp nặng {size / _MB:.0f} MB (giới hạn {limits.max_file_bytes / _MB:.0f} MB)", f"{size} bytes")
    data = path.read_bytes()
    if suffix == ".zip":
        return _read_zip(data, name, limits)
    return read_workbook_bytes(data, name, limits)


# -- what a file really is ----------------------------------------------------------------------

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BIFF_FILEPASS = 0x002F
_BIFF_BOUNDSHEET = 0x0085
_TEXT_FORMS = (
    (re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|table|meta|title)\b", re.I | re.S), "trang web (HTML)"),
    (re.compile(rb"^\s*<\?xml[^>]*>.*?urn:schemas-microsoft-com:office:spreadsheet", re.I | re.S), "bảng tính XML 2003 (XML Spreadsheet)"),
    (re.compile(rb"^\s*<\?xml", re.I), "tệp XML"),
    (re.compile(rb"^\s*\{\\rtf", re.I), "văn bản RTF"),
)
_MAGIC_FORMS = (
    (b"%PDF", "tệp PDF"),
    (b"\xff\xd8\xff", "ảnh JPEG"),
    (b"\x89PNG\r\n\x1a\n", "ảnh PNG"),
    (b"GIF8", "ảnh GIF"),
    (b"Rar!\x1a\x07", "tệp nén RAR"),
    (b"7z\xbc\xaf\x27\x1c", "tệp nén 7-Zip"),
    (b"\x1f\x8b", "tệp nén gzip"),
)


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    printable = sum(1 for b in head if b >= 0x20 or b in (9, 10, 13))
    return printable / len(head) > 0.97


def identify(data: bytes, name: str) -> str:
    """``'zip'``, ``'ole'`` or ``'other'`` for a workbook's bytes; raises
    :class:`RejectedFile` for an empty file or another kind of file renamed."""
    if not data:
        raise empty_file(name)
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "zip"
    if data.startswith(OLE_MAGIC):
        return "ole"
    head = data[:4096]
    body = head.removeprefix(b"\xef\xbb\xbf")
    start = data[:65536].removeprefix(b"\xef\xbb\xbf")  # an XML spreadsheet names its schema after a long prologue
    for pattern, kind in _TEXT_FORMS:
        if pattern.search(start):
            raise renamed_file(name, kind, f"content starts with {head[:60]!r}")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) and b"<\x00h\x00t\x00m\x00l" in head.lower():
        raise renamed_file(name, "trang web (HTML)", f"UTF-16 content starts with {head[:60]!r}")
    for magic, kind in _MAGIC_FORMS:
        if head.startswith(magic):
            raise renamed_file(name, kind, f"content starts with {head[:16]!r}")
    if _looks_like_text(body):
        raise renamed_file(name, "tệp văn bản (CSV hoặc TXT)", f"plain text: {head[:60]!r}")
    return "other"  # e.g. an Excel 2-4 file: the reader decides


def _inspect_ole(data: bytes, name: str) -> None:
    """An Excel 97-2003 file, not encrypted; else the right rejection."""
    try:
        ole = olefile.OleFileIO(data)
    except Exception as exc:  # olefile raises OSError and others on a damaged container
        if _is_fatal(exc):
            raise
        raise damaged_file(name, f"OLE container: {_library_detail(exc)}") from None
    with ole:
        streams = {"/".join(entry).lower() for entry in ole.listdir(streams=True, storages=False)}
        if {"encryptedpackage", "encryptioninfo"} & streams:
            raise encrypted_file(name, "OLE container with EncryptionInfo/EncryptedPackage: a password-protected .xlsx")
        book = next((s for s in ("workbook", "book") if s in streams), None)
        if book is None:
            kinds = {"worddocument": "văn bản Word (.doc)", "powerpoint document": "bản trình chiếu PowerPoint (.ppt)"}
            kind = next((k for s, k in kinds.items() if s in streams), None)
            if kind:
                raise renamed_file(name, kind, f"OLE streams: {sorted(streams)[:10]}")
            raise not_a_workbook(name, f"OLE container without a Workbook stream: {sorted(streams)[:10]}")
        try:
            head = ole.openstream(book.capitalize() if book == "workbook" else "Book").read(8192)
        except Exception as exc:
            if _is_fatal(exc):
                raise
            raise damaged_file(name, f"Workbook stream: {_library_detail(exc)}") from None
    pos = 0
    for _ in range(64):  # FILEPASS comes right after the first BOF, before the sheets
        if pos + 4 > len(head):
            break
        kind, length = struct.unpack_from("<HH", head, pos)
        if kind == _BIFF_FILEPASS:
            raise encrypted_file(name, "BIFF FILEPASS record: a password-protected .xls")
        if kind == _BIFF_BOUNDSHEET:
            break
        pos += 4 + length


_CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>]*?(/?)>')
_FAR_COLUMN = re.compile(rb'<c r="[A-Z]{3}')
_WIDE_COLUMN = re.compile(rb'<c r="[B-Z][A-Z][0-9]')
_FAR_ROW = re.compile(rb'r="[A-Z]{0,3}[0-9]{6}')
_ROW_REF = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="([0-9]{1,7})"')
_CHUNK = 1 << 20


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _column_letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _exact_extent(chunk: bytes) -> tuple[int, int]:
    rows = cols = 0
    for m in _CELL_REF.finditer(chunk):
        if m.group(3):  # <c .../>: no value, the reader leaves it out
            continue
        rows = max(rows, int(m.group(2)))
        cols = max(cols, _column_number(m.group(1)))
    return rows, cols


def _inspect_xlsx(data: bytes, name: str, limits: ReadLimits) -> None:
    """Inflate every part of an .xlsx once, counting the bytes it really
    expands to (stopping at ``max_expanded_bytes``), and measure the cells
    each worksheet spans, so that neither a zip bomb nor one far-away cell
    (``XFD1048576``) ever reaches the reader."""
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        infos = book.infolist()
    except Exception as exc:
        if _is_fatal(exc):
            raise
        raise damaged_file(name, f"zip container: {_library_detail(exc)}") from None
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        if any(n.startswith("word/") for n in names):
            raise renamed_file(name, "văn bản Word (.docx)", f"zip entries: {sorted(names)[:10]}")
        if any(n.startswith("ppt/") for n in names):
            raise renamed_file(name, "bản trình chiếu PowerPoint (.pptx)", f"zip entries: {sorted(names)[:10]}")
        if "mimetype" in names and "content.xml" in names:
            return  # OpenDocument: the reader decides
        if "EncryptedPackage" in names or "encryptedpackage" in {n.lower() for n in names}:
            raise encrypted_file(name, "zip holding EncryptedPackage")
        raise renamed_file(name, "tệp nén .zip", f"zip without xl/workbook.xml: {sorted(names)[:10]}")
    if len(infos) > limits.max_zip_entries:
        raise too_large(name, f"bảng tính có {len(infos)} thành phần", f"{len(infos)} zip entries")
    total = 0
    for info in infos:
        is_sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
        rows = cols = 0
        tail = b""
        try:
            with book.open(info) as part:
                while chunk := part.read(_CHUNK):
                    total += len(chunk)
                    if total > limits.max_expanded_bytes:
                        raise too_large(
                            name,
                            f"bảng tính giải nén ra hơn {limits.max_expanded_bytes // _MB} MB dữ liệu "
                            f"(tệp chỉ {_size_text(len(data))})",
                            f"inflated beyond {limits.max_expanded_bytes} bytes at {info.filename} "
                            f"(declared total {sum(i.file_size for i in infos)} bytes)",
                        )
                    if is_sheet:
                        window = tail + chunk
                        r, c = _fast_extent(window)
                        rows, cols = max(rows, r), max(cols, c)
                        tail = window[-64:]
        except RejectedFile:
            raise
        except Exception as exc:
            if _is_fatal(exc):
                raise
            if isinstance(exc, RuntimeError) and "encrypt" in str(exc).lower():
                raise encrypted_file(name, _library_detail(exc)) from None
            raise damaged_file(name, f"{info.filename}: {_library_detail(exc)}") from None
        if is_sheet and rows * cols > limits.max_sheet_cells:
            raise too_large(
                name,
                f"trang tính {_sheet_name(book, info.filename)} trải tới ô {_column_letters(cols)}{rows} "
                f"({rows} dòng x {cols} cột)",
                f"{info.filename}: cells span {rows} rows x {cols} columns > {limits.max_sheet_cells} cells",
            )


def _fast_extent(chunk: bytes) -> tuple[int, int]:
    """Upper bounds of the rows and columns the cells of a chunk of worksheet
    XML reach: three quick searches for ordinary sheets (under 100,000 rows,
    columns up to AZ or ZZ), an exact scan of every cell only otherwise."""
    if chunk.count(b"<c ") != chunk.count(b'<c r="') or _FAR_COLUMN.search(chunk) or _FAR_ROW.search(chunk):
        rows, cols = _exact_extent(chunk)
        for m in _ROW_REF.finditer(chunk):
            rows = max(rows, int(m.group(1)))
        return rows, cols
    cols = 702 if _WIDE_COLUMN.search(chunk) else 52
    rows = max((int(m.group(1)) for m in _ROW_REF.finditer(chunk[-4096:])), default=0) or 99_999
    return rows, cols


def _sheet_name(book: zipfile.ZipFile, part: str) -> str:
    """The name a worksheet part has in the workbook (for messages), else the part's file name."""
    try:
        rels = book.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
        workbook = book.read("xl/workbook.xml").decode("utf-8", "replace")
    except Exception:
        return part.rsplit("/", 1)[-1]
    target = part.removeprefix("xl/")
    rel = re.search(r'<Relationship[^>]*Id="([^"]+)"[^>]*Target="/?(?:xl/)?' + re.escape(target) + '"', rels) or re.search(
        r'<Relationship[^>]*Target="/?(?:xl/)?' + re.escape(target) + r'"[^>]*Id="([^"]+)"', rels
    )
    if rel:
        sheet = re.search(r'<sheet\b[^>]*name="([^"]+)"[^>]*r:id="' + re.escape(rel.group(1)) + '"', workbook)
        if sheet:
            return sheet.group(1)
    return part.rsplit("/", 1)[-1]


# -- zips of a workbook and photos --------------------------------------------------------------

_DRIVE = re.compile(r"^[A-Za-z]:")


def _suffix(entry: str) -> str:
    base = entry.rsplit("/", 1)[-1]
    dot = base.rfind(".")
    return base[dot:].lower() if dot > 0 else ""


class _TooBig(Exception):
    pass


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """An entry's bytes, inflated in chunks; :class:`_TooBig` past ``limit``
    whatever the zip declares."""
    out = bytearray()
    with archive.open(info) as stream:
        while chunk := stream.read(min(_CHUNK, limit + 1 - len(out))):
            out += chunk
            if len(out) > limit:
                raise _TooBig(f"{info.filename}: inflates beyond {limit} bytes (declares {info.file_size})")
    return bytes(out)


def check_photo(data: bytes, max_pixels: int = DEFAULT_LIMITS.max_photo_pixels) -> str | None:
    """None when the bytes open as a real JPEG or PNG image of a sane size,
    else the problem (Vietnamese). Never raises on hostile bytes."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                fmt = img.format
                width, height = img.size
                if width * height > max_pixels:
                    return f"ảnh quá lớn ({width}x{height} điểm ảnh, tối đa {max_pixels // 1_000_000} triệu)"
                img.verify()
    except Image.DecompressionBombError as exc:
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        declared = f"khai báo {int(pixels.group(1)):,} điểm ảnh".replace(",", ".") if pixels else "bom giải nén"
        return f"ảnh quá lớn ({declared}, tối đa {max_pixels // 1_000_000} triệu)"
    except Exception as exc:  # Pillow raises many types on broken images (OSError, SyntaxError, zlib.error...)
        if _is_fatal(exc):
            raise
        return "ảnh hỏng, không mở được"
    if fmt not in ("JPEG", "PNG"):
        return f"ảnh không phải JPEG/PNG ({fmt})"
    return None


def _read_zip(data: bytes, name: str, limits: ReadLimits = DEFAULT_LIMITS) -> RawWorkbook:
    if not data:
        raise empty_file(name)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except Exception as exc:
        if _is_fatal(exc):
            raise
        identify(data, name)  # another kind of file named .zip
        raise damaged_file(name, f"zip: {_library_detail(exc)}") from None
    if len(entries) > limits.max_zip_entries:
        raise too_large(name, f"tệp nén có {len(entries)} mục", f"{len(entries)} zip entries")
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
        raise RejectedFile(
            f"{name}: tệp nén phải chứa đúng một bảng tính .xlsx/.xls ở thư mục gốc (tìm thấy: {found})",
            detail=f"{len(workbooks)} workbooks at the root",
        )
    book = workbooks[0]
    try:
        book_bytes = _inflate(archive, book, limits.max_file_bytes)
    except _TooBig as exc:
        raise too_large(name, f"bảng tính {book.filename} giải nén ra hơn {limits.max_file_bytes // _MB} MB", str(exc)) from None
    except Exception as exc:
        if _is_fatal(exc):
            raise
        if isinstance(exc, RuntimeError) and "encrypt" in str(exc).lower():
            raise encrypted_file(name, _library_detail(exc)) from None
        raise damaged_file(name, f"{book.filename}: {_library_detail(exc)}") from None
    raw = read_workbook_bytes(book_bytes, f"{name}/{book.filename}", limits)
    del book_bytes
    raw.workbook_name = book.filename
    budget = limits.max_photos_bytes
    for i, info in enumerate(photos):
        base = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
        stem = base[: len(base) - len(_suffix(base))].strip().upper()
        if budget <= 0:
            warnings.append(
                f"{name}: bỏ qua {len(photos) - i} ảnh còn lại (tổng dung lượng ảnh vượt {limits.max_photos_bytes // _MB} MB)"
            )
            break
        try:
            payload = _inflate(archive, info, min(limits.max_photo_bytes, budget))
        except _TooBig:
            limit = min(limits.max_photo_bytes, budget)
            warnings.append(f"{name}: bỏ qua ảnh '{info.filename}' (giải nén ra hơn {limit / _MB:.0f} MB)")
            raw.photos.append(Photo(stem, info.filename, None, f"ảnh quá lớn (hơn {limit / _MB:.0f} MB)"))
            budget -= limit
            continue
        except Exception as exc:  # zlib.error, bad CRC, unsupported compression, encrypted entry...
            if _is_fatal(exc):
                raise
            warnings.append(f"{name}: ảnh '{info.filename}' hỏng, không giải nén được (dữ liệu nén bị lỗi)")
            raw.photos.append(Photo(stem, info.filename, None, "ảnh hỏng, không giải nén được (dữ liệu nén bị lỗi)"))
            continue
        budget -= len(payload)
        raw.photos.append(Photo(stem, info.filename, hashlib.sha256(payload).hexdigest(), check_photo(payload, limits.max_photo_pixels)))
    raw.warnings = warnings + raw.warnings
    return raw


# -- workbooks ------------------------------------------------------------------------------------


def _library_failure(exc: BaseException, name: str, what: str) -> RejectedFile:
    """The rejection for an exception of the reader library (calamine)."""
    if _is_fatal(exc):
        raise exc
    detail = f"{what}: {_library_detail(exc)}"
    if isinstance(exc, MemoryError):
        return too_large(name, "bảng tính cần quá nhiều bộ nhớ để đọc", detail)
    if type(exc).__name__ == "PanicException":
        return reader_crashed(name, detail)
    text = str(exc).lower()
    if "password" in text or "encrypt" in text:
        return encrypted_file(name, detail)
    return damaged_file(name, detail)


def _load_sheet(reader: fastexcel.ExcelReader, sheet: str, name: str) -> pl.DataFrame:
    try:
        return reader.load_sheet(
            sheet, header_row=None, dtypes="string", skip_rows=0, whitespace_as_null=True
        ).to_polars()
    except BaseException as exc:  # fastexcel raises its own error types per cell problem; a panic is a BaseException
        raise _library_failure(exc, name, f"sheet {sheet}") from None


def _find_sheet(names: list[str], wanted: str) -> str | None:
    key = header_key(wanted)
    for candidate in names:
        if header_key(candidate) == key:
            return candidate
    return None


def read_workbook_bytes(data: bytes, name: str, limits: ReadLimits = DEFAULT_LIMITS) -> RawWorkbook:
    """Read a workbook's ``ThongTin``, ``HoSo`` and optional ``DonVi`` sheets."""
    kind = identify(data, name)
    if kind == "zip":
        _inspect_xlsx(data, name, limits)
    elif kind == "ole":
        _inspect_ole(data, name)
    try:
        reader = fastexcel.read_excel(data)
        sheet_names = list(reader.sheet_names)
    except BaseException as exc:  # calamine: not a workbook, encrypted, truncated... or a panic
        failure = _library_failure(exc, name, "open")
        if kind == "other" and failure.cause == "damaged":
            failure = not_a_workbook(name, failure.detail or "")
        raise failure from None
    info_sheet = _find_sheet(sheet_names, schema.SHEET_INFO)
    records_sheet = _find_sheet(sheet_names, schema.SHEET_RECORDS)
    if records_sheet is None:
        raise RejectedFile(
            f"{name}: thiếu sheet {schema.SHEET_RECORDS} (các sheet có: {', '.join(sheet_names)})",
            detail=f"sheets: {sheet_names}",
        )
    if info_sheet is None:
        raise RejectedFile(f"{name}: thiếu sheet {schema.SHEET_INFO} (mã đơn vị báo cáo, quý)", detail=f"sheets: {sheet_names}")
    info = _read_info(_load_sheet(reader, info_sheet, name))
    frame = _load_sheet(reader, records_sheet, name)
    records, columns, extras, positions = _read_table(
        frame, schema.HEADER_KEYS, name, records_sheet, schema.STRUCTURAL_KEYS
    )
    records, template_rows = _skip_rows_without_person(records)
    records = _typed_number_flags(reader, records_sheet, records, positions, frame.height, name)
    units = None
    units_sheet = _find_sheet(sheet_names, schema.SHEET_UNITS)
    warnings: list[str] = []
    if extras:
        warnings.append(f"{name}, sheet {records_sheet}: cột không có trong mẫu, được giữ lại: {', '.join(extras)}")
    if template_rows:
        warnings.append(
            f"{name}, sheet {records_sheet}: bỏ qua {len(template_rows)} dòng không có thông tin cán bộ "
            f"(chỉ có STT hoặc mã đơn vị), dòng {_row_list(template_rows)}"
        )
    if units_sheet is not None:
        try:
            units, _, _, _ = _read_table(
                _load_sheet(reader, units_sheet, name), schema.UNIT_HEADER_KEYS, name, units_sheet, ("ma_don_vi",)
            )
        except RejectedFile as exc:  # DonVi is optional: a bad one is a warning
            warnings.append(str(exc))
    return RawWorkbook(
        info=info, records=records, columns=columns, extras=extras, units=units, warnings=warnings,
        template_rows=len(template_rows),
    )


def _row_list(rows: list[int]) -> str:
    """``12-51`` for a run, else the first few: ``3, 7, 9, ...``."""
    if rows == list(range(rows[0], rows[0] + len(rows))) and len(rows) > 2:
        return f"{rows[0]}-{rows[-1]}"
    shown = ", ".join(str(r) for r in rows[:10])
    return shown + (", ..." if len(rows) > 10 else "")


def _blank_flags(frame: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    """One boolean column per column of ``cols``: blank by the one definition (computed once)."""
    return frame.select(is_blank_expr(pl.col(cols)))  # one expression over every column


def _skip_rows_without_person(records: pl.DataFrame) -> tuple[pl.DataFrame, list[int]]:
    """Drop template rows (only STT and a pre-filled unit code, no person; rows
    of blank cells only are already gone); the template rows' Excel numbers."""
    value_cols = [c for c in records.columns if c != "_row"]
    person_cols = [c for c in value_cols if c not in TEMPLATE_KEYS]
    if not value_cols or records.height == 0:
        return records, []
    if not person_cols:
        return records.clear(), records.get_column("_row").to_list()
    no_person = _blank_flags(records, person_cols).select(pl.all_horizontal(pl.all())).to_series()
    if not no_person.any():
        return records, []
    return records.filter(~no_person), records.get_column("_row").filter(no_person).to_list()


def _typed_number_flags(
    reader: fastexcel.ExcelReader, sheet: str, records: pl.DataFrame, positions: dict[str, int], height: int, name: str
) -> pl.DataFrame:
    """For each of TYPED_NUMBER_KEYS, a column ``_number:<key>``: true where the
    cell was typed as a number (it may have lost a leading zero), false where
    it was text.

    Read only when some value could have lost its zero (8 or 11 digits):
    fastexcel renders both kinds of cell as the same text, but loading the
    column as ``boolean`` turns a number into a value and leaves text null."""
    for key in TYPED_NUMBER_KEYS:
        column = f"_number:{key}"
        if key not in records.columns or records.height == 0:
            records = records.with_columns(pl.lit(False).alias(column))
            continue
        suspect = records.select(
            clean_text_expr(pl.col(key)).str.replace(r"\.0+$", "").str.contains(r"^(?:[0-9]{8}|[0-9]{11})$").any()
        ).item()
        if not suspect:
            records = records.with_columns(pl.lit(False).alias(column))
            continue
        try:
            numbers = reader.load_sheet(
                sheet, header_row=None, skip_rows=0, use_columns=[positions[key]], dtypes="boolean"
            ).to_polars().to_series()
        except BaseException as exc:
            raise _library_failure(exc, name, f"sheet {sheet}, number cells") from None
        if numbers.len() != height:  # never seen; without the types no zero is restored
            records = records.with_columns(pl.lit(False).alias(column))
            continue
        flags = numbers.is_not_null().gather(records.get_column("_row") - 1)
        records = records.with_columns(flags.alias(column))
    return records


def _read_info(frame: pl.DataFrame) -> dict[str, str | None]:
    info: dict[str, str | None] = {label.key: None for label in schema.INFO_LABELS}
    if frame.width < 2:
        return info
    for label, value in frame.select(frame.columns[0], frame.columns[1]).iter_rows():
        if label is None:
            continue
        key = schema.LABEL_KEYS.get(header_key(label))
        if key and info[key] is None and (cleaned := clean_text(value)) is not None:
            info[key] = cleaned
    return info


def _read_table(
    frame: pl.DataFrame, header_keys: dict[str, str], name: str, sheet: str, needed: tuple[str, ...]
) -> tuple[pl.DataFrame, dict[str, str], list[str], dict[str, int]]:
    """Find the header row, name the columns by schema key, keep unknown ones;
    also each key's column position in the sheet. Rows of blank cells only are dropped."""
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
    positions: dict[str, int] = {}
    for position, (col, text) in enumerate(zip(frame.columns, header)):
        if text is None or not text.strip():
            continue
        key = header_keys.get(header_key(text))
        if key and key not in columns:
            columns[key] = text.strip()
            rename[col] = key
            positions[key] = position
        else:
            label = text.strip()
            while f"extra:{label}" in rename.values():
                label += "'"
            extras.append(label)
            rename[col] = f"extra:{label}"
    missing = [k for k in needed if k not in columns]
    if missing:
        heads = ", ".join(f"'{schema.FIELD_BY_KEY[k].header}'" if k in schema.FIELD_BY_KEY else k for k in missing)
        raise RejectedFile(f"{name}, sheet {sheet}, dòng {best_row + 1}: thiếu cột bắt buộc {heads}", detail=f"header row {best_row + 1}: {header}")
    body = (
        frame.slice(best_row + 1)
        .select(list(rename))
        .rename(rename)
        .with_row_index("_row", offset=best_row + 2)
        .with_columns(pl.col("_row").cast(pl.Int32))
    )
    value_cols = [c for c in body.columns if c != "_row"]
    all_blank = _blank_flags(body, value_cols).select(pl.all_horizontal(pl.all())).to_series()
    return body.filter(~all_blank), columns, extras, positions

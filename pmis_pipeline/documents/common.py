"""Shared building blocks of the Department's printable workbooks (openpyxl).

Everything a document writes goes through :func:`put`, which stores text in
NFC and never as a formula: a string that Excel would run (beginning with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is stored as a plain
string cell with the "quote prefix" style flag, the same state Excel gives a
cell typed with a leading apostrophe. The text itself is kept unchanged (no
character added); reading the file back gives ``data_type == "s"``.

Layout conventions (Decree 30/2020 style, as the Department's letters use):
Times New Roman 12-13, A4, title block with the agency on the left and the
national motto on the right, place and date in italics, signature blocks
with the title in bold capitals and the name in bold.
"""

from __future__ import annotations

import math
import re
from copy import copy
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.workbook import Workbook

from pmis_pipeline.documents.money import amount_in_words, format_pct, format_vnd
from pmis_pipeline.documents.settings import DEFAULT_SETTINGS, DocumentSettings
from pmis_pipeline.quarters import Quarter

FONT_NAME = "Times New Roman"
BODY_SIZE = 13
TABLE_SIZE = 12
SMALL_SIZE = 11
TITLE_SIZE = 14

#: Whole numbers with Vietnamese dot grouping whatever the reading PC's
#: locale: the dots are literal characters between digit placeholders, not
#: the locale's thousands separator (which ``#,##0`` would print: "2,578,000"
#: on an English Windows). The cell stays a number (Excel can add it up;
#: :func:`read_back_totals` reads it back). Two conditions are all a number
#: format may hold, so amounts of a billion or more are written as text
#: (:func:`number_cell`).
FMT_VND = r"[>=1000000]#\.###\.##0;[>=1000]#\.##0;0"
FMT_INT = FMT_VND
#: Largest whole number :data:`FMT_VND` prints correctly.
FMT_VND_MAX = 10**9 - 1
FMT_DATE = "dd/mm/yyyy"
#: Excel's limit for a row's height (points).
MAX_ROW_PT = 409.0
#: Added to a value cut short to fit a printable row.
TRUNCATED_NOTE = " … (giá trị quá dài, đã cắt bớt; giá trị đầy đủ lưu trong cơ sở dữ liệu)"

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")

ORG_PARENT = DEFAULT_SETTINGS.authority
ORG_NAME = DEFAULT_SETTINGS.department
ORG_FULL = DEFAULT_SETTINGS.department_name
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
PLACE = DEFAULT_SETTINGS.place
LETTER_346 = DEFAULT_SETTINGS.letter_346
#: "DỰ THẢO" marks a draft's title (and :func:`document_file_name` its file).
DRAFT_MARK = "DỰ THẢO"

#: First-line indent of body paragraphs (about 1 cm in Times New Roman 13).
FIRST_LINE = "\u00a0" * 6

#: Words that start a "Bằng chữ" line (see :func:`read_back_totals`).
WORDS_PREFIX = "Bằng chữ:"

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")

# --------------------------------------------------------------------------
# Text and formula escaping
# --------------------------------------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot carry (openpyxl would raise IllegalCharacterError).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def clean_text(text: str) -> str:
    """NFC, without the control characters a workbook cannot store."""
    return unicodedata.normalize("NFC", _ILLEGAL.sub("", text))


def is_formula_like(text: str) -> bool:
    """True for text that Excel (or openpyxl) would take for a formula."""
    return text.startswith(FORMULA_PREFIXES)


def escape_cell(cell: Cell) -> Cell:
    """Make a formula-like string value of ``cell`` plain text (quote prefix)."""
    if isinstance(cell.value, str) and is_formula_like(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def cell_value(value: Any) -> Any:
    """A value as a cell should hold it: NFC text, naive local datetimes."""
    if value is None:
        return None
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, datetime):
        return local_naive(value)
    if isinstance(value, (int, float, Decimal, date)):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value
    return clean_text(str(value))


def number_cell(value: Any, fmt: str | None) -> Any:
    """A whole number under :data:`FMT_VND` beyond what the format prints
    (a billion or more) becomes its Vietnamese text (``1.234.567.891``)."""
    if fmt == FMT_VND and isinstance(value, int) and not isinstance(value, bool) and abs(value) > FMT_VND_MAX:
        return format_vnd(value)
    return value


def document_file_name(base: str, quarter: str, draft: bool = False, suffix: str = ".xlsx") -> str:
    """``thong-bao-ket-qua-2009-Q1.xlsx``; a draft: ``thong-bao-ket-qua-2009-Q1-du-thao.xlsx``."""
    return f"{base}-{quarter}{'-du-thao' if draft else ''}{suffix}"


def draft_title(title: str, draft: bool) -> str:
    """``THÔNG BÁO`` -> ``THÔNG BÁO (DỰ THẢO)`` for a draft."""
    return f"{title} ({DRAFT_MARK})" if draft else title


def put(
    ws: Worksheet,
    row: int,
    col: int,
    value: Any = None,
    *,
    bold: bool = False,
    italic: bool = False,
    underline: bool = False,
    size: float = TABLE_SIZE,
    h: str | None = None,
    v: str = "center",
    wrap: bool = False,
    indent: int = 0,
    border: bool = False,
    fmt: str | None = None,
    fill: PatternFill | None = None,
    merge_to: int | None = None,
) -> Cell:
    """Write one cell (the only way documents write values).

    ``merge_to`` merges ``col..merge_to`` on the row (borders applied to every
    cell of the range so they print on every side).
    """
    cell = ws.cell(row=row, column=col)
    cell.value = cell_value(number_cell(value, fmt))
    with_fmt = bool(fmt) and not isinstance(cell.value, str)
    styles = _style_cache(ws)
    key = (bold, italic, underline, size, h, v, wrap, indent, fmt if with_fmt else None, fill, border)
    fresh = not cell.has_style
    if fresh and key in styles:  # the style this workbook already made for these arguments
        cell._style = copy(styles[key])
    else:
        cell.font = Font(name=FONT_NAME, size=size, bold=bold, italic=italic, underline="single" if underline else None)
        cell.alignment = Alignment(horizontal=h, vertical=v, wrap_text=wrap, indent=indent)
        if with_fmt:
            cell.number_format = fmt
        if fill is not None:
            cell.fill = fill
        if border:
            cell.border = BORDER
        if fresh:
            styles[key] = copy(cell._style)
    escape_cell(cell)  # after the style: the quote prefix is a style flag
    last = merge_to if merge_to is not None and merge_to > col else col
    if last > col:
        ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=last)
    if border:
        for c in range(col + 1, last + 1):
            other = ws.cell(row=row, column=c)
            if _BORDER_ONLY in styles and not other.has_style:
                other._style = copy(styles[_BORDER_ONLY])
            else:
                other.border = BORDER
                if not any(v for i, v in enumerate(other._style) if i != _BORDER_INDEX):
                    styles.setdefault(_BORDER_ONLY, copy(other._style))
    return cell


_BORDER_ONLY = ("border-only",)
_BORDER_INDEX = 2  # StyleArray: fontId, fillId, borderId, numFmtId, ...


def _style_cache(ws: Worksheet) -> dict:
    """The style arrays :func:`put` made in this workbook, by its arguments.

    Setting ``cell.font``, ``cell.alignment`` and ``cell.border`` looks each
    object up in the workbook's style tables (hashing it) for every cell; a
    feedback workbook has tens of thousands of cells in a dozen styles, so the
    finished style array is kept and copied (the same ids openpyxl would have
    found)."""
    book = ws.parent
    cache = getattr(book, "_pmis_styles", None)
    if cache is None:
        cache = {}
        book._pmis_styles = cache
    return cache


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------


def local_naive(moment: datetime) -> datetime:
    """Local (Asia/Ho_Chi_Minh) wall-clock time without tzinfo (Excel has none)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(TIMEZONE).replace(tzinfo=None)
    return moment


def _dm(n: int, pad_below: int) -> str:
    return f"{n:02d}" if n < pad_below else str(n)


def date_words(day: date | None) -> str:
    """``ngày 02 tháng 4 năm 2009`` (day below 10 and months 1-2 padded, as
    in the Department's letters); dotted blanks to fill by hand without a date."""
    if day is None:
        return "ngày ...... tháng ...... năm ........"
    return f"ngày {_dm(day.day, 10)} tháng {_dm(day.month, 3)} năm {day.year}"


def place_date(day: date | None = None, place: str | None = None) -> str:
    """``Bến Tre, ngày 02 tháng 4 năm 2009`` or the dotted form."""
    return f"{place or PLACE}, {date_words(day)}"


def date_short(day: date | datetime | None) -> str:
    """``02/4/2009`` as in a reference line."""
    if day is None:
        return ""
    return f"{day.day:02d}/{_dm(day.month, 3)}/{day.year}"


def format_datetime(moment: datetime | None, missing: str = "") -> str:
    """``20/04/2009 16:05`` in local time."""
    if moment is None:
        return missing
    return local_naive(moment).strftime("%d/%m/%Y %H:%M")


def quarter_of(key: str | Quarter) -> Quarter:
    return key if isinstance(key, Quarter) else Quarter.parse_key(str(key).strip())


def quarter_title(key: str | Quarter) -> str:
    """``Quý 1 năm 2009``."""
    label = quarter_of(key).label_vi
    return label[:1].upper() + label[1:]


def district_offices_wording(key: str | Quarter) -> str:
    """The district-level wording of the period: Bến Tre became a city
    (thành phố) in August 2009, so the letters of the first half of 2009
    say "huyện, thị xã"."""
    return "huyện, thị xã" if quarter_of(key) < Quarter(2009, 3) else "huyện, thành phố"


# --------------------------------------------------------------------------
# Page setup and columns
# --------------------------------------------------------------------------

CM = 1 / 2.54


#: Decree 30/2020 (Appendix I): top and bottom 20-25 mm, left 30-35 mm,
#: right 15-20 mm. Signable documents use the smallest of each.
DECREE30_MARGINS_CM = (2.0, 2.0, 3.0, 1.5)
#: Working lists (feedback, review) in landscape.
LIST_MARGINS_CM = (1.5, 1.5, 1.8, 1.5)

PageNumbers = Literal["footer", "footer_total", "decree30", "none"]


def setup_page(
    ws: Worksheet,
    *,
    landscape: bool = False,
    title_rows: tuple[int, int] | None = None,
    margins_cm: tuple[float, float, float, float] | None = None,
    footer: bool = True,
    page_numbers: PageNumbers | None = None,
    gridlines: bool = False,
) -> None:
    """A4, fit to one page wide (any number of pages tall), centred.

    ``title_rows`` repeat on every printed page; ``margins_cm`` is
    (top, bottom, left, right), by default Decree 30's in portrait
    (:data:`DECREE30_MARGINS_CM`) and :data:`LIST_MARGINS_CM` in landscape.

    ``page_numbers``: ``"footer"`` prints "Trang N" at the foot of every page
    (numbered from 1 in each sheet: a workbook of several documents);
    ``"footer_total"`` "Trang N/M" (one document per workbook: LibreOffice's
    M counts every sheet's pages); ``"decree30"`` the bare number at the top
    centre from the second page on (Decree 30/2020, Appendix I); ``"none"``.
    Default: ``"footer_total"`` when ``footer`` else ``"none"``.
    """
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE if landscape else ws.ORIENTATION_PORTRAIT
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    top, bottom, left, right = margins_cm or (LIST_MARGINS_CM if landscape else DECREE30_MARGINS_CM)
    ws.page_margins.top = top * CM
    ws.page_margins.bottom = bottom * CM
    ws.page_margins.left = left * CM
    ws.page_margins.right = right * CM
    ws.page_margins.header = 0.8 * CM
    ws.page_margins.footer = 0.8 * CM
    ws.print_options.horizontalCentered = True
    if title_rows is not None:
        ws.print_title_rows = f"{title_rows[0]}:{title_rows[1]}"
    numbers = page_numbers or ("footer_total" if footer else "none")
    ws.page_setup.firstPageNumber = 1
    ws.page_setup.useFirstPageNumber = True
    if numbers in ("footer", "footer_total"):
        ws.oddFooter.center.text = "Trang &P/&N" if numbers == "footer_total" else "Trang &P"
        ws.oddFooter.center.font = f"{FONT_NAME},Italic"
        ws.oddFooter.center.size = 11
    elif numbers == "decree30":
        ws.HeaderFooter.differentFirst = True
        ws.oddHeader.center.text = "&P"
        ws.oddHeader.center.font = f"{FONT_NAME},Regular"
        ws.oddHeader.center.size = 13
    ws.sheet_view.showGridLines = gridlines


def set_widths(ws: Worksheet, widths: Sequence[float]) -> None:
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w


def span_width(ws: Worksheet, first: int, last: int) -> float:
    total = 0.0
    for c in range(first, last + 1):
        w = ws.column_dimensions[get_column_letter(c)].width
        total += w if w else 8.43
    return total


# Advance widths (1/1000 em) of Times New Roman (= Liberation Serif, its
# metric-compatible clone) for printable ASCII; a Vietnamese letter takes its
# base letter's width (horned ơ/ư a little more).
_TNR_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ "
_TNR_WIDTHS = (
    500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 444, 500, 444, 500, 444, 333, 500, 500, 278, 278, 500, 278,
    778, 500, 500, 500, 500, 333, 389, 278, 500, 500, 722, 500, 500, 444, 722, 667, 667, 722, 611, 556, 722, 722,
    333, 389, 722, 611, 889, 722, 722, 556, 722, 667, 556, 611, 722, 722, 944, 722, 722, 611, 333, 408, 500, 500,
    833, 778, 180, 333, 333, 500, 564, 250, 333, 250, 278, 278, 278, 564, 564, 564, 444, 921, 333, 278, 333, 469,
    500, 333, 480, 200, 480, 541, 250,
)
_TNR = dict(zip(_TNR_CHARS, _TNR_WIDTHS))
_TNR.update({"\u00a0": 250, "–": 500, "—": 1000, "…": 1000, "─": 1000})
_HORN = set("ơờởỡớợưừửữứựƠỜỞỠỚỢƯỪỬỮỨỰ")


def text_px(text: str, size: float, bold: bool = False) -> float:
    """Printed width of ``text`` in pixels (96 dpi) in Times New Roman."""
    total = 0
    for ch in text:
        w = _TNR.get(ch)
        if w is None:
            base = unicodedata.normalize("NFD", ch.replace("đ", "d").replace("Đ", "D"))[:1]
            w = _TNR.get(base, 556) + (60 if ch in _HORN else 0)
        total += w
    return total / 1000 * size * 4 / 3 * (1.05 if bold else 1.0)


def line_count(text: str, width: float, size: float = TABLE_SIZE, bold: bool = False, *, indent: int = 0, ncols: int = 1) -> int:
    """Lines a wrapped ``text`` takes in a cell ``width`` column units wide
    (``ncols`` merged columns, ``indent`` levels): greedy word wrap with the
    font's advance widths; a column unit is 7 px plus 5 px per column."""
    avail = max(20.0, (width * 7 + 5 * ncols - 6 - 9 * indent) * 0.97)
    space = text_px(" ", size, bold)
    lines = 0
    for para in str(text).split("\n"):
        n, cur = 1, 0.0
        for word in para.split(" "):
            w = text_px(word, size, bold)
            need = w if cur == 0 else cur + space + w
            if need <= avail:
                cur = need
            else:
                extra = int(w // avail)
                n += 1 + extra if cur else extra
                cur = w - extra * avail
        lines += n
    return max(1, lines)


def row_height(lines: int, size: float = TABLE_SIZE, pad: float = 3.0) -> float:
    return round(lines * size * 1.25 + pad, 1)


def fit_row(
    ws: Worksheet,
    row: int,
    texts: Iterable[tuple[str, float] | tuple[str, float, int, int]],
    size: float = TABLE_SIZE,
    bold: bool = False,
    minimum: float = 0.0,
) -> None:
    """Set the height of ``row`` for the wrapped cells it holds, given as
    ``(text, width)`` or ``(text, width, indent, ncols)``."""
    counts = []
    for item in texts:
        text, width, indent, ncols = (*item, 0, 1)[:4] if len(item) == 2 else item  # type: ignore[misc]
        if text:
            counts.append(line_count(text, width, size, bold, indent=indent, ncols=ncols))
    ws.row_dimensions[row].height = min(MAX_ROW_PT, max(minimum, row_height(max(counts, default=1), size)))


def fit_text(text: str, width: float, size: float = TABLE_SIZE, *, indent: int = 0, ncols: int = 1, max_pt: float = MAX_ROW_PT - 9) -> str:
    """``text`` cut short (with :data:`TRUNCATED_NOTE`) so that the row that
    holds it stays within ``max_pt`` (Excel's rows stop at 409 pt); unchanged
    when it fits."""
    max_lines = max(1, int((max_pt - 3) // (size * 1.25)))
    if line_count(text, width, size, indent=indent, ncols=ncols) <= max_lines:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits with the note
        mid = (lo + hi + 1) // 2
        if line_count(text[:mid] + TRUNCATED_NOTE, width, size, indent=indent, ncols=ncols) <= max_lines:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + TRUNCATED_NOTE


# A4 in points (portrait width, height).
A4_PT = (595.28, 841.89)
DEFAULT_ROW_PT = 15.0


def _column_pt(width: float) -> float:
    """Printed width of a column: ``width`` characters of 7 px plus 5 px of
    padding at 96 dpi, in points."""
    return (width * 7 + 5) * 0.75


def print_scale(ws: Worksheet, last_col: int) -> float:
    """The zoom that fit-to-width gives the columns ``1..last_col``."""
    landscape = ws.page_setup.orientation == ws.ORIENTATION_LANDSCAPE
    paper_w = A4_PT[1] if landscape else A4_PT[0]
    printable = paper_w - (ws.page_margins.left + ws.page_margins.right) * 72
    content = sum(_column_pt(ws.column_dimensions[get_column_letter(c)].width or 8.43) for c in range(1, last_col + 1))
    return min(1.0, printable / content) if content else 1.0


def keep_together(ws: Worksheet, blocks: Sequence[tuple[int, int]], *, last_col: int, last_row: int) -> list[int]:
    """Insert page breaks so that each ``(first, last)`` row block (a table's
    end with its total and words, a signature block) prints on one page.

    Call after the page setup, the column widths and the row heights are
    final. Simulates the printed pages (A4, margins, fit-to-width zoom,
    repeated title rows); a block taller than a page is left alone. Returns
    the rows before which a break was inserted.
    """
    landscape = ws.page_setup.orientation == ws.ORIENTATION_LANDSCAPE
    paper_h = A4_PT[0] if landscape else A4_PT[1]
    # a little slack for the renderer's own rounding
    page = (paper_h - (ws.page_margins.top + ws.page_margins.bottom) * 72) * 0.97
    scale = print_scale(ws, last_col)

    def height(r: int) -> float:
        h = ws.row_dimensions[r].height if r in ws.row_dimensions else None
        return (h if h is not None else DEFAULT_ROW_PT) * scale

    titles = (0, -1)
    if ws.print_title_rows:
        a, b = (int(x) for x in re.findall(r"\d+", ws.print_title_rows)[:2])
        titles = (a, b)
    title_h = sum(height(r) for r in range(titles[0], titles[1] + 1)) if titles[0] else 0.0
    starts = {first: last for first, last in blocks}
    inserted: list[int] = []
    y = 0.0
    for r in range(1, last_row + 1):
        repeat = title_h if r > titles[1] else 0.0
        if r in starts and y > repeat:
            block = sum(height(x) for x in range(r, starts[r] + 1))
            if y + block > page and repeat + block <= page:
                ws.row_breaks.append(Break(id=r - 1))
                inserted.append(r)
                y = repeat
        h = height(r)
        if y + h > page and y > repeat:
            y = repeat
        y += h
    return inserted


# --------------------------------------------------------------------------
# Blocks: title block, headings, paragraphs, signatures
# --------------------------------------------------------------------------


def write_title_block(
    ws: Worksheet,
    row: int,
    *,
    left: tuple[int, int],
    right: tuple[int, int],
    number: str | None = None,
    subject: str | None = None,
    day: date | None = None,
    show_date: bool = True,
    org_lines: Sequence[str] | None = None,
    size: float = 12,
    settings: DocumentSettings | None = None,
) -> int:
    """The Department's heading (Decree 30/2020): the governing authority
    and the issuing agency (bold) left, the national motto right, then the
    number and symbol (left) and the place and date (right, italic).

    Returns the next free row.
    """
    cfg = settings or DEFAULT_SETTINGS
    org_lines = org_lines or (cfg.authority, cfg.department)
    lc, lc2 = left
    rc, rc2 = right
    put(ws, row, lc, org_lines[0], size=size, h="center", merge_to=lc2)
    put(ws, row, rc, NATION, bold=True, size=size, h="center", merge_to=rc2)
    put(ws, row + 1, lc, org_lines[1], bold=True, size=size, h="center", merge_to=lc2)
    put(ws, row + 1, rc, MOTTO, bold=True, size=size + 1, h="center", merge_to=rc2)
    # the short rules under the agency name and the motto, as in print
    put(ws, row + 2, lc, "───────", size=size - 2, h="center", v="top", merge_to=lc2)
    put(ws, row + 2, rc, "───────────────", size=size - 2, h="center", v="top", merge_to=rc2)
    for r, height in ((row, 17), (row + 1, 18), (row + 2, 12)):
        ws.row_dimensions[r].height = height
    nxt = row + 3
    if number is not None or show_date:
        if number is not None:
            put(ws, nxt, lc, number, size=size, h="center", merge_to=lc2)
        if show_date:
            put(ws, nxt, rc, place_date(day, cfg.place), italic=True, size=size, h="center", merge_to=rc2)
        ws.row_dimensions[nxt].height = 18
        nxt += 1
    if subject:
        put(ws, nxt, lc, subject, size=size - 1, h="center", v="top", wrap=True, merge_to=lc2)
        fit_row(ws, nxt, [(subject, span_width(ws, lc, lc2), 0, lc2 - lc + 1)], size=size - 1)
        nxt += 1
    return nxt


def write_nation_heading(ws: Worksheet, row: int, cols: tuple[int, int], size: float = 13) -> int:
    """National motto alone, centred (contracts and minutes between parties)."""
    put(ws, row, cols[0], NATION, bold=True, size=size, h="center", merge_to=cols[1])
    put(ws, row + 1, cols[0], MOTTO, bold=True, size=size + 1, h="center", merge_to=cols[1])
    put(ws, row + 2, cols[0], "───────────────", size=size - 3, h="center", v="top", merge_to=cols[1])
    ws.row_dimensions[row].height = 18
    ws.row_dimensions[row + 1].height = 19
    ws.row_dimensions[row + 2].height = 12
    return row + 3


def write_heading(
    ws: Worksheet,
    row: int,
    cols: tuple[int, int],
    text: str,
    *,
    size: float = TITLE_SIZE,
    bold: bool = True,
    italic: bool = False,
    height: float | None = None,
) -> int:
    """One centred line (document title, subtitle) across ``cols``."""
    put(ws, row, cols[0], text, bold=bold, italic=italic, size=size, h="center", wrap=True, merge_to=cols[1])
    lines = line_count(text, span_width(ws, *cols), size, bold, ncols=cols[1] - cols[0] + 1)
    ws.row_dimensions[row].height = height or row_height(lines, size, pad=4)
    return row + 1


def write_paragraph(
    ws: Worksheet,
    row: int,
    cols: tuple[int, int],
    text: str,
    *,
    size: float = BODY_SIZE,
    bold: bool = False,
    italic: bool = False,
    h: str = "justify",
    indent: int = 0,
    first_line: bool = False,
    space: float = 2.0,
) -> int:
    """A wrapped paragraph in a merged row; the row is as tall as the text.

    ``indent`` indents every line (cell indent); ``first_line`` indents the
    first line only, as body paragraphs of administrative documents are
    (leading spaces: a cell has no first-line indent)."""
    if first_line:
        text = FIRST_LINE + text
    put(ws, row, cols[0], text, bold=bold, italic=italic, size=size, h=h, v="top", wrap=True, indent=indent, merge_to=cols[1])
    lines = line_count(text, span_width(ws, *cols), size, bold, indent=indent, ncols=cols[1] - cols[0] + 1)
    ws.row_dimensions[row].height = row_height(lines, size, pad=space + 2)
    return row + 1


@dataclass
class Signature:
    """One signature block: title lines (bold capitals), the note in italics,
    room to sign and the signer's name (bold)."""

    titles: Sequence[str]
    name: str = ""
    note: str = "(Ký, ghi rõ họ tên)"


def title_lines(title: str) -> list[str]:
    """``"KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC"`` or a two-line string -> its lines."""
    parts = re.split(r"\s*(?:\n|\s/\s)\s*", title.strip())
    return [p for p in parts if p]


def write_signatures(
    ws: Worksheet,
    row: int,
    blocks: Sequence[tuple[tuple[int, int], Signature]],
    *,
    size: float = BODY_SIZE,
    space_rows: int = 4,
) -> int:
    """Signature blocks side by side starting at ``row``; returns the next row."""
    depth = max(len(sig.titles) for _, sig in blocks)
    for (c1, c2), sig in blocks:
        r = row
        for t in sig.titles:
            put(ws, r, c1, t, bold=True, size=size, h="center", merge_to=c2)
            r += 1
        r = row + depth
        if sig.note:
            put(ws, r, c1, sig.note, italic=True, size=size - 1, h="center", merge_to=c2)
        put(ws, row + depth + 1 + space_rows, c1, sig.name, bold=True, size=size, h="center", merge_to=c2)
    for r in range(row, row + depth + 2 + space_rows):
        ws.row_dimensions[r].height = 18
    return row + depth + 2 + space_rows


def write_recipients(ws: Worksheet, row: int, cols: tuple[int, int], items: Sequence[str], size: float = 11) -> int:
    """``Nơi nhận:`` (bold italic 12) and its lines (11)."""
    put(ws, row, cols[0], "Nơi nhận:", bold=True, italic=True, size=12, h="left", merge_to=cols[1])
    r = row + 1
    for item in items:
        put(ws, r, cols[0], item, size=size, h="left", merge_to=cols[1])
        r += 1
    return r


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------

Kind = Literal["text", "center", "int", "vnd", "pct", "date", "datetime"]


@dataclass
class Column:
    """A table column: its header, kind (number format and alignment) and the
    sheet columns it spans (``span`` > 1 merges cells on every row)."""

    header: str
    kind: Kind = "text"
    wrap: bool = True
    span: int = 1
    formats: dict[str, str] = field(default_factory=dict)
    digits: int = 2  # decimals of a "pct" column

    @property
    def fmt(self) -> str | None:
        return {"int": FMT_INT, "vnd": FMT_VND, "date": FMT_DATE, "datetime": "dd/mm/yyyy hh:mm"}.get(self.kind)

    def shown(self, value: Any) -> Any:
        """The value as the cell holds it: a "pct" number becomes Vietnamese
        text with :attr:`digits` decimals ("99,12", never "100,00" below 100)
        whatever the reader's locale; other values are unchanged."""
        if self.kind == "pct" and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                return None
            return format_pct(value, self.digits)
        return value

    @property
    def pad(self) -> int:
        """Cell indent keeping left/right aligned values off the border."""
        return 0 if self.align == "center" else 1

    @property
    def align(self) -> str:
        if self.kind in ("int", "vnd", "pct"):
            return "right"
        if self.kind in ("center", "date", "datetime"):
            return "center"
        return "left"


@dataclass
class TableRange:
    header_row: int
    first_row: int  # first data row
    last_row: int  # last row written (data or total)
    first_col: int
    last_col: int

    @property
    def next_row(self) -> int:
        return self.last_row + 1


def _positions(first_col: int, columns: Sequence[Column]) -> list[tuple[int, int]]:
    out, c = [], first_col
    for col in columns:
        out.append((c, c + col.span - 1))
        c += col.span
    return out


def write_table_header(
    ws: Worksheet,
    row: int,
    columns: Sequence[Column],
    *,
    first_col: int = 1,
    size: float = TABLE_SIZE,
    header_fill: PatternFill | None = None,
    header_height: float | None = None,
    number_header: bool = False,
) -> int:
    """The header row (bold, centred, wrapped, bordered) and, with
    ``number_header``, the "(1) (2) ..." column-number row of administrative
    tables; returns the first data row."""
    pos = _positions(first_col, columns)
    for col, (c1, c2) in zip(columns, pos):
        put(ws, row, c1, col.header, bold=True, size=size, h="center", wrap=True, border=True, fill=header_fill, merge_to=c2)
    heights = [line_count(col.header, span_width(ws, c1, c2), size, True, ncols=c2 - c1 + 1) for col, (c1, c2) in zip(columns, pos)]
    ws.row_dimensions[row].height = header_height or row_height(max(heights), size, pad=6)
    r = row + 1
    if number_header:
        for i, (c1, c2) in enumerate(pos, start=1):
            put(ws, r, c1, f"({i})", italic=True, size=size - 1, h="center", border=True, merge_to=c2)
        ws.row_dimensions[r].height = row_height(1, size - 1, pad=2)
        r += 1
    return r


def write_table(
    ws: Worksheet,
    row: int,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    first_col: int = 1,
    size: float = TABLE_SIZE,
    header_fill: PatternFill | None = None,
    header_height: float | None = None,
    min_row_height: float = 0.0,
    empty_text: str = "(Không có)",
    number_header: bool = False,
) -> TableRange:
    """Header row and data rows, every cell bordered; rows as tall as their
    wrapped text (or ``min_row_height``). Without rows, one merged row says
    ``empty_text``."""
    first = write_table_header(
        ws, row, columns, first_col=first_col, size=size, header_fill=header_fill,
        header_height=header_height, number_header=number_header,
    )
    r = write_rows(ws, first, columns, rows, first_col=first_col, size=size, min_row_height=min_row_height, empty_text=empty_text)
    return TableRange(row, first, r - 1, first_col, _positions(first_col, columns)[-1][1])


def write_rows(
    ws: Worksheet,
    row: int,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    first_col: int = 1,
    size: float = TABLE_SIZE,
    min_row_height: float = 0.0,
    empty_text: str | None = "(Không có)",
) -> int:
    """Bordered data rows of a table (see :func:`write_table`); returns the
    next row."""
    pos = _positions(first_col, columns)
    r = row
    for values in rows:
        texts = []
        for col, (c1, c2), value in zip(columns, pos, values):
            value = col.shown(value)
            if isinstance(value, str) and col.wrap:
                value = fit_text(value, span_width(ws, c1, c2), size, indent=col.pad, ncols=c2 - c1 + 1)
            put(ws, r, c1, value, size=size, h=col.align, wrap=col.wrap, border=True, fmt=col.fmt, merge_to=c2, indent=col.pad)
            if isinstance(value, str) and col.wrap:
                texts.append((value, span_width(ws, c1, c2), col.pad, c2 - c1 + 1))
        fit_row(ws, r, texts, size=size, minimum=min_row_height)
        r += 1
    if r == row and empty_text is not None:
        put(ws, r, first_col, empty_text, italic=True, size=size, h="center", border=True, merge_to=pos[-1][1])
        ws.row_dimensions[r].height = row_height(1, size, pad=4)
        r += 1
    return r


def write_section_row(ws: Worksheet, row: int, text: str, first_col: int, last_col: int, *, size: float = TABLE_SIZE) -> int:
    """A bold group heading inside a table ("I. ...", "II. ..."), bordered
    across the table; returns the next row."""
    put(ws, row, first_col, text, bold=True, size=size, h="left", wrap=True, border=True, indent=1, merge_to=last_col)
    fit_row(ws, row, [(text, span_width(ws, first_col, last_col), 1, last_col - first_col + 1)], size=size, bold=True, minimum=row_height(1, size, pad=5))
    return row + 1


def write_total_row(
    ws: Worksheet,
    row: int,
    columns: Sequence[Column],
    label: str,
    values: dict[int, Any],
    *,
    first_col: int = 1,
    label_span: int = 1,
    size: float = TABLE_SIZE,
    bold: bool = True,
    fill: PatternFill | None = None,
) -> int:
    """A bordered total row: ``label`` merged over the first ``label_span``
    table columns, ``values`` by table-column index; returns the next row."""
    pos = _positions(first_col, columns)
    put(ws, row, pos[0][0], label, bold=bold, size=size, h="center", border=True, fill=fill, merge_to=pos[label_span - 1][1])
    for i in range(label_span, len(columns)):
        col, (c1, c2) = columns[i], pos[i]
        put(ws, row, c1, col.shown(values.get(i)), bold=bold, size=size, h=col.align, border=True, fmt=col.fmt, fill=fill, merge_to=c2, indent=col.pad)
    ws.row_dimensions[row].height = row_height(1, size, pad=6)
    return row + 1


def write_words_line(ws: Worksheet, row: int, cols: tuple[int, int], amount: int, *, size: float = BODY_SIZE, indent: int = 0) -> int:
    """``Bằng chữ: ...`` (italic) for the amount written in the row above."""
    text = f"{WORDS_PREFIX} {amount_in_words(amount)}"
    return write_paragraph(ws, row, cols, text, size=size, italic=True, h="left", indent=indent)


# --------------------------------------------------------------------------
# Workbook helpers
# --------------------------------------------------------------------------

_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_title(text: str) -> str:
    """A valid, NFC sheet title (at most 31 characters, no ``[]:*?/\\``)."""
    title = _SHEET_BAD.sub("_", clean_text(text)).strip("'") or "Sheet"
    return title[:31]


def new_workbook() -> Workbook:
    """An empty workbook whose default font (the Normal style, font 0) is
    Times New Roman 11: column widths are measured in that font's digit
    width (7 px, as Calibri 11), so the widths print the same in Excel and
    in LibreOffice (Liberation Serif) instead of depending on whether the
    machine has Calibri."""
    wb = Workbook()
    default = Font(name=FONT_NAME, size=11, family=1)
    wb._fonts = IndexedList([default])
    wb._named_styles["Normal"].font = default
    wb.remove(wb.active)
    return wb


def save(wb: Workbook, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


# --------------------------------------------------------------------------
# Reading back
# --------------------------------------------------------------------------


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return None


_FIGURES = re.compile(r"(\d{1,3}(?:\.\d{3})+|\d+)\s*đồng")


_VN_FIGURE = re.compile(r"^\d{1,3}(?:\.\d{3})+$|^\d+$")


def _figure(value: Any) -> int | None:
    """A whole number cell, or a text cell holding only Vietnamese figures
    ("1.234.567.891": amounts beyond what the number format prints)."""
    if _number(value) is not None:
        return _number(value)
    if isinstance(value, str) and _VN_FIGURE.match(value.strip()):
        return int(value.strip().replace(".", ""))
    return None


def _amount_in_row(cells: dict[int, Any]) -> int | None:
    """The rightmost figure cell of a row (a number, or text of Vietnamese
    figures only), else the last "<figures> đồng" of its rightmost text cell
    that has one."""
    for _, value in sorted(cells.items(), reverse=True):
        if _figure(value) is not None:
            return _figure(value)
    for _, value in sorted(cells.items(), reverse=True):
        if isinstance(value, str):
            found = _FIGURES.findall(unicodedata.normalize("NFC", value))
            if found:
                return int(found[-1].replace(".", ""))
    return None


def read_back_totals(path: str | Path) -> list[tuple[str, int, str]]:
    """Every ``Bằng chữ`` line of a written workbook with the amount it
    belongs to: ``(sheet title, amount in figures, words)``.

    Contract with the writers: the figure sits in the row directly above the
    words line: that row's rightmost figure cell (a table's total row: a
    number under :data:`FMT_VND`, or, from a billion on, a text cell of
    Vietnamese figures "1.234.567.891"), or else the last "1.234.000 đồng"
    of a text line (a contract's value). The words line is a text cell
    starting "Bằng chữ:" (an opening parenthesis allowed). The words are returned
    as :func:`amount_in_words` produces them (prefix and closing punctuation
    removed), so a check compares ``words == amount_in_words(amount)``.
    """
    from openpyxl import load_workbook

    wb = load_workbook(path)
    out: list[tuple[str, int, str]] = []
    for ws in wb.worksheets:
        grid: dict[int, dict[int, Any]] = {}
        for cells in ws.iter_rows():
            for c in cells:
                if c.value is not None:
                    grid.setdefault(c.row, {})[c.column] = c.value
        for r in sorted(grid):
            for c, value in sorted(grid[r].items()):
                if not isinstance(value, str):
                    continue
                text = unicodedata.normalize("NFC", value.strip()).lstrip("(").strip()
                if not text.startswith(WORDS_PREFIX):
                    continue
                words = text[len(WORDS_PREFIX):].strip().rstrip(".;)").strip()
                amount = _amount_in_row(grid.get(r - 1, {}))
                if amount is None:
                    raise ValueError(f"{ws.title}!{get_column_letter(c)}{r}: no amount above the words line")
                out.append((ws.title, amount, words))
    return out


def words_mismatches(path: str | Path) -> list[str]:
    """Descriptions of the ``Bằng chữ`` lines that do not read their figure."""
    problems = []
    for sheet, amount, words in read_back_totals(path):
        expected = amount_in_words(amount)
        if words != expected:
            problems.append(f"{sheet}: {amount} written as {words!r}, expected {expected!r}")
    return problems


def write_money_line(
    ws: Worksheet,
    row: int,
    cols: tuple[int, int],
    label: str,
    amount: int,
    *,
    size: float = BODY_SIZE,
    bold: bool = False,
    indent: int = 0,
) -> int:
    """``<label> 1.234.000 đồng`` as one line of text (Vietnamese dot
    separators whatever the reader's locale); :func:`read_back_totals`
    reads the figure back from the text."""
    put(ws, row, cols[0], f"{label} {format_vnd(int(amount))} đồng", bold=bold, size=size, h="left", indent=indent, merge_to=cols[1])
    ws.row_dimensions[row].height = row_height(1, size, pad=4)
    return row + 1


# --------------------------------------------------------------------------
# Paged lists with carried totals (payment lists)
# --------------------------------------------------------------------------


@dataclass
class ListItem:
    """One entry of a paged list: one or more sheet rows written together
    (``lines``, one value per table column), never split across pages.

    ``amount`` and ``records`` are what the entry adds to the carried totals
    (``records`` None: the entry's records are not carried, e.g. lines paid at
    different rates). ``merge`` lists table-column indexes merged over the
    entry's lines (a payee's name over its items). ``style``: ``"data"``,
    ``"section"`` (a bold heading across the table, kept with the next
    entry) or ``"total"`` (a bold subtotal row)."""

    lines: Sequence[Sequence[Any]]
    amount: int = 0
    records: int | None = None
    merge: Sequence[int] = ()
    style: Literal["data", "section", "total"] = "data"
    label_span: int = 1  # "total": the label merged over the first columns


CARRY_IN = "Trang trước chuyển sang"
PAGE_TOTAL = "Cộng trang"
CARRY_OUT = "Chuyển sang trang sau"


def page_capacity(ws: Worksheet, last_col: int, safety: float = 0.94) -> float:
    """Printable height of a page in the sheet's own points (before the
    fit-to-width zoom), with a margin of safety for the renderer."""
    landscape = ws.page_setup.orientation == ws.ORIENTATION_LANDSCAPE
    paper_h = A4_PT[0] if landscape else A4_PT[1]
    body = paper_h - (ws.page_margins.top + ws.page_margins.bottom) * 72
    return body * safety / print_scale(ws, last_col)


def _item_heights(ws: Worksheet, columns: Sequence[Column], item: ListItem, first_col: int, size: float, min_row_height: float) -> list[float]:
    pos = _positions(first_col, columns)
    if item.style == "section":
        text = str(item.lines[0][0])
        c1, c2 = pos[0][0], pos[-1][1]
        return [max(row_height(1, size, pad=5), row_height(line_count(text, span_width(ws, c1, c2), size, True, indent=1, ncols=c2 - c1 + 1), size))]
    heights = []
    for values in item.lines:
        lines = 1
        for i, (col, (c1, c2), value) in enumerate(zip(columns, pos, values)):
            value = col.shown(value)
            if item.style == "total" and i < item.label_span:
                c2 = pos[item.label_span - 1][1]
            if isinstance(value, str) and (col.wrap or item.style == "total"):
                lines = max(lines, line_count(value, span_width(ws, c1, c2), size, item.style != "data", indent=col.pad, ncols=c2 - c1 + 1))
        minimum = min_row_height if item.style == "data" else row_height(1, size, pad=6)
        heights.append(min(MAX_ROW_PT, max(minimum, row_height(lines, size))))
    if item.merge and len(item.lines) > 1:  # the merged cells' text spread over the lines
        for i in item.merge:
            col, (c1, c2) = columns[i], pos[i]
            value = col.shown(item.lines[0][i])
            if isinstance(value, str):
                need = row_height(line_count(value, span_width(ws, c1, c2), size, indent=col.pad, ncols=c2 - c1 + 1), size)
                if sum(heights) < need:
                    heights[-1] += need - sum(heights)
    return heights


def _write_item(ws, row, columns, item: ListItem, heights, first_col, size) -> int:
    pos = _positions(first_col, columns)
    if item.style == "section":
        put(ws, row, pos[0][0], item.lines[0][0], bold=True, size=size, h="left", wrap=True, border=True, indent=1, merge_to=pos[-1][1])
        ws.row_dimensions[row].height = heights[0]
        return row + 1
    if item.style == "total":
        values = {i: v for i, v in enumerate(item.lines[0]) if i >= item.label_span}
        write_total_row(ws, row, columns, str(item.lines[0][0]), values, first_col=first_col, label_span=item.label_span, size=size)
        ws.row_dimensions[row].height = heights[0]
        return row + 1
    r = row
    for k, values in enumerate(item.lines):
        for i, (col, (c1, c2), value) in enumerate(zip(columns, pos, values)):
            if k > 0 and i in item.merge:
                continue
            put(ws, r, c1, col.shown(value), size=size, h=col.align, wrap=col.wrap, border=True, fmt=col.fmt, merge_to=c2, indent=col.pad)
        ws.row_dimensions[r].height = heights[k]
        r += 1
    if len(item.lines) > 1:
        for i in item.merge:
            c1, c2 = pos[i]
            for c in range(c1, c2 + 1):
                for rr in range(row + 1, r):
                    ws.cell(rr, c).border = BORDER
            ws.merge_cells(start_row=row, start_column=c1, end_row=r - 1, end_column=c2)
    return r


@dataclass
class PagedList:
    """Where :func:`write_paged_list` put things: the rows of each printed
    page (first, last), and the row after the list."""

    pages: list[tuple[int, int]]
    next_row: int


def write_paged_list(
    ws: Worksheet,
    row: int,
    columns: Sequence[Column],
    items: Sequence[ListItem],
    *,
    used_on_first_page: float,
    tail_height: float,
    amount_col: int,
    records_col: int | None = None,
    label_span: int = 2,
    first_col: int = 1,
    size: float = TABLE_SIZE,
    min_row_height: float = 0.0,
    title_height: float = 0.0,
) -> PagedList:
    """Write ``items`` from ``row`` on, with page breaks of our own and the
    totals an accountant carries from page to page: at the foot of every
    page but the last, "Cộng trang" (the page's sums) and "Chuyển sang trang
    sau" (the running total), and at the head of the next page "Trang trước
    chuyển sang" (the same running total). ``amount_col`` (and
    ``records_col``, for lists whose records are all paid at one rate) are
    the table-column indexes carried; labels are merged over the first
    ``label_span`` columns.

    The page model: A4 and the sheet's margins, fit-to-width zoom (set the
    page setup and widths first), ``used_on_first_page`` points above
    ``row`` on the first page, ``title_height`` points of repeated title rows
    on every later page, and ``tail_height`` points that must follow the
    last item on its page (the grand total, the words, the signatures).
    """
    capacity = page_capacity(ws, _positions(first_col, columns)[-1][1])
    carry_h = row_height(1, size, pad=6)
    heights = [_item_heights(ws, columns, it, first_col, size, min_row_height) for it in items]
    # units never split by a page break: a section heading with what follows
    # it, an entry with the "Cộng" rows that close it
    units: list[list[int]] = []
    for k, it in enumerate(items):
        if units and (it.style == "total" or items[units[-1][-1]].style == "section"):
            units[-1].append(k)
        else:
            units.append([k])
    totals = [sum(sum(heights[k]) for k in unit) for unit in units]

    def carry_row(r: int, label: str, amount: int, records: int | None) -> int:
        values: dict[int, Any] = {amount_col: amount}
        if records_col is not None and records is not None:
            values[records_col] = records
        write_total_row(ws, r, columns, label, values, first_col=first_col, label_span=label_span, size=size, bold=True)
        ws.row_dimensions[r].height = carry_h
        return r + 1

    pages: list[tuple[int, int]] = []
    r, y, page_start = row, used_on_first_page, row
    run_amount, run_records = 0, 0
    page_amount, page_records = 0, 0
    on_page = 0
    i = 0
    multi = False
    while i < len(units):
        fits = y + sum(totals[i:]) + tail_height + (carry_h if multi else 0) <= capacity
        need = totals[i] + 2 * carry_h
        last_with_tail = i == len(units) - 1 and y + totals[i] + tail_height + carry_h > capacity
        if not fits and on_page > 0 and (y + need > capacity or last_with_tail):
            # close the page: its sums, the running total, a break, the carry-in
            r = carry_row(r, PAGE_TOTAL, page_amount, page_records)
            r = carry_row(r, CARRY_OUT, run_amount, run_records)
            ws.row_breaks.append(Break(id=r - 1))
            pages.append((page_start, r - 1))
            page_start = r
            multi = True
            r = carry_row(r, CARRY_IN, run_amount, run_records)
            y = title_height + carry_h
            page_amount, page_records, on_page = 0, 0, 0
            continue
        for k in units[i]:
            r = _write_item(ws, r, columns, items[k], heights[k], first_col, size)
            run_amount += items[k].amount
            page_amount += items[k].amount
            if items[k].records is not None:
                run_records += items[k].records
                page_records += items[k].records
        y += totals[i]
        on_page += 1
        i += 1
    if multi:
        r = carry_row(r, PAGE_TOTAL, page_amount, page_records)
    pages.append((page_start, r - 1))
    return PagedList(pages, r)

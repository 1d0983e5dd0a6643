"""The feedback workbook the Department sends a reporting unit each quarter:
what was received, what is wrong, which records went missing; and the
one-page notice for a unit that sent nothing.

For a clerk of the unit, in Vietnamese: problems named in Vietnamese (the
rule's label, never its code), values shown as the unit typed them, lists
in Vietnamese name order (given name, middle name, family name; ICU "vi"),
"Cộng" rows that add up their columns, print titles on every sheet, rows
never taller than Excel allows (a very long value is cut short with a note;
the full value stays in the warehouse).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import polars as pl

from pmis_pipeline.documents.collation import name_key, vi_key
from pmis_pipeline.documents.common import (
    Column,
    HEADER_FILL,
    SMALL_SIZE,
    TABLE_SIZE,
    date_short,
    keep_together,
    new_workbook,
    put,
    quarter_of,
    quarter_title,
    save,
    set_widths,
    setup_page,
    write_heading,
    write_paragraph,
    write_table,
    write_title_block,
    write_total_row,
)
from pmis_pipeline.documents.money import format_vnd
from pmis_pipeline.documents.settings import DEFAULT_SETTINGS, DocumentSettings

SEVERITY_VI = {"error": "Lỗi", "warning": "Cảnh báo"}
SEVERITY_ORDER = {"error": 0, "warning": 1}
RECORD_LEVEL = "(Cả hồ sơ)"
DETAIL_SIZE = 11  # the detail list is a working list: denser than the documents

SHEET_SUMMARY = "Tong hop"
SHEET_DETAIL = "Chi tiet"
SHEET_LOST = "Ho so bi mat"
SHEET_NOTICE = "Thong bao"

RESUBMIT = (
    "Đề nghị đơn vị kiểm tra lại tệp theo lý do nêu trên (mở được bằng Excel, có đủ hai trang HoSo và ThongTin "
    "theo mẫu), lưu lại dưới dạng .xlsx hoặc .xls và gửi lại cho Phòng Tổ chức cán bộ Sở."
)


def default_field_headers() -> dict[str, str]:
    from pmis_pipeline.schema import FIELD_BY_KEY

    return {k: f.header for k, f in FIELD_BY_KEY.items()}


def default_rule_labels() -> dict[str, str]:
    from pmis_pipeline.rules import RULE_LABELS_VI

    return dict(RULE_LABELS_VI)


def _field_kinds() -> dict[str, str]:
    from pmis_pipeline.schema import FIELD_BY_KEY

    return {k: f.kind for k, f in FIELD_BY_KEY.items()}


def _require(frame: pl.DataFrame, name: str, columns: tuple[str, ...]) -> pl.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing columns {missing}")
    return frame


def _text(value) -> str:
    return "" if value is None else str(value)


def _quarter_label(key) -> str:
    if key is None or key == "":
        return ""
    try:
        return quarter_title(str(key))
    except ValueError:
        return str(key)


# The reader keeps every cell as text; a cell Excel stored as a date comes
# out as "1992-09-05 00:00:00" and a number as "4.6" (calamine's text of the
# stored value). What the unit saw in its Excel is "05/09/1992" and "4,6".
_EXCEL_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?$")
_DOT_DECIMAL = re.compile(r"^-?\d+\.\d+$")


def as_typed(value, field: str | None = None, kinds: Mapping[str, str] | None = None) -> str:
    """A value as received, shown as the unit saw it in Excel: a date cell
    ``1992-09-05 00:00:00`` -> ``05/09/1992`` (a time other than midnight
    kept: ``05/09/1992 07:30``), a number with a decimal point in a decimal or
    whole-number field ``4.6`` -> ``4,6``; anything typed as text unchanged."""
    if value is None:
        return ""
    text = str(value)
    m = _EXCEL_DATETIME.match(text.strip())
    if m:
        y, mo, d, hh, mm, ss = m.groups()
        shown = f"{d}/{mo}/{y}"
        return shown if (hh, mm, ss) == ("00", "00", "00") else f"{shown} {hh}:{mm}"
    kind = (kinds if kinds is not None else _field_kinds()).get(field or "")
    if kind in ("decimal", "int") and _DOT_DECIMAL.match(text.strip()):
        return text.strip().replace(".", ",")
    return text


_LIBRARY_DETAIL = re.compile(r"\s*\((?:[A-Za-z_.]+(?:Error|Exception)|Context)\b.*$", re.S)


def reason_for_unit(error: str | None) -> str:
    """The Vietnamese reason of a rejection without the library's detail
    (``... (CalamineError: calamine error: ...\\nContext: ...)`` -> ``...``),
    on one line; the full text stays in ``submissions.error`` for the
    operator."""
    text = _text(error)
    text = _LIBRARY_DETAIL.sub("", text)
    text = " ".join(text.split())
    return text or "Không đọc được tệp"


def write_feedback_workbook(
    path: str | Path,
    *,
    quarter: str,
    reporting_unit: str,
    reporting_unit_name: str,
    issues: pl.DataFrame,
    staff_counts: pl.DataFrame,
    lost: pl.DataFrame,
    rejected_files: pl.DataFrame,
    field_headers: Mapping[str, str] | None = None,
    rule_labels: Mapping[str, str] | None = None,
    issued_on: date | None = None,
    settings: DocumentSettings | None = None,
) -> Path:
    """Write the unit's feedback for ``quarter``; returns ``path``.

    Frames (extra columns ignored):
    ``issues`` (ma_don_vi, ten_don_vi, ma_cb, ho_ten, field, rule, severity,
    message, value; optional file_name, row_number: where the record is;
    optional raw_value: the cell as received, shown instead of ``value``);
    ``staff_counts`` (ma_don_vi, ten_don_vi, n_records, n_with_error,
    n_with_warning); ``lost`` (ma_cb, ho_ten, ma_don_vi, last_quarter;
    ten_don_vi optional); ``rejected_files`` (file_name, error; optional
    reason: the Vietnamese reason, else the error without its library
    detail).

    ``field_headers`` maps a HoSo key to its Vietnamese header (default: the
    schema's); ``rule_labels`` a rule to its Vietnamese name (default:
    :data:`pmis_pipeline.rules.RULE_LABELS_VI`; a rule without one is named
    by its most frequent message).
    """
    q = quarter_of(quarter)
    headers = dict(field_headers) if field_headers is not None else default_field_headers()
    labels = {**default_rule_labels(), **(rule_labels or {})}
    _require(issues, "issues", ("ma_don_vi", "ten_don_vi", "ma_cb", "ho_ten", "field", "rule", "severity", "message", "value"))
    _require(staff_counts, "staff_counts", ("ma_don_vi", "ten_don_vi", "n_records", "n_with_error", "n_with_warning"))
    _require(lost, "lost", ("ma_cb", "ho_ten", "ma_don_vi", "last_quarter"))
    _require(rejected_files, "rejected_files", ("file_name", "error"))

    unit_names: dict[str, str] = {}
    for frame in (staff_counts, issues):
        for code, name in frame.select("ma_don_vi", "ten_don_vi").iter_rows():
            if code is not None and name and str(code) not in unit_names:
                unit_names[str(code)] = str(name)

    wb = new_workbook()
    _summary(wb.create_sheet(SHEET_SUMMARY), q, reporting_unit, reporting_unit_name, issues, staff_counts, rejected_files, labels, issued_on, settings or DEFAULT_SETTINGS)
    _detail(wb.create_sheet(SHEET_DETAIL), q, reporting_unit, reporting_unit_name, issues, headers, labels)
    _lost(wb.create_sheet(SHEET_LOST), q, reporting_unit, reporting_unit_name, lost, unit_names)
    return save(wb, path)


def _unit_line(code: str, name: str) -> str:
    return f"Đơn vị báo cáo: {code} - {name}" if name else f"Đơn vị báo cáo: {code}"


def _summary(ws, q, unit, unit_name, issues, staff_counts, rejected, labels, issued_on, cfg) -> None:
    # A STT | B severity/code | C problem/name | D | E | F | G
    set_widths(ws, [6, 16, 48, 20, 13, 13, 14])
    cols = (1, 7)
    r = write_title_block(ws, 1, left=(1, 3), right=(4, 7), day=issued_on, settings=cfg)
    heading = r + 1
    r = write_heading(ws, heading, cols, f"KẾT QUẢ KIỂM TRA DỮ LIỆU PMIS {quarter_title(q).upper()}")
    r = write_heading(ws, r, cols, _unit_line(unit, unit_name), size=13, bold=True)
    title_rows = (heading, r - 1)  # repeated on every printed page
    n_records = int(staff_counts["n_records"].fill_null(0).sum() or 0)
    n_err = int(staff_counts["n_with_error"].fill_null(0).sum() or 0)
    n_warn = int(staff_counts["n_with_warning"].fill_null(0).sum() or 0)
    n_people = issues["ma_cb"].drop_nulls().n_unique() if issues.height else 0
    r = write_paragraph(
        ws, r + 1, cols,
        f"Số hồ sơ nhận được: {format_vnd(n_records)}; số hồ sơ có lỗi: {format_vnd(n_err)}; "
        f"số hồ sơ có cảnh báo: {format_vnd(n_warn)}; số tệp bị từ chối: {rejected.height}. "
        "Hồ sơ có lỗi cần được sửa và gửi lại; cảnh báo cần được đơn vị kiểm tra lại.",
        size=TABLE_SIZE, h="left",
    )
    blocks: list[tuple[int, int]] = []  # each section's heading, table header and first rows stay together
    # 1. problems by rule and severity
    r = write_paragraph(ws, r + 1, cols, "1. Tổng hợp theo loại vấn đề", size=TABLE_SIZE, bold=True, h="left")
    by_rule = (
        issues.with_columns(pl.col("severity").replace_strict(SEVERITY_ORDER, default=9).alias("_o"))
        .group_by("rule", "severity", "_o")
        .agg(
            pl.len().alias("n_issues"),
            pl.col("ma_cb").n_unique().alias("n_people"),
            pl.col("message").drop_nulls().mode().sort().first().alias("message"),
        )
        .sort("_o", "n_issues", "rule", descending=[False, True, False])
    )
    columns = [Column("STT", "center"), Column("Mức độ", "center"), Column("Vấn đề", span=2), Column("Số lượt", "int"), Column("Số hồ sơ có vấn đề này", "int", span=2)]
    rows = []
    for i, (rule, sev, _o, n, p, msg) in enumerate(by_rule.iter_rows(), start=1):
        rows.append((i, SEVERITY_VI.get(sev, _text(sev)), labels.get(rule) or _text(msg), n, p))
    blocks.append((r - 1, r + min(len(rows), 3)))
    t = write_table(ws, r, columns, rows, header_fill=HEADER_FILL, empty_text="Không phát hiện vấn đề nào")
    if rows:
        blocks.append((max(t.first_row, t.last_row - 1), t.last_row + 2))  # the last rows, "Cộng" and the note together
        # a record with two problems counts in two rows: only the issues add up
        r = write_total_row(ws, t.next_row, columns, "Cộng", {3: int(by_rule["n_issues"].sum())}, label_span=3)
        r = write_paragraph(
            ws, r, cols,
            f"Số hồ sơ có ít nhất một vấn đề: {format_vnd(n_people)} (một hồ sơ có thể có nhiều vấn đề nên được tính "
            "ở nhiều dòng).",
            size=SMALL_SIZE, italic=True, h="left",
        )
    else:
        r = t.next_row
    # 2. by school
    r = write_paragraph(ws, r + 1, cols, "2. Tổng hợp theo đơn vị (trường)", size=TABLE_SIZE, bold=True, h="left")
    columns = [Column("STT", "center"), Column("Mã đơn vị", "center", wrap=False), Column("Tên đơn vị"), Column("Số hồ sơ", "int"), Column("Hồ sơ có lỗi", "int"), Column("Hồ sơ có cảnh báo", "int"), Column("Tỷ lệ hồ sơ có lỗi (%)", "pct")]
    schools = staff_counts.sort("ma_don_vi", nulls_last=True)
    blocks.append((r - 1, r + min(schools.height, 3)))
    rows = []
    for i, (code, name, n, e, w) in enumerate(schools.select("ma_don_vi", "ten_don_vi", "n_records", "n_with_error", "n_with_warning").iter_rows(), start=1):
        n, e, w = int(n or 0), int(e or 0), int(w or 0)
        rows.append((i, _text(code), _text(name), n, e, w, 100.0 * e / n if n else None))
    t = write_table(ws, r, columns, rows, header_fill=HEADER_FILL, empty_text="Không có hồ sơ nào được nhận")
    if rows:
        blocks.append((max(t.first_row, t.last_row - 1), t.last_row + 1))
        r = write_total_row(ws, t.next_row, columns, "Cộng", {3: n_records, 4: n_err, 5: n_warn, 6: 100.0 * n_err / n_records if n_records else None}, label_span=3)
    else:
        r = t.next_row
    # 3. rejected files
    r = write_paragraph(ws, r + 1, cols, "3. Tệp dữ liệu bị từ chối", size=TABLE_SIZE, bold=True, h="left")
    columns = [Column("STT", "center"), Column("Tên tệp", span=2), Column("Lý do", span=4)]
    has_reason = "reason" in rejected.columns
    rows = [
        (i, _text(rec["file_name"]), _text(rec["reason"]) if has_reason and rec["reason"] else reason_for_unit(rec["error"]))
        for i, rec in enumerate(rejected.sort("file_name").iter_rows(named=True), start=1)
    ]
    blocks.append((r - 1, r + min(len(rows), 3)))
    t = write_table(ws, r, columns, rows, header_fill=HEADER_FILL, empty_text="Không có tệp nào bị từ chối")
    r = t.next_row
    if rows:
        r = write_paragraph(ws, r, cols, RESUBMIT, size=TABLE_SIZE, italic=True)
    r += 1
    put(ws, r, 1, "Chi tiết từng hồ sơ: trang \"Chi tiet\"; hồ sơ bị mất: trang \"Ho so bi mat\".", italic=True, size=SMALL_SIZE, h="left", merge_to=7)
    setup_page(ws, landscape=True, title_rows=title_rows, page_numbers="footer")
    keep_together(ws, blocks, last_col=7, last_row=r)


def _detail(ws, q, unit, unit_name, issues, headers, labels) -> None:
    # where the record is: file and Excel row (when the caller gives them)
    located = {"file_name", "row_number"} <= set(issues.columns)
    widths = [5, 14, 20, 11, 18, 12, 32, 9, 14] + ([22] if located else [])
    set_widths(ws, widths)
    last = len(widths)
    r = write_heading(ws, 1, (1, last), f"CHI TIẾT HỒ SƠ CÓ VẤN ĐỀ - {quarter_title(q).upper()}", size=13)
    r = write_heading(ws, r, (1, last), _unit_line(unit, unit_name), size=12, bold=False, italic=True)
    header_row = r + 1
    columns = [
        Column("STT", "center"), Column("Mã đơn vị", "center", wrap=False), Column("Tên đơn vị"), Column("Mã cán bộ", "center"),
        Column("Họ và tên"), Column("Trường dữ liệu"), Column("Vấn đề"), Column("Mức độ", "center"), Column("Giá trị đã nhận"),
    ] + ([Column("Tệp, dòng")] if located else [])
    kinds = _field_kinds()
    shown = "raw_value" if "raw_value" in issues.columns else "value"
    field_order = {k: i for i, k in enumerate(headers)}
    records = list(issues.iter_rows(named=True))
    # by school, then Vietnamese name order, then the record, errors first, schema order of fields
    records.sort(key=lambda rec: (
        vi_key(_text(rec["ma_don_vi"])), name_key(rec["ho_ten"]), _text(rec["ma_cb"]),
        SEVERITY_ORDER.get(rec["severity"], 9), field_order.get(rec["field"], len(field_order)), _text(rec["rule"]),
    ))
    rows = []
    for i, rec in enumerate(records, start=1):
        fld = rec["field"]
        message = _text(rec["message"])
        label = labels.get(rec["rule"])
        rows.append((
            i, _text(rec["ma_don_vi"]), _text(rec["ten_don_vi"]), _text(rec["ma_cb"]), _text(rec["ho_ten"]),
            headers.get(fld, fld) if fld else RECORD_LEVEL,
            message or label or "", SEVERITY_VI.get(rec["severity"], _text(rec["severity"])), as_typed(rec[shown], fld, kinds),
        ) + ((f"{_text(rec['file_name'])}, dòng {_text(rec['row_number'])}",) if located else ()))
    t = write_table(ws, header_row, columns, rows, size=DETAIL_SIZE, header_fill=HEADER_FILL, empty_text="Không có hồ sơ nào có vấn đề")
    if rows:
        ws.auto_filter.ref = f"A{t.header_row}:{chr(64 + last)}{t.last_row}"
    ws.freeze_panes = ws.cell(row=t.header_row + 1, column=1)
    setup_page(ws, landscape=True, title_rows=(t.header_row, t.header_row), gridlines=False, page_numbers="footer")


def _lost(ws, q, unit, unit_name, lost, unit_names) -> None:
    widths = [6, 13, 28, 12, 40, 22]
    set_widths(ws, widths)
    last = len(widths)
    r = write_heading(ws, 1, (1, last), f"DANH SÁCH HỒ SƠ BỊ MẤT - {quarter_title(q).upper()}", size=13)
    r = write_heading(ws, r, (1, last), _unit_line(unit, unit_name), size=12, bold=False, italic=True)
    r = write_paragraph(
        ws, r, (1, last),
        f"Cán bộ đang làm việc trong dữ liệu {q.previous().label_vi} của đơn vị nhưng không có trong dữ liệu "
        f"{q.label_vi} của toàn tỉnh. Nếu cán bộ đã nghỉ hưu, chuyển công tác hoặc thôi việc, đơn vị cập nhật "
        "tình trạng của hồ sơ; nếu không, bổ sung lại hồ sơ.",
        size=SMALL_SIZE, italic=True,
    )
    columns = [Column("STT", "center"), Column("Mã cán bộ", "center"), Column("Họ và tên"), Column("Mã đơn vị", "center"), Column("Tên đơn vị"), Column("Có trong dữ liệu lần cuối", "center")]
    has_name = "ten_don_vi" in lost.columns
    records = sorted(lost.iter_rows(named=True), key=lambda rec: (vi_key(_text(rec["ma_don_vi"])), name_key(rec["ho_ten"]), _text(rec["ma_cb"])))
    rows = []
    for i, rec in enumerate(records, start=1):
        code = _text(rec["ma_don_vi"])
        name = _text(rec["ten_don_vi"]) if has_name and rec["ten_don_vi"] else unit_names.get(code, "")
        rows.append((i, _text(rec["ma_cb"]), _text(rec["ho_ten"]), code, name, _quarter_label(rec["last_quarter"])))
    t = write_table(ws, r + 1, columns, rows, header_fill=HEADER_FILL, empty_text="Không có hồ sơ nào bị mất")
    if rows:
        ws.auto_filter.ref = f"A{t.header_row}:{chr(64 + last)}{t.last_row}"
    ws.freeze_panes = ws.cell(row=t.header_row + 1, column=1)
    setup_page(ws, landscape=True, title_rows=(t.header_row, t.header_row), page_numbers="footer")


def write_not_received_notice(
    path: str | Path,
    *,
    quarter: str,
    reporting_unit: str,
    reporting_unit_name: str,
    deadline: date,
    issued_on: date | None = None,
    settings: DocumentSettings | None = None,
    lost: pl.DataFrame | None = None,
) -> Path:
    """A one-page notice (sheet ``Thong bao``, A4 portrait) for a unit from
    which nothing was received for ``quarter`` by ``deadline``: what is
    missing, that the unit scores 0 and is not paid for the quarter, and what
    to do; written in ``phan-hoi/`` beside the other units' feedback.
    ``lost`` (optional, ma_cb/ho_ten rows): how many persons of its last data
    now appear nowhere. Returns ``path``."""
    cfg = settings or DEFAULT_SETTINGS
    q = quarter_of(quarter)
    wb = new_workbook()
    ws = wb.create_sheet(SHEET_NOTICE)
    set_widths(ws, [12, 12, 11, 16, 17, 17])
    cols = (1, 6)
    r = write_title_block(ws, 1, left=(1, 3), right=(4, 6), number=f"Số:          /TB-{cfg.symbol}", day=issued_on, settings=cfg)
    r = write_heading(ws, r + 1, cols, "THÔNG BÁO", size=14)
    r = write_heading(ws, r, cols, f"Chưa nhận được dữ liệu PMIS {q.label_vi}", size=14)
    r = write_heading(ws, r, cols, f"Kính gửi: {reporting_unit_name or reporting_unit} ({reporting_unit})", size=13, bold=False)
    r += 1
    r = write_paragraph(
        ws, r, cols,
        f"Theo {cfg.letter_346}, dữ liệu PMIS {q.label_vi} phải gửi về Sở trước ngày {date_short(deadline)}. "
        f"Đến nay, {cfg.department_name} chưa nhận được tệp dữ liệu nào của đơn vị.",
        first_line=True,
    )
    r = write_paragraph(
        ws, r, cols,
        f"Trong thông báo kết quả {q.label_vi}, đơn vị được ghi \"Chưa gửi\", 0 điểm và xếp cuối nhóm; hồ sơ của "
        "đơn vị chưa được tính kinh phí hỗ trợ cập nhật dữ liệu của quý.",
        first_line=True,
    )
    if lost is not None and lost.height:
        r = write_paragraph(
            ws, r, cols,
            f"Có {format_vnd(lost.height)} cán bộ trong dữ liệu gửi lần trước của đơn vị hiện không có trong dữ liệu "
            "toàn tỉnh.",
            first_line=True,
        )
    r = write_paragraph(
        ws, r, cols,
        "Đề nghị Thủ trưởng đơn vị chỉ đạo cán bộ phụ trách chương trình PMIS khẩn trương hoàn thành việc cập nhật, "
        "gửi tệp dữ liệu (.xlsx, .xls hoặc .zip kèm ảnh) trực tiếp về Phòng Tổ chức cán bộ Sở. Nếu đơn vị đã gửi, "
        "đề nghị liên hệ Phòng Tổ chức cán bộ để đối chiếu./.",
        first_line=True,
    )
    r += 1
    put(ws, r, 4, "TL. GIÁM ĐỐC", bold=True, size=13, h="center", merge_to=6)
    put(ws, r + 1, 4, cfg.tccb_head_title, bold=True, size=13, h="center", wrap=True, merge_to=6)
    ws.row_dimensions[r + 1].height = 36
    put(ws, r + 6, 4, cfg.tccb_head_name, bold=True, size=13, h="center", merge_to=6)
    end = r + 6
    setup_page(ws, landscape=False, page_numbers="none")
    ws.print_area = f"A1:F{end}"
    return save(wb, path)


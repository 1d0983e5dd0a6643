"""The feedback workbook the Department sends a reporting unit each quarter:
what was received, what is wrong, which records went missing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

import polars as pl

from pmis_pipeline.documents.common import (
    Column,
    HEADER_FILL,
    SMALL_SIZE,
    TABLE_SIZE,
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

SEVERITY_VI = {"error": "Lỗi", "warning": "Cảnh báo"}
SEVERITY_ORDER = {"error": 0, "warning": 1}
RECORD_LEVEL = "(Cả hồ sơ)"
DETAIL_SIZE = 11  # the detail list is a working list: denser than the documents

SHEET_SUMMARY = "Tong hop"
SHEET_DETAIL = "Chi tiet"
SHEET_LOST = "Ho so bi mat"


def default_field_headers() -> dict[str, str]:
    from pmis_pipeline.schema import FIELD_BY_KEY

    return {k: f.header for k, f in FIELD_BY_KEY.items()}


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
) -> Path:
    """Write the unit's feedback for ``quarter``; returns ``path``.

    Frames (extra columns ignored):
    ``issues`` (ma_don_vi, ten_don_vi, ma_cb, ho_ten, field, rule, severity,
    message, value); ``staff_counts`` (ma_don_vi, ten_don_vi, n_records,
    n_with_error, n_with_warning); ``lost`` (ma_cb, ho_ten, ma_don_vi,
    last_quarter; ten_don_vi optional); ``rejected_files`` (file_name, error).

    ``field_headers`` maps a HoSo key to its Vietnamese header (default: the
    schema's); ``rule_labels`` names a rule in the summary (default: its most
    frequent message).
    """
    q = quarter_of(quarter)
    headers = dict(field_headers) if field_headers is not None else default_field_headers()
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
    _summary(wb.create_sheet(SHEET_SUMMARY), q, reporting_unit, reporting_unit_name, issues, staff_counts, rejected_files, rule_labels or {}, issued_on)
    _detail(wb.create_sheet(SHEET_DETAIL), q, reporting_unit, reporting_unit_name, issues, headers)
    _lost(wb.create_sheet(SHEET_LOST), q, reporting_unit, reporting_unit_name, lost, unit_names)
    return save(wb, path)


def _unit_line(code: str, name: str) -> str:
    return f"Đơn vị báo cáo: {code} - {name}" if name else f"Đơn vị báo cáo: {code}"


def _summary(ws, q, unit, unit_name, issues, staff_counts, rejected, rule_labels, issued_on) -> None:
    # A STT | B code/severity | C name/problem | D | E | F | G
    set_widths(ws, [6, 13, 51, 20, 13, 13, 14])
    cols = (1, 7)
    r = write_title_block(ws, 1, left=(1, 3), right=(4, 7), day=issued_on)
    r = write_heading(ws, r + 1, cols, f"KẾT QUẢ KIỂM TRA DỮ LIỆU PMIS {quarter_title(q).upper()}")
    r = write_heading(ws, r, cols, _unit_line(unit, unit_name), size=13, bold=True)
    n_records = int(staff_counts["n_records"].fill_null(0).sum() or 0)
    n_err = int(staff_counts["n_with_error"].fill_null(0).sum() or 0)
    n_warn = int(staff_counts["n_with_warning"].fill_null(0).sum() or 0)
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
            pl.col("message").drop_nulls().n_unique().alias("n_messages"),
        )
        .sort("_o", "n_issues", "rule", descending=[False, True, False])
    )
    columns = [Column("STT", "center"), Column("Mức độ", "center"), Column("Vấn đề"), Column("Mã quy tắc", "center"), Column("Số lượt", "int"), Column("Số hồ sơ", "int", span=2)]
    rows = []
    for i, (rule, sev, _o, n, p, msg, n_msg) in enumerate(by_rule.iter_rows(), start=1):
        label = rule_labels.get(rule) or (_text(msg) if n_msg <= 1 else f"{_text(msg)} (và {n_msg - 1} dạng tương tự)")
        rows.append((i, SEVERITY_VI.get(sev, _text(sev)), label, _text(rule), n, p))
    blocks.append((r - 1, r + min(len(rows), 3)))
    t = write_table(ws, r, columns, rows, header_fill=HEADER_FILL, empty_text="Không phát hiện vấn đề nào")
    if rows:
        r = write_total_row(ws, t.next_row, columns, "Cộng", {4: int(by_rule["n_issues"].sum()), 5: issues["ma_cb"].n_unique()}, label_span=4)
    else:
        r = t.next_row
    # 2. by school
    r = write_paragraph(ws, r + 1, cols, "2. Tổng hợp theo đơn vị (trường)", size=TABLE_SIZE, bold=True, h="left")
    columns = [Column("STT", "center"), Column("Mã đơn vị", "center"), Column("Tên đơn vị"), Column("Số hồ sơ", "int"), Column("Hồ sơ có lỗi", "int"), Column("Hồ sơ có cảnh báo", "int"), Column("Tỷ lệ hồ sơ có lỗi (%)", "pct")]
    schools = staff_counts.sort("ma_don_vi", nulls_last=True)
    blocks.append((r - 1, r + min(schools.height, 3)))
    rows = []
    for i, (code, name, n, e, w) in enumerate(schools.select("ma_don_vi", "ten_don_vi", "n_records", "n_with_error", "n_with_warning").iter_rows(), start=1):
        n, e, w = int(n or 0), int(e or 0), int(w or 0)
        rows.append((i, _text(code), _text(name), n, e, w, round(100.0 * e / n, 1) if n else None))
    t = write_table(ws, r, columns, rows, header_fill=HEADER_FILL, empty_text="Không có hồ sơ nào được nhận")
    if rows:
        r = write_total_row(ws, t.next_row, columns, "Cộng", {3: n_records, 4: n_err, 5: n_warn, 6: round(100.0 * n_err / n_records, 1) if n_records else None}, label_span=3)
    else:
        r = t.next_row
    # 3. rejected files
    r = write_paragraph(ws, r + 1, cols, "3. Tệp dữ liệu bị từ chối", size=TABLE_SIZE, bold=True, h="left")
    columns = [Column("STT", "center"), Column("Tên tệp", span=2), Column("Lý do", span=4)]
    rows = [(i, _text(f), _text(e)) for i, (f, e) in enumerate(rejected.select("file_name", "error").sort("file_name").iter_rows(), start=1)]
    blocks.append((r - 1, r + min(len(rows), 3)))
    t = write_table(ws, r, columns, rows, header_fill=HEADER_FILL, empty_text="Không có tệp nào bị từ chối")
    r = t.next_row + 1
    put(ws, r, 1, "Chi tiết từng hồ sơ: trang \"Chi tiet\"; hồ sơ bị mất: trang \"Ho so bi mat\".", italic=True, size=SMALL_SIZE, h="left", merge_to=7)
    setup_page(ws, landscape=True)
    keep_together(ws, blocks, last_col=7, last_row=r)


def _detail(ws, q, unit, unit_name, issues, headers) -> None:
    # where the record is: file and Excel row (when the caller gives them)
    located = {"file_name", "row_number"} <= set(issues.columns)
    widths = [5, 12, 25, 10, 18, 14, 28, 10, 11] + ([16] if located else [])
    set_widths(ws, widths)
    last = len(widths)
    r = write_heading(ws, 1, (1, last), f"CHI TIẾT HỒ SƠ CÓ VẤN ĐỀ - {quarter_title(q).upper()}", size=13)
    r = write_heading(ws, r, (1, last), _unit_line(unit, unit_name), size=12, bold=False, italic=True)
    header_row = r + 1
    columns = [
        Column("STT", "center"), Column("Mã đơn vị", "center"), Column("Tên đơn vị"), Column("Mã cán bộ", "center"),
        Column("Họ và tên"), Column("Trường dữ liệu"), Column("Vấn đề"), Column("Mức độ", "center"), Column("Giá trị đã nhận"),
    ] + ([Column("Tệp, dòng")] if located else [])
    ordered = (
        issues.with_columns(
            pl.col("severity").replace_strict(SEVERITY_ORDER, default=9).alias("_o"),
            pl.col("field").replace_strict({k: i for i, k in enumerate(headers)}, default=len(headers)).alias("_f"),
        )
        .sort("ma_don_vi", "ma_cb", "_o", "_f", "rule", nulls_last=True)
    )
    rows = []
    for i, rec in enumerate(ordered.iter_rows(named=True), start=1):
        fld = rec["field"]
        rows.append((
            i, _text(rec["ma_don_vi"]), _text(rec["ten_don_vi"]), _text(rec["ma_cb"]), _text(rec["ho_ten"]),
            headers.get(fld, fld) if fld else RECORD_LEVEL,
            _text(rec["message"]), SEVERITY_VI.get(rec["severity"], _text(rec["severity"])), _text(rec["value"]),
        ) + ((f"{_text(rec['file_name'])}, dòng {_text(rec['row_number'])}",) if located else ()))
    t = write_table(ws, header_row, columns, rows, size=DETAIL_SIZE, header_fill=HEADER_FILL, empty_text="Không có hồ sơ nào có vấn đề")
    if rows:
        ws.auto_filter.ref = f"A{t.header_row}:{chr(64 + last)}{t.last_row}"
    ws.freeze_panes = ws.cell(row=t.header_row + 1, column=1)
    setup_page(ws, landscape=True, title_rows=(t.header_row, t.header_row), gridlines=False)


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
    rows = []
    for i, rec in enumerate(lost.sort("ma_don_vi", "ma_cb", nulls_last=True).iter_rows(named=True), start=1):
        code = _text(rec["ma_don_vi"])
        name = _text(rec["ten_don_vi"]) if has_name and rec["ten_don_vi"] else unit_names.get(code, "")
        rows.append((i, _text(rec["ma_cb"]), _text(rec["ho_ten"]), code, name, _quarter_label(rec["last_quarter"])))
    t = write_table(ws, r + 1, columns, rows, header_fill=HEADER_FILL, empty_text="Không có hồ sơ nào bị mất")
    if rows:
        ws.auto_filter.ref = f"A{t.header_row}:{chr(64 + last)}{t.last_row}"
    ws.freeze_panes = ws.cell(row=t.header_row + 1, column=1)
    setup_page(ws, landscape=True, title_rows=(t.header_row, t.header_row))

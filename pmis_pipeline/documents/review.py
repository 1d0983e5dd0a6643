"""The Department's review workbook for a quarter (Phòng TCCB's working file):
catalog proposals to review, files rejected, and each unit's problems."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pmis_pipeline.documents.common import (
    HEADER_FILL,
    Column,
    new_workbook,
    quarter_title,
    save,
    set_widths,
    setup_page,
    write_heading,
    write_table,
)

PROPOSAL_VI = {"add_unit": "Bổ sung vào danh mục", "review_name": "Rà soát tên đơn vị"}
#: What the cells say where the data has nothing (never left blank: a blank
#: reads as "forgot to fill in").
NO_NAME_SENT = "(đơn vị chưa khai tên trong sheet DonVi)"
NOT_IN_CATALOG = "(chưa có trong danh mục)"
UNKNOWN_LEVEL = "(chưa rõ)"


def _sheet(wb, title: str, heading: str, columns: list[Column], widths: list[float], rows: list[tuple]):
    ws = wb.create_sheet(title)
    set_widths(ws, widths)
    write_heading(ws, 1, (1, len(columns)), heading)
    table = write_table(ws, 3, columns, rows, header_fill=HEADER_FILL)
    setup_page(ws, landscape=True, title_rows=(3, 3), page_numbers="footer")
    ws.freeze_panes = ws.cell(row=4, column=1)
    if rows:
        ws.auto_filter.ref = f"A3:{ws.cell(row=table.last_row, column=len(columns)).coordinate}"
    return ws


def write_department_review(
    path: Path,
    *,
    quarter: str,
    proposals: pl.DataFrame,
    rejected_files: pl.DataFrame,
    units: pl.DataFrame,
) -> Path:
    """Sheets: ``Danh muc`` (catalog proposals: nothing is added to the catalog
    until an operator edits units.csv), ``Tep bi tu choi`` (rejected files with
    the reason), ``Don vi`` (per reporting unit: records, errors, warnings, lost).

    proposals: proposal, reporting_unit, ma_don_vi, name_sent, name_in_catalog, cap_hoc, n_records, reason
    (:func:`pmis_pipeline.crosscheck.catalog_proposals`; a missing name or level is said in words);
    rejected_files: file_name, reporting_unit, received_at, error;
    units: reporting_unit, ten_don_vi, n_records, n_errors, n_warnings, lost_records.
    """
    wb = new_workbook()
    label = quarter_title(quarter)
    _sheet(
        wb,
        "Danh muc",
        f"ĐỀ XUẤT RÀ SOÁT, BỔ SUNG DANH MỤC ĐƠN VỊ — {label}",
        [
            Column("STT", "center"), Column("Đề xuất"), Column("Đơn vị báo cáo", "center"), Column("Mã đơn vị", "center"),
            Column("Tên đơn vị gửi lên"), Column("Tên trong danh mục"), Column("Cấp học"), Column("Số hồ sơ", "int"),
            Column("Lý do"),
        ],
        [6, 20, 12, 16, 30, 30, 11, 9, 34],
        [
            (i, PROPOSAL_VI.get(r["proposal"], r["proposal"]), r["reporting_unit"], r["ma_don_vi"],
             r["name_sent"] or NO_NAME_SENT,
             r["name_in_catalog"] or (NOT_IN_CATALOG if r["proposal"] == "add_unit" else ""),
             r["cap_hoc"] or UNKNOWN_LEVEL, r["n_records"], r["reason"])
            for i, r in enumerate(proposals.iter_rows(named=True), start=1)
        ],
    )
    _sheet(
        wb,
        "Tep bi tu choi",
        f"TỆP DỮ LIỆU KHÔNG SỬ DỤNG ĐƯỢC — {label}",
        [Column("STT", "center"), Column("Tệp"), Column("Đơn vị báo cáo", "center"), Column("Thời điểm nhận", "datetime"), Column("Lý do")],
        [6, 40, 14, 18, 80],
        [
            (i, r["file_name"], r["reporting_unit"], r["received_at"], r["error"])
            for i, r in enumerate(rejected_files.iter_rows(named=True), start=1)
        ],
    )
    _sheet(
        wb,
        "Don vi",
        f"TÌNH HÌNH DỮ LIỆU CÁC ĐƠN VỊ — {label}",
        [
            Column("STT", "center"), Column("Mã đơn vị", "center"), Column("Tên đơn vị"), Column("Số hồ sơ", "int"),
            Column("Hồ sơ có lỗi", "int"), Column("Hồ sơ có cảnh báo", "int"), Column("Hồ sơ bị mất", "int"),
        ],
        [6, 12, 44, 11, 11, 12, 11],
        [
            (i, r["reporting_unit"], r["ten_don_vi"], r["n_records"], r["n_errors"], r["n_warnings"], r["lost_records"])
            for i, r in enumerate(units.iter_rows(named=True), start=1)
        ],
    )
    return save(wb, path)

"""The quarterly announcement (thông báo) of the units' PMIS results, as
letter 346/SGD&ĐT-TCCB promises: "vào cuối mỗi quý, Sở Giáo dục và Đào tạo
sẽ thông báo kết quả thực hiện việc cập nhật dữ liệu PMIS các đơn vị"."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from pmis_pipeline.documents.common import (
    Column,
    LETTER_346,
    SMALL_SIZE,
    Signature,
    TABLE_SIZE,
    date_short,
    district_offices_wording,
    format_datetime,
    keep_together,
    new_workbook,
    quarter_of,
    save,
    set_widths,
    setup_page,
    title_lines,
    write_heading,
    write_paragraph,
    write_recipients,
    write_rows,
    write_section_row,
    write_signatures,
    write_table_header,
    write_title_block,
)

GROUPS = (
    ("phong", "I. Phòng Giáo dục và Đào tạo"),
    ("truc_thuoc", "II. Đơn vị trực thuộc Sở"),
)
NOT_SENT = "Chưa gửi"
SHEET = "Thong bao"

COLUMNS = [
    Column("Hạng", "center"),
    Column("Mã đơn vị", "center", wrap=False),
    Column("Tên đơn vị"),
    Column("Ngày nhận", "center", wrap=False),
    Column("Số ngày trễ", "int"),
    Column("Số hồ sơ", "int"),
    Column("Đầy đủ (%)", "pct"),
    Column("Chính xác (%)", "pct"),
    Column("Có ảnh (%)", "pct"),
    Column("Hồ sơ bị mất", "int"),
    Column("Điểm", "pct"),
]
WIDTHS = [7, 12, 34, 17, 9, 9, 9, 10, 9, 9, 8]

DEFAULT_SCORING_NOTE = (
    "Ghi chú: Điểm = 40% điểm thời hạn + 30% tỷ lệ đầy đủ + 30% tỷ lệ chính xác; điểm thời hạn là 100 nếu "
    "gửi đúng hạn, trừ 5 điểm cho mỗi ngày trễ, 0 nếu chưa gửi. Đầy đủ: tỷ lệ ô bắt buộc đã nhập; chính xác: "
    "tỷ lệ hồ sơ không có lỗi; hồ sơ bị mất: cán bộ đang làm việc trong dữ liệu quý trước nhưng không còn "
    "trong dữ liệu quý này. Xếp hạng riêng từng nhóm."
)

REQUIRED = (
    "reporting_unit", "ten_don_vi", "loai", "submitted", "first_received_at", "deadline", "days_late",
    "n_records", "completeness_pct", "accuracy_pct", "photo_pct", "lost_records", "score", "rank",
)


def _round(value, digits: int = 1):
    return None if value is None else round(float(value), digits)


def write_announcement(
    path: str | Path,
    *,
    quarter: str,
    compliance: pl.DataFrame,
    signer: str = "Nguyễn Văn Bé",
    signer_title: str = "GIÁM ĐỐC",
    issued_on: date | None = None,
    number: str = "Số:          /TB-SGD&ĐT",
    scoring_note: str | None = DEFAULT_SCORING_NOTE,
) -> Path:
    """Write the announcement for ``quarter`` on A4 landscape; returns ``path``.

    ``compliance``: the ``unit_compliance`` rows of the quarter with the unit
    name (``ten_don_vi``). ``signer_title`` may hold two lines, e.g.
    ``"KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC"``. ``issued_on`` None leaves the date to
    fill by hand.
    """
    missing = [c for c in REQUIRED if c not in compliance.columns]
    if missing:
        raise ValueError(f"compliance: missing columns {missing}")
    q = quarter_of(quarter)
    districts = district_offices_wording(q)
    wb = new_workbook()
    ws = wb.create_sheet(SHEET)
    set_widths(ws, WIDTHS)
    last = len(WIDTHS)
    cols = (1, last)

    r = write_title_block(ws, 1, left=(1, 3), right=(4, last), number=number, day=issued_on)
    r = write_heading(ws, r + 1, cols, "THÔNG BÁO", size=14)
    r = write_heading(ws, r, cols, f"Kết quả cập nhật dữ liệu PMIS {q.label_vi}", size=14)
    r += 1
    r = write_paragraph(ws, r, cols, f"Căn cứ {LETTER_346};", first_line=True)
    deadlines = sorted({d for d in compliance["deadline"].to_list() if d is not None})
    basis = f"Căn cứ dữ liệu PMIS {q.label_vi} các đơn vị gửi về Sở"
    if len(deadlines) == 1:
        basis += f" (thời hạn gửi: ngày {date_short(deadlines[0])})"
    r = write_paragraph(ws, r, cols, basis + ";", first_line=True)
    r = write_paragraph(
        ws, r, cols,
        f"Sở Giáo dục và Đào tạo thông báo kết quả cập nhật dữ liệu PMIS {q.label_vi} của các Phòng Giáo dục "
        f"và Đào tạo {districts} và các đơn vị trực thuộc Sở như sau:",
        first_line=True,
    )

    # One table, a section per group (ranks restart in each): the header
    # repeats on every printed page and always matches the rows under it.
    blocks = []
    header_row = r + 1
    r = write_table_header(ws, header_row, COLUMNS, size=TABLE_SIZE)
    for loai, heading in GROUPS:
        group = compliance.filter(pl.col("loai") == loai).sort("rank", "reporting_unit", nulls_last=True)
        sent = int(group["submitted"].fill_null(False).sum())
        on_time = int(group.filter(pl.col("submitted").fill_null(False) & (pl.col("days_late").fill_null(1) == 0)).height)
        # the section heading with its first rows (the first section also with the table header)
        blocks.append((header_row if not blocks else r, r + min(group.height, 3)))
        r = write_section_row(ws, r, f"{heading} ({group.height} đơn vị; đã gửi {sent}, đúng hạn {on_time})", 1, last)
        rows = []
        for rec in group.iter_rows(named=True):
            submitted = bool(rec["submitted"])
            rows.append((
                rec["rank"],
                rec["reporting_unit"],
                rec["ten_don_vi"],
                format_datetime(rec["first_received_at"]) if submitted and rec["first_received_at"] else NOT_SENT,
                rec["days_late"] if submitted else None,
                rec["n_records"],
                _round(rec["completeness_pct"]),
                _round(rec["accuracy_pct"]),
                _round(rec["photo_pct"]),
                rec["lost_records"],
                _round(rec["score"]),
            ))
        r = write_rows(ws, r, COLUMNS, rows, size=TABLE_SIZE, empty_text="(Không có đơn vị)")

    last_rows = max(r - 2, 1)  # the table's last two rows stay with the note
    if scoring_note:
        r = write_paragraph(ws, r, cols, scoring_note, size=SMALL_SIZE, italic=True)
    blocks.append((last_rows, r - 1))
    closing = r + 1
    r = write_paragraph(
        ws, r + 1, cols,
        f"Đề nghị Thủ trưởng các đơn vị trực thuộc Sở, Trưởng phòng Phòng Giáo dục và Đào tạo các {districts} "
        "căn cứ kết quả trên chỉ đạo cán bộ phụ trách chương trình PMIS khẩn trương rà soát, bổ sung đầy đủ, "
        "chính xác cơ sở dữ liệu, cập nhật hình ảnh của cán bộ, viên chức và gửi dữ liệu về Sở đúng thời gian "
        "quy định. Thủ trưởng đơn vị chịu trách nhiệm trước Giám đốc Sở nếu không thực hiện nghiêm túc việc "
        "cập nhật cơ sở dữ liệu của đơn vị, ảnh hưởng đến công việc chung của ngành./.",
        first_line=True,
    )
    r += 1
    start = r
    end_left = write_recipients(ws, start, (1, 3), [
        f"- Các Phòng GD&ĐT {districts};",
        "- Các đơn vị trực thuộc Sở;",
        "- Giám đốc, các Phó Giám đốc Sở;",
        "- Lưu: VT, TCCB.",
    ])
    end_right = write_signatures(ws, start, [((6, last), Signature(title_lines(signer_title), signer, note=""))])
    setup_page(ws, landscape=True, title_rows=(header_row, header_row))
    end = max(end_left, end_right) - 1
    ws.print_area = f"A1:K{end}"
    keep_together(ws, [*blocks, (closing, end)], last_col=last, last_row=end)
    return save(wb, path)

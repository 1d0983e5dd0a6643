"""The quarterly announcement (thông báo) of the units' PMIS results, as
letter 346/SGD&ĐT-TCCB promises: "vào cuối mỗi quý, Sở Giáo dục và Đào tạo
sẽ thông báo kết quả thực hiện việc cập nhật dữ liệu PMIS các đơn vị".

Laid out per Decree 30/2020: the body on A4 portrait (sheet ``Thong bao``:
header blocks, number and symbol, place and date, the bases, what was
received, how the score and the rank are computed, the request, recipients
and the signature), the ranking table as its annex (sheet ``Phu luc``,
"Phụ lục ... kèm theo Thông báo số ..."), in landscape for its eleven
columns, numbered on its own. Scores and percentages print with two
decimals in Vietnamese form ("99,12"); a percentage below 100 never prints
100 (99,996 -> "99,99").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from pmis_pipeline.documents.common import (
    DECREE30_MARGINS_CM,
    BODY_SIZE,
    Column,
    SMALL_SIZE,
    Signature,
    TABLE_SIZE,
    date_short,
    date_words,
    district_offices_wording,
    draft_title,
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
from pmis_pipeline.documents.money import format_decimal
from pmis_pipeline.documents.settings import DEFAULT_SETTINGS, DocumentSettings

GROUPS = (
    ("phong", "I. Phòng Giáo dục và Đào tạo"),
    ("truc_thuoc", "II. Đơn vị trực thuộc Sở"),
)
GROUP_NAMES = {"phong": "Phòng Giáo dục và Đào tạo", "truc_thuoc": "đơn vị trực thuộc Sở"}
NOT_SENT = "Chưa gửi"
SHEET = "Thong bao"
ANNEX_SHEET = "Phu luc"

COLUMNS = [
    Column("Hạng", "center"),
    Column("Mã đơn vị", "center", wrap=False),
    Column("Tên đơn vị"),
    Column("Nhận lần đầu", "center", wrap=False),
    Column("Số ngày trễ", "int"),
    Column("Số hồ sơ", "int"),
    Column("Đầy đủ (%)", "pct"),
    Column("Chính xác (%)", "pct"),
    Column("Có ảnh (%)", "pct"),
    Column("Hồ sơ bị mất", "int"),
    Column("Điểm", "pct"),
]
ANNEX_WIDTHS = [6, 11, 34, 17, 8, 9, 10, 10, 9, 9, 9]
# Portrait body: six columns over the printable 165 mm (Decree 30 margins).
BODY_WIDTHS = [12, 12, 11, 16, 17, 17]  # agency block 1-3, motto block 4-6

TIE_BREAK = (
    "Xếp hạng riêng trong từng nhóm (Phòng Giáo dục và Đào tạo; đơn vị trực thuộc Sở): đơn vị có điểm cao hơn "
    "xếp trên; cùng điểm thì đơn vị gửi dữ liệu lần đầu sớm hơn xếp trên; nếu vẫn bằng nhau thì xếp theo mã "
    "đơn vị (thứ tự chữ cái). Đơn vị chưa gửi dữ liệu được 0 điểm."
)

REQUIRED = (
    "reporting_unit", "ten_don_vi", "loai", "submitted", "first_received_at", "deadline", "days_late",
    "n_records", "completeness_pct", "accuracy_pct", "photo_pct", "lost_records", "score", "rank",
)

DEFAULT_SCORING: dict[str, float] = {
    "weight_timeliness": 0.4, "weight_completeness": 0.3, "weight_accuracy": 0.3, "penalty_per_day_late": 5,
}


def scoring_rule(scoring: Mapping[str, Any] | None = None) -> str:
    """The score's formula in words, from the ``[scoring]`` weights."""
    s = {**DEFAULT_SCORING, **(scoring or {})}

    def pct(w: float) -> str:
        return format_decimal(100 * float(w), 0 if float(100 * float(w)).is_integer() else 1)

    penalty = s["penalty_per_day_late"]
    penalty_text = format_decimal(penalty, 0 if float(penalty).is_integer() else 1)
    return (
        f"Điểm = {pct(s['weight_timeliness'])}% điểm thời hạn + {pct(s['weight_completeness'])}% tỷ lệ đầy đủ + "
        f"{pct(s['weight_accuracy'])}% tỷ lệ chính xác, làm tròn đến hai chữ số thập phân. Điểm thời hạn là 100 "
        f"nếu gửi đúng hạn, trừ {penalty_text} điểm cho mỗi ngày trễ (không dưới 0), 0 nếu chưa gửi. Tỷ lệ đầy đủ: "
        "số ô bắt buộc đã nhập trên tổng số ô bắt buộc; tỷ lệ chính xác: số hồ sơ không có lỗi trên tổng số hồ sơ; "
        "có ảnh: số hồ sơ có ảnh hợp lệ trên tổng số hồ sơ; hồ sơ bị mất: cán bộ đang làm việc trong dữ liệu quý "
        "trước nhưng không còn trong dữ liệu quý này."
    )


def _names(frame: pl.DataFrame) -> str:
    return ", ".join(f"{n or c}" for c, n in frame.select("reporting_unit", "ten_don_vi").iter_rows())


def _status_paragraphs(compliance: pl.DataFrame) -> list[str]:
    """One sentence per group: how many sent, on time, late (who), not sent (who)."""
    out = []
    for i, (loai, _) in enumerate(GROUPS, start=1):
        group = compliance.filter(pl.col("loai") == loai).sort("reporting_unit")
        if not group.height:
            continue
        sent = group.filter(pl.col("submitted").fill_null(False))
        late = sent.filter(pl.col("days_late").fill_null(0) > 0)
        missing = group.filter(~pl.col("submitted").fill_null(False))
        text = (
            f"{i}. Nhóm {GROUP_NAMES[loai]}: {group.height} đơn vị; {sent.height} đơn vị đã gửi dữ liệu, trong đó "
            f"{sent.height - late.height} đơn vị gửi đúng hạn"
        )
        if late.height:
            text += f", {late.height} đơn vị gửi trễ hạn ({_names(late)})"
        text += "; "
        text += f"{missing.height} đơn vị chưa gửi ({_names(missing)})." if missing.height else "không có đơn vị nào chưa gửi."
        out.append(text)
    return out


def _score(value) -> float | None:
    return None if value is None else float(value)


def write_announcement(
    path: str | Path,
    *,
    quarter: str,
    compliance: pl.DataFrame,
    settings: DocumentSettings | None = None,
    issued_on: date | None = None,
    number: str | None = None,
    scoring: Mapping[str, Any] | None = None,
    draft: bool = False,
) -> Path:
    """Write the announcement for ``quarter``; returns ``path``.

    ``compliance``: the ``unit_compliance`` rows of the quarter (every unit
    of the catalog, submitted or not) with the unit name (``ten_don_vi``).
    ``settings``: the ``[documents]`` configuration (issuer, signer, letter
    346); ``issued_on`` None leaves the date to the pen; ``number`` defaults
    to "Số:      /TB-<symbol>" (filled in by the clerk's office);
    ``scoring`` the ``[scoring]`` weights stated in the text; ``draft``
    marks the title "DỰ THẢO" (the caller names the file with
    :func:`~pmis_pipeline.documents.common.document_file_name`).
    """
    missing = [c for c in REQUIRED if c not in compliance.columns]
    if missing:
        raise ValueError(f"compliance: missing columns {missing}")
    cfg = settings or DEFAULT_SETTINGS
    q = quarter_of(quarter)
    districts = district_offices_wording(q)
    number = number or f"Số:          /TB-{cfg.symbol}"
    wb = new_workbook()

    # ---------------------------------------------------------------- body
    ws = wb.create_sheet(SHEET)
    set_widths(ws, BODY_WIDTHS)
    last = len(BODY_WIDTHS)
    cols = (1, last)
    r = write_title_block(ws, 1, left=(1, 3), right=(4, last), number=number, day=issued_on, settings=cfg, size=12)
    r = write_heading(ws, r + 1, cols, draft_title("THÔNG BÁO", draft), size=14)
    r = write_heading(ws, r, cols, f"Kết quả cập nhật dữ liệu PMIS {q.label_vi}", size=14)
    r += 1
    r = write_paragraph(ws, r, cols, f"Căn cứ {cfg.letter_346};", first_line=True)
    deadlines = sorted({d for d in compliance["deadline"].to_list() if d is not None})
    basis = f"Căn cứ dữ liệu PMIS {q.label_vi} các đơn vị gửi về Sở"
    if len(deadlines) == 1:
        basis += f" (thời hạn gửi: ngày {date_short(deadlines[0])})"
    r = write_paragraph(ws, r, cols, basis + ",", first_line=True)
    r = write_paragraph(
        ws, r, cols,
        f"{cfg.department_name} thông báo kết quả cập nhật dữ liệu PMIS {q.label_vi} của các Phòng Giáo dục "
        f"và Đào tạo {districts} và các đơn vị trực thuộc Sở như sau:",
        first_line=True,
    )
    r = write_paragraph(ws, r, cols, "I. TÌNH HÌNH GỬI DỮ LIỆU", bold=True, h="left")
    for text in _status_paragraphs(compliance):
        r = write_paragraph(ws, r, cols, text, first_line=True)
    r = write_paragraph(ws, r, cols, "II. KẾT QUẢ VÀ XẾP HẠNG", bold=True, h="left")
    r = write_paragraph(
        ws, r, cols,
        f"Kết quả của từng đơn vị (ngày nhận dữ liệu, số ngày trễ, số hồ sơ, tỷ lệ đầy đủ, chính xác, có ảnh, hồ "
        f"sơ bị mất, điểm và hạng) tại Phụ lục kèm theo Thông báo này.",
        first_line=True,
    )
    r = write_paragraph(ws, r, cols, f"1. Cách tính điểm: {scoring_rule(scoring)}", first_line=True)
    r = write_paragraph(ws, r, cols, f"2. Cách xếp hạng: {TIE_BREAK}", first_line=True)
    closing = r
    r = write_paragraph(ws, r, cols, "III. ĐỀ NGHỊ", bold=True, h="left")
    r = write_paragraph(
        ws, r, cols,
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
    end_right = write_signatures(ws, start, [((4, last), Signature(title_lines(cfg.director_title), cfg.director_name, note=""))])
    end = max(end_left, end_right) - 1
    setup_page(ws, landscape=False, margins_cm=DECREE30_MARGINS_CM, page_numbers="decree30")
    ws.print_area = f"A1:F{end}"
    keep_together(ws, [(closing, end)], last_col=last, last_row=end)

    # ---------------------------------------------------------------- annex
    ax = wb.create_sheet(ANNEX_SHEET)
    set_widths(ax, ANNEX_WIDTHS)
    last = len(ANNEX_WIDTHS)
    cols = (1, last)
    r = write_heading(ax, 1, cols, "Phụ lục", size=14)
    r = write_heading(ax, r, cols, draft_title(f"KẾT QUẢ CẬP NHẬT DỮ LIỆU PMIS {q.label_vi.upper()}", draft), size=14)
    number_only = number.replace("Số:", "").strip()
    if number_only.startswith("/"):
        number_only = "......." + number_only  # to be filled in with the body's number
    r = write_heading(
        ax, r, cols,
        f"(Kèm theo Thông báo số {number_only} {date_words(issued_on)} của {cfg.department_name})",
        size=BODY_SIZE, bold=False, italic=True,
    )
    header_row = r + 1
    r = write_table_header(ax, header_row, COLUMNS, size=TABLE_SIZE)
    blocks = []
    for loai, heading in GROUPS:
        group = compliance.filter(pl.col("loai") == loai).sort("rank", "reporting_unit", nulls_last=True)
        if not group.height:
            continue
        sent = int(group["submitted"].fill_null(False).sum())
        on_time = int(group.filter(pl.col("submitted").fill_null(False) & (pl.col("days_late").fill_null(1) == 0)).height)
        blocks.append((r, r + min(group.height, 3)))  # a group's heading with its first rows
        r = write_section_row(ax, r, f"{heading} ({group.height} đơn vị; đã gửi {sent}, đúng hạn {on_time})", 1, last)
        rows = []
        for rec in group.iter_rows(named=True):
            submitted = bool(rec["submitted"])
            rows.append((
                rec["rank"],
                rec["reporting_unit"],
                rec["ten_don_vi"] or rec["reporting_unit"],
                format_datetime(rec["first_received_at"]) if submitted and rec["first_received_at"] else NOT_SENT,
                rec["days_late"] if submitted else None,
                rec["n_records"] if submitted else None,
                _score(rec["completeness_pct"]) if submitted else None,
                _score(rec["accuracy_pct"]) if submitted else None,
                _score(rec["photo_pct"]) if submitted else None,
                rec["lost_records"] if submitted else None,
                _score(rec["score"]),
            ))
        r = write_rows(ax, r, COLUMNS, rows, size=TABLE_SIZE, empty_text="(Không có đơn vị)")
    if not blocks:
        r = write_rows(ax, r, COLUMNS, [], size=TABLE_SIZE, empty_text="(Không có đơn vị nào trong danh mục)")
    r = write_paragraph(
        ax, r, cols,
        "Ghi chú: điểm, tỷ lệ đầy đủ, chính xác, có ảnh ghi hai chữ số thập phân; tỷ lệ dưới 100% không làm tròn "
        "lên 100. Cách tính điểm và xếp hạng: mục II của Thông báo.",
        size=SMALL_SIZE, italic=True,
    )
    end = r - 1
    setup_page(ax, landscape=True, margins_cm=DECREE30_MARGINS_CM, title_rows=(header_row, header_row), page_numbers="decree30")
    ax.print_area = f"A1:{chr(64 + last)}{end}"
    blocks.append((max(end - 2, header_row + 1), end))  # the note never alone on a page
    keep_together(ax, blocks, last_col=last, last_row=end)
    return save(wb, path)

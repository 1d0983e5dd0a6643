"""The quarterly statistical report (báo cáo thống kê) of the Department: one
A4 workbook, one sheet per table, every figure taken from the warehouse's
``stat_*`` views (:class:`pmis_pipeline.stats.QuarterStatistics`), so the
printed report and the analysts' queries give the same numbers.

Each table ends with a "Tổng cộng" row; the counts reconcile with the
quarter's ``staff`` rows (the person tables, "Biến động", with its persons).
Layout comes from :mod:`.common` (title block, headings, tables, totals).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.workbook import Workbook

from pmis_pipeline.documents.common import (
    HEADER_FILL,
    SMALL_SIZE,
    Column,
    Signature,
    date_short,
    keep_together,
    new_workbook,
    quarter_title,
    save,
    set_widths,
    setup_page,
    write_heading,
    write_paragraph,
    write_section_row,
    write_signatures,
    write_table,
    write_table_header,
    write_rows,
    write_title_block,
    write_total_row,
)
from pmis_pipeline.stats import (
    DEPARTURE_KEYS,
    DEPARTURE_STATUSES,
    LEVEL_ORDER,
    MINORITY,
    KINH,
    UNKNOWN,
    QuarterStatistics,
)

TOTAL = "Tổng cộng"
TOTAL_HEADER = "Tổng số"
REPORT_TITLE = "BÁO CÁO THỐNG KÊ ĐỘI NGŨ CÁN BỘ, GIÁO VIÊN, NHÂN VIÊN"
STANDARDS = ("Trên chuẩn", "Đạt chuẩn", "Chưa đạt chuẩn", UNKNOWN)
LOAI_VI = {"phong": "Phòng GD&ĐT", "truc_thuoc": "Đơn vị trực thuộc Sở"}


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _levels(stats: QuarterStatistics) -> list[str]:
    present = set(stats.by_unit["cap_hoc"].to_list())
    known = [lvl for lvl in LEVEL_ORDER if lvl in present]
    others = sorted(present - set(LEVEL_ORDER) - {UNKNOWN})
    return known + others + ([UNKNOWN] if UNKNOWN in present else [])


#: Row blocks (title to total) of the tables of each sheet being written, kept on one page when they fit.
_BLOCKS: dict[str, list[tuple[int, int]]] = {}


def _title_split(widths: Sequence[float], left_needs: float = 28.0, right_needs: float = 52.0) -> int:
    """Last column of the title block's left part (the agency), leaving the
    national motto on the right the room it needs (widths in column units)."""
    splits = range(1, len(widths))
    fits = [k for k in splits if sum(widths[:k]) >= left_needs and sum(widths[k:]) >= right_needs]
    if fits:
        return max(fits)
    return max(splits, key=lambda k: min(sum(widths[:k]) - left_needs, sum(widths[k:]) - right_needs))


def _sheet(wb: Workbook, name: str, number: int, title: str, stats: QuarterStatistics,
           widths: Sequence[float], *, landscape: bool = False) -> tuple[Worksheet, int]:
    """A sheet with the Department's title block, the report title and the table's title."""
    ws = wb.create_sheet(name)
    set_widths(ws, widths)
    last = len(widths)
    split = _title_split(widths)
    r = write_title_block(ws, 1, left=(1, split), right=(split + 1, last), number=None)
    r = write_heading(ws, r + 1, (1, last), REPORT_TITLE, size=13)
    r = write_heading(ws, r, (1, last), f"Biểu {number}: {title}", size=13)
    r = write_heading(
        ws, r, (1, last),
        f"{quarter_title(stats.quarter)} (số liệu đến ngày {date_short(stats.quarter_end)})",
        size=12, bold=False, italic=True,
    )
    setup_page(ws, landscape=landscape)
    return ws, r + 1


def _table(ws: Worksheet, row: int, columns: list[Column], rows: list[Sequence], totals: dict[int, object],
           *, label_span: int = 2, title: str | None = None, repeat_header: bool = False) -> int:
    """A titled table with its "Tổng cộng" row; returns the next free row (after a blank one).
    ``repeat_header``: the sheet's long table, whose header row prints on every page."""
    last = sum(c.span for c in columns)
    first = row
    if title:
        row = write_heading(ws, row, (1, last), title, size=12)
    table = write_table(ws, row, columns, rows, header_fill=HEADER_FILL)
    if repeat_header:
        ws.print_title_rows = f"{table.header_row}:{table.header_row}"
    r = write_total_row(ws, table.next_row, columns, TOTAL, totals, label_span=label_span)
    _BLOCKS.setdefault(ws.title, []).append((first, r - 1))
    return r + 1


def _counts_table(ws: Worksheet, row: int, stats: QuarterStatistics, attribute: str, heading: str,
                  *, title: str | None = None, party: bool = False, by_sex: bool = False, label_span: int = 1) -> int:
    """Rows of one attribute of ``stat_by_attribute``: STT, value, total, female (or male and
    female), share, and party members when asked."""
    frame = stats.attribute(attribute)
    columns = [Column("STT", "center"), Column(heading, span=label_span), Column(TOTAL_HEADER, "int")]
    columns += [Column("Nam", "int"), Column("Nữ", "int")] if by_sex else [Column("Nữ", "int")]
    columns.append(Column("Tỷ lệ (%)", "pct"))
    if party:
        columns.append(Column("Đảng viên", "int"))
    total = int(frame["n_staff"].sum()) if frame.height else 0
    rows = []
    for i, rec in enumerate(frame.iter_rows(named=True), start=1):
        line = [i, rec["label"], rec["n_staff"]]
        line += [rec["n_male"], rec["n_female"]] if by_sex else [rec["n_female"]]
        line.append(_pct(rec["n_staff"], total))
        if party:
            line.append(rec["n_party"])
        rows.append(line)
    totals: dict[int, object] = {2: total}
    sums = ["n_male", "n_female"] if by_sex else ["n_female"]
    for j, col in enumerate(sums, start=3):
        totals[j] = int(frame[col].sum()) if frame.height else 0
    totals[3 + len(sums)] = 100.0 if total else None
    if party:
        totals[4 + len(sums)] = int(frame["n_party"].sum()) if frame.height else 0
    return _table(ws, row, columns, rows, totals, title=title)


# --------------------------------------------------------------------------
# The sheets
# --------------------------------------------------------------------------


def _summary(wb: Workbook, stats: QuarterStatistics, signer: str, signer_title: str, preparer: str) -> None:
    widths = [6, 26, 30, 22]
    ws, r = _sheet(wb, "TongHop", 0, "Tổng hợp chung", stats, widths)
    sex = stats.attribute("gioi_tinh")
    female = int(sex.filter(pl.col("value") == "Nữ")["n_staff"].sum())
    q = stats.quality
    submitted = int(q["submitted"].fill_null(False).sum()) if q.height else 0
    roles = stats.attribute("nhom_chuc_vu")
    party = int(stats.attribute("dang_vien").filter(pl.col("value") == "Có")["n_staff"].sum())
    lines = [
        ("Đơn vị báo cáo đã gửi dữ liệu / tổng số đơn vị báo cáo", f"{submitted}/{q.height}"),
        ("Số hồ sơ cán bộ, giáo viên, nhân viên", stats.n_staff),
        ("Số người (mỗi mã cán bộ tính một lần)", stats.n_persons),
        ("Trong đó: nữ", female),
    ]
    lines += [(f"Trong đó: {rec['label'].lower()}", rec["n_staff"]) for rec in roles.iter_rows(named=True)]
    lines.append(("Trong đó: đảng viên", party))
    rows = [(i, text, value) for i, (text, value) in enumerate(lines, start=1)]
    table = write_table(ws, r, [Column("STT", "center"), Column("Nội dung", span=2), Column("Số liệu", "int")], rows,
                        header_fill=HEADER_FILL)
    r = table.next_row + 1
    contents = [
        "Biểu 1: Số lượng theo huyện, đơn vị báo cáo và cấp học",
        "Biểu 2: Theo cấp học và nhóm chức vụ",
        "Biểu 3: Theo giới tính, dân tộc, tôn giáo",
        "Biểu 4: Theo trình độ chuyên môn; giáo viên theo chuẩn trình độ đào tạo",
        "Biểu 5: Theo trình độ lý luận chính trị và đảng viên",
        "Biểu 6: Theo độ tuổi và giới tính",
        "Biểu 7: Theo ngạch và nhóm ngạch lương",
        "Biểu 8: Ảnh, mức đầy đủ và chính xác của dữ liệu theo đơn vị báo cáo",
        "Biểu 9: Biến động so với quý trước",
        "Biểu 10: Danh sách chuyển giữa các đơn vị báo cáo (khi có số liệu quý trước)",
    ]
    r = write_paragraph(ws, r, (1, 4), "Các biểu thống kê kèm theo:", bold=True)
    for text in contents:
        r = write_paragraph(ws, r, (1, 4), f"- {text}", indent=1)
    r = write_paragraph(
        ws, r, (1, 4),
        "Số liệu tổng hợp từ cơ sở dữ liệu PMIS của Sở (dữ liệu các đơn vị gửi trong quý, sau khi đã lấy bản gửi "
        "sau cùng); tuổi tính đến ngày cuối quý.",
        size=SMALL_SIZE, italic=True,
    )
    write_signatures(ws, r + 1, [((1, 2), Signature(["NGƯỜI LẬP BIỂU"], preparer)),
                                 ((3, 4), Signature([t for t in signer_title.split(" / ") if t], signer))])


def _by_unit(wb: Workbook, stats: QuarterStatistics) -> None:
    levels = _levels(stats)
    widths = [6, 34, 11] + [10] * len(levels) + [10, 9, 9]
    ws, r = _sheet(wb, "01-DonVi", 1, "Số lượng theo huyện, đơn vị báo cáo và cấp học", stats, widths,
                   landscape=True)
    columns = [Column("STT", "center"), Column("Đơn vị báo cáo"), Column("Mã", "center", wrap=False)]
    columns += [Column(level, "int") for level in levels]
    columns += [Column(TOTAL_HEADER, "int"), Column("Nữ", "int"), Column("Giáo viên", "int")]
    counts = {(rec["reporting_unit"], rec["cap_hoc"]): rec for rec in stats.by_unit.iter_rows(named=True)}
    units = stats.quality.select("reporting_unit", "ten_don_vi", "huyen").unique().sort("huyen", "reporting_unit",
                                                                                            nulls_last=True)
    first = write_table_header(ws, r, columns, header_fill=HEADER_FILL)
    ws.print_title_rows = f"{r}:{r}"
    r = first
    grand = {i: 0 for i in range(3, len(columns))}
    n = 0
    for (huyen,), group in units.group_by(["huyen"], maintain_order=True):
        r = write_section_row(ws, r, str(huyen or UNKNOWN), 1, sum(c.span for c in columns))
        sub = {i: 0 for i in range(3, len(columns))}
        rows = []
        for rec in group.iter_rows(named=True):
            code = rec["reporting_unit"]
            per = [counts.get((code, lvl)) for lvl in levels]
            values = [c["n_staff"] if c else 0 for c in per]
            total = sum(values)
            female = sum(c["n_female"] for c in per if c)
            teachers = sum(c["n_teachers"] for c in per if c)
            n += 1
            line = [n, rec["ten_don_vi"], code, *values, total, female, teachers]
            rows.append(line)
            for i in sub:
                sub[i] += line[i]
        r = write_rows(ws, r, columns, rows)
        r = write_total_row(ws, r, columns, f"Cộng {huyen or ''}".strip(), sub, label_span=3, bold=False)
        for i in grand:
            grand[i] += sub[i]
    write_total_row(ws, r, columns, TOTAL, grand, label_span=3)


def _by_level(wb: Workbook, stats: QuarterStatistics) -> None:
    widths = [6, 26, 11, 10, 12, 11, 11, 11]
    ws, r = _sheet(wb, "02-CapHoc", 2, "Theo cấp học và nhóm chức vụ", stats, widths)
    columns = [
        Column("STT", "center"), Column("Cấp học"), Column(TOTAL_HEADER, "int"), Column("Nữ", "int"),
        Column("Cán bộ quản lý", "int"), Column("Giáo viên", "int"), Column("Nhân viên", "int"),
        Column("Đảng viên", "int"),
    ]
    keys = ["n_staff", "n_female", "n_managers", "n_teachers", "n_support", "n_party"]
    per_level = stats.by_unit.group_by("cap_hoc").agg(pl.col(k).sum() for k in keys)
    by_level = {rec["cap_hoc"]: rec for rec in per_level.iter_rows(named=True)}
    rows = [[i, lvl, *[by_level[lvl][k] for k in keys]] for i, lvl in enumerate(_levels(stats), start=1)]
    totals = {j: int(per_level[k].sum()) for j, k in enumerate(keys, start=2)}
    _table(ws, r, columns, rows, totals)


def _demographics(wb: Workbook, stats: QuarterStatistics) -> None:
    widths = [6, 28, 18, 17, 17]
    ws, r = _sheet(wb, "03-GioiTinh-DanToc", 3, "Theo giới tính, dân tộc, tôn giáo", stats, widths)
    r = _counts_table(ws, r, stats, "gioi_tinh", "Giới tính", title="3.1. Giới tính")
    # ethnic groups: Kinh, then the minorities group by group under their subtotal
    columns = [Column("STT", "center"), Column("Dân tộc"), Column(TOTAL_HEADER, "int"), Column("Nữ", "int"),
               Column("Tỷ lệ (%)", "pct")]
    minority = stats.attribute("nhom_dan_toc").filter(pl.col("value") == MINORITY)
    detail = stats.attribute("dan_toc")
    total = int(detail["n_staff"].sum()) if detail.height else 0
    r = write_heading(ws, r, (1, 5), "3.2. Dân tộc", size=12)
    r = write_table_header(ws, r, columns, header_fill=HEADER_FILL)

    def line(n: int, label: str, rec: dict) -> list:
        return [n, label, rec["n_staff"], rec["n_female"], _pct(rec["n_staff"], total)]

    kinh = detail.filter(pl.col("value") == KINH)
    groups = detail.filter((pl.col("value") != KINH) & (pl.col("sort_key") < 900))
    unknown = detail.filter(pl.col("sort_key") >= 900)
    n = 0
    for rec in kinh.iter_rows(named=True):
        n += 1
        r = write_rows(ws, r, columns, [line(n, rec["label"], rec)])
    if minority.height:
        rec = minority.row(0, named=True)
        r = write_total_row(ws, r, columns, f"{MINORITY}, trong đó:",
                            {2: rec["n_staff"], 3: rec["n_female"], 4: _pct(rec["n_staff"], total)}, label_span=2)
        rows = []
        for rec in groups.iter_rows(named=True):
            n += 1
            rows.append(line(n, f"- {rec['label']}", rec))
        r = write_rows(ws, r, columns, rows, empty_text=None)
    rows = []
    for rec in unknown.iter_rows(named=True):
        n += 1
        rows.append(line(n, rec["label"], rec))
    r = write_rows(ws, r, columns, rows, empty_text=None)
    r = write_total_row(ws, r, columns, TOTAL, {2: total, 3: int(detail["n_female"].sum()) if detail.height else 0,
                                                 4: 100.0 if total else None}, label_span=2)
    r += 1
    _counts_table(ws, r, stats, "ton_giao", "Tôn giáo", title="3.3. Tôn giáo")


def _qualifications(wb: Workbook, stats: QuarterStatistics) -> None:
    widths = [6, 24, 11, 11, 11, 12, 12, 11]
    ws, r = _sheet(wb, "04-TrinhDo", 4, "Theo trình độ chuyên môn; giáo viên theo chuẩn trình độ đào tạo", stats,
                   widths)
    r = _counts_table(ws, r, stats, "trinh_do", "Trình độ chuyên môn", title="4.1. Trình độ chuyên môn",
                      party=True)
    columns = [Column("STT", "center"), Column("Cấp học"), Column("Tổng số giáo viên", "int")]
    columns += [Column(s, "int") for s in STANDARDS]
    columns.append(Column("Đạt chuẩn trở lên (%)", "pct"))
    per = {(rec["cap_hoc"], rec["qualification_standard"]): rec["n_teachers"] for rec in stats.standards.iter_rows(named=True)}
    present = set(stats.standards["cap_hoc"].to_list())
    levels = [lvl for lvl in _levels(stats) if lvl in present]
    rows, totals = [], {i: 0 for i in range(2, 2 + 1 + len(STANDARDS))}
    for i, lvl in enumerate(levels, start=1):
        values = [per.get((lvl, s), 0) for s in STANDARDS]
        total = sum(values)
        rows.append([i, lvl, total, *values, _pct(values[0] + values[1], total)])
        for j, v in enumerate([total, *values], start=2):
            totals[j] += v
    totals[len(columns) - 1] = _pct(totals[3] + totals[4], totals[2])
    _table(ws, r, columns, rows, totals, title="4.2. Giáo viên theo chuẩn trình độ đào tạo (Luật Giáo dục 2005)")


def _politics(wb: Workbook, stats: QuarterStatistics) -> None:
    widths = [6, 28, 13, 13, 13, 13]
    ws, r = _sheet(wb, "05-ChinhTri", 5, "Theo trình độ lý luận chính trị và đảng viên", stats, widths)
    r = _counts_table(ws, r, stats, "ly_luan_ct", "Lý luận chính trị", title="5.1. Trình độ lý luận chính trị",
                      party=True)
    _counts_table(ws, r, stats, "dang_vien", "Đảng viên", title="5.2. Đảng viên")


def _ages(wb: Workbook, stats: QuarterStatistics) -> None:
    widths = [6, 26, 13, 13, 13, 13]
    ws, r = _sheet(wb, "06-DoTuoi", 6, "Theo độ tuổi và giới tính", stats, widths)
    _counts_table(ws, r, stats, "nhom_tuoi", "Độ tuổi", by_sex=True,
                  title=f"Tuổi tính đến ngày {date_short(stats.quarter_end)}")


def _grades(wb: Workbook, stats: QuarterStatistics) -> None:
    widths = [6, 40, 18, 17, 17]
    ws, r = _sheet(wb, "07-Ngach", 7, "Theo ngạch và nhóm ngạch lương", stats, widths)
    r = _counts_table(ws, r, stats, "ma_ngach", "Mã ngạch - tên ngạch", title="7.1. Ngạch")
    _counts_table(ws, r, stats, "nhom_luong", "Nhóm ngạch lương (Nghị định 204/2004)", title="7.2. Nhóm ngạch lương")


def _quality(wb: Workbook, stats: QuarterStatistics) -> None:
    widths = [6, 11, 34, 8, 10, 10, 10, 10, 10, 10, 10]
    ws, r = _sheet(wb, "08-ChatLuong", 8, "Ảnh, mức đầy đủ và chính xác của dữ liệu theo đơn vị báo cáo", stats,
                   widths, landscape=True)
    columns = [
        Column("STT", "center"), Column("Mã đơn vị", "center", wrap=False), Column("Đơn vị báo cáo"),
        Column("Đã gửi", "center"), Column(TOTAL_HEADER, "int"), Column("Có ảnh", "int"), Column("Có ảnh (%)", "pct"),
        Column("Hồ sơ đủ thông tin", "int"), Column("Đầy đủ (%)", "pct"), Column("Hồ sơ không lỗi", "int"),
        Column("Chính xác (%)", "pct"),
    ]
    rows = []
    q = stats.quality.sort("loai", "reporting_unit")
    for i, rec in enumerate(q.iter_rows(named=True), start=1):
        sent = bool(rec["submitted"])
        rows.append([
            i, rec["reporting_unit"], rec["ten_don_vi"], "Có" if sent else "Chưa gửi", rec["n_staff"],
            rec["n_with_photo"], rec["photo_pct"] if sent else None, rec["n_complete"],
            rec["completeness_pct"] if sent else None, rec["n_valid"], rec["accuracy_pct"] if sent else None,
        ])
    n = int(q["n_staff"].sum()) if q.height else 0
    photos, complete, valid = (int(q[c].sum()) if q.height else 0 for c in ("n_with_photo", "n_complete", "n_valid"))
    totals = {4: n, 5: photos, 6: _pct(photos, n), 7: complete, 9: valid, 10: _pct(valid, n)}
    r = _table(ws, r, columns, rows, totals, label_span=4, repeat_header=True)
    write_paragraph(
        ws, r, (1, len(widths)),
        "Ghi chú: Có ảnh (%) = hồ sơ có ảnh / số hồ sơ; Đầy đủ (%) = ô bắt buộc đã nhập / ô bắt buộc; "
        "Chính xác (%) = hồ sơ không có lỗi / số hồ sơ.",
        size=SMALL_SIZE, italic=True,
    )


def _changes(wb: Workbook, stats: QuarterStatistics) -> None:
    widths = [6, 11, 30, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]
    ws, r = _sheet(wb, "09-BienDong", 9, "Biến động so với quý trước", stats, widths, landscape=True)
    last = len(widths)
    r = _counts_table(ws, r, stats, "tinh_trang", "Tình trạng báo trong quý",
                      title="9.1. Tình trạng công tác các đơn vị báo trong quý này", label_span=2)
    if stats.previous_quarter is None:
        write_paragraph(
            ws, r, (1, last),
            "9.2. Kho dữ liệu chưa có số liệu của quý trước nên chưa thống kê được biến động.", italic=True,
        )
        return
    columns = [
        Column("STT", "center"), Column("Mã đơn vị", "center", wrap=False), Column("Đơn vị báo cáo"),
        Column(f"Quý trước ({stats.previous_quarter})", "int"), Column("Tăng mới", "int"),
        Column("Chuyển đến", "int"), Column("Chuyển đi", "int"),
        *[Column(f"Giảm: {s.lower()}", "int") for s in DEPARTURE_STATUSES],
        Column("Giảm: không báo", "int"), Column("Quý này", "int"),
    ]
    keys = ["n_previous", "n_joined", "n_moved_in", "n_moved_out",
            *[f"n_left_{k}" for k in DEPARTURE_KEYS], "n_left_unannounced", "n_now"]
    c = stats.changes
    rows = [[i, rec["reporting_unit"], rec["ten_don_vi"], *[rec[k] for k in keys]]
            for i, rec in enumerate(c.iter_rows(named=True), start=1)]
    totals = {j: int(c[k].sum()) if c.height else 0 for j, k in enumerate(keys, start=3)}
    r = _table(ws, r, columns, rows, totals, label_span=3, repeat_header=True,
               title="9.2. Số người theo đơn vị báo cáo (mỗi mã cán bộ tính một lần)")
    write_paragraph(
        ws, r, (1, last),
        "Ghi chú: Tăng mới: có trong dữ liệu quý này, không có trong quý trước; Chuyển đến / chuyển đi: "
        "chuyển giữa các đơn vị báo cáo; Giảm: có trong quý trước, không còn trong quý này, theo tình trạng "
        "đã báo ở quý trước (không báo: vẫn ghi \"Đang làm việc\", hoặc đơn vị không gửi dữ liệu).",
        size=SMALL_SIZE, italic=True,
    )
    _transfers(wb, stats)


def _transfers(wb: Workbook, stats: QuarterStatistics) -> None:
    widths = [6, 12, 26, 30, 30, 16]
    ws, r = _sheet(wb, "10-ChuyenDonVi", 10, "Danh sách chuyển giữa các đơn vị báo cáo so với quý trước", stats,
                   widths, landscape=True)
    columns = [Column("STT", "center"), Column("Mã cán bộ", "center", wrap=False), Column("Họ và tên"),
               Column("Từ đơn vị (huyện)"), Column("Đến đơn vị (huyện)"), Column("Tình trạng")]
    rows = [[i, m["ma_cb"], m["ho_ten"], f"{m['from_ma_don_vi']} ({m['from_huyen'] or ''})",
             f"{m['ma_don_vi']} ({m['huyen'] or ''})", m["tinh_trang"]]
            for i, m in enumerate(stats.movers.iter_rows(named=True), start=1)]
    table = write_table(ws, r, columns, rows, header_fill=HEADER_FILL)
    ws.print_title_rows = f"{table.header_row}:{table.header_row}"


def write_statistics(
    path: str | Path,
    stats: QuarterStatistics,
    *,
    signer: str = "",
    signer_title: str = "KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC",
    preparer: str = "",
) -> Path:
    """Write the quarter's statistical workbook ``thong-ke-YYYY-Qn.xlsx``; returns ``path``."""
    wb = new_workbook()
    _BLOCKS.clear()
    _summary(wb, stats, signer, signer_title, preparer)
    _by_unit(wb, stats)
    _by_level(wb, stats)
    _demographics(wb, stats)
    _qualifications(wb, stats)
    _politics(wb, stats)
    _ages(wb, stats)
    _grades(wb, stats)
    _quality(wb, stats)
    _changes(wb, stats)
    for ws in wb.worksheets:  # a small table (title, header, rows, total) is not split across pages
        if ws.title in _BLOCKS:
            keep_together(ws, _BLOCKS[ws.title], last_col=ws.max_column, last_row=ws.max_row)
    _BLOCKS.clear()
    return save(wb, path)

"""Payment documents of the SREM data-entry funding (letter 346, part III).

* district offices: a contract (hợp đồng) and its liquidation minutes (biên
  bản thanh lý hợp đồng) each, in one workbook;
* units directly under the Department: a signed receipt list (danh sách ký
  nhận);
* the Department: the summary of every payment line (bảng tổng hợp).

Every amount written in figures is followed by its reading in words on the
next row ("Bằng chữ: ..."); :func:`read_back_totals` reads these pairs back
from the written file for the asset checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

import polars as pl

from pmis_pipeline.documents.common import (
    BODY_SIZE,
    Column,
    LETTER_346,
    ORG_FULL,
    Signature,
    TABLE_SIZE,
    date_short,
    date_words,
    fit_row,
    keep_together,
    line_count,
    new_workbook,
    place_date,
    put,
    quarter_of,
    quarter_title,
    read_back_totals,
    row_height,
    save,
    set_widths,
    setup_page,
    sheet_title,
    words_mismatches,
    write_heading,
    write_money_line,
    write_nation_heading,
    write_paragraph,
    write_signatures,
    write_table,
    write_table_header,
    write_title_block,
    write_total_row,
    write_words_line,
)
from pmis_pipeline.documents.money import format_vnd

__all__ = [
    "DEFAULT_DEPARTMENT",
    "ITEM_LABELS",
    "read_back_totals",
    "words_mismatches",
    "write_district_contracts",
    "write_payment_summary",
    "write_receipt_list",
]

ITEM_LABELS: dict[str, str] = {
    "nhap_lieu": "Nhập dữ liệu tại cơ sở",
    "tong_hop_kiem_tra": "Tổng hợp, kiểm tra cơ sở dữ liệu",
    "tong_hop_phong": "Sở tổng hợp, kiểm tra — hồ sơ đơn vị thuộc Phòng GD&ĐT",
    "tong_hop_truc_thuoc": "Sở tổng hợp, kiểm tra — hồ sơ đơn vị trực thuộc Sở",
}
ITEM_ORDER = {k: i for i, k in enumerate(ITEM_LABELS)}
PAYEE_TYPES = ("phong", "truc_thuoc", "so")
GROUP_HEADINGS = {
    "phong": ("I", "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO"),
    "truc_thuoc": ("II", "ĐƠN VỊ TRỰC THUỘC SỞ"),
    "so": ("III", "SỞ GIÁO DỤC VÀ ĐÀO TẠO"),
}

DOTS = "............................................................"
SHORT_DOTS = "........................"

#: Party A of the contracts; an operator's ``department`` dict overrides any
#: key. Unknown particulars stay as dotted lines to fill by hand.
DEFAULT_DEPARTMENT: dict[str, str] = {
    "name": ORG_FULL,
    "address": DOTS,
    "phone": SHORT_DOTS,
    "representative": "Nguyễn Văn Bé",
    "position": "Giám đốc",
    "account": SHORT_DOTS,
    "bank": SHORT_DOTS,
    "tax_code": "",
    "payment_method": "chuyển khoản hoặc tiền mặt",
    "place": ORG_FULL,
    "funding": "kinh phí hỗ trợ cập nhật cơ sở dữ liệu của dự án SREM",
}

CIVIL_CODE = (
    "Căn cứ Bộ luật Dân sự số 33/2005/QH11 ngày 14 tháng 6 năm 2005 của Quốc hội nước "
    "Cộng hòa xã hội chủ nghĩa Việt Nam;"
)

REQUIRED = ("payee", "payee_type", "item", "n_records", "rate_vnd", "amount_vnd")


# --------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------


def _lines(lines: pl.DataFrame, quarter: str) -> pl.DataFrame:
    """Validated payment lines of ``quarter`` (amount = records x rate)."""
    missing = [c for c in REQUIRED if c not in lines.columns]
    if missing:
        raise ValueError(f"payment lines: missing columns {missing}")
    q = quarter_of(quarter)
    if "quarter" in lines.columns:
        others = sorted({str(v) for v in lines["quarter"].to_list() if v is not None and str(v) != q.key})
        if others:
            raise ValueError(f"payment lines of {others} given for {q.key}")
    if "payee_name" not in lines.columns:
        lines = lines.with_columns(pl.col("payee").alias("payee_name"))
    lines = lines.with_columns(
        pl.col("payee").cast(pl.String),
        pl.coalesce(pl.col("payee_name").cast(pl.String), pl.col("payee").cast(pl.String)).alias("payee_name"),
        pl.col("n_records").cast(pl.Int64),
        pl.col("rate_vnd").cast(pl.Int64),
        pl.col("amount_vnd").cast(pl.Int64),
    )
    bad_type = sorted(set(lines["payee_type"].to_list()) - set(PAYEE_TYPES), key=str)
    if bad_type:
        raise ValueError(f"payment lines: unknown payee_type {bad_type}")
    bad_item = sorted(set(lines["item"].to_list()) - set(ITEM_LABELS), key=str)
    if bad_item:
        raise ValueError(f"payment lines: unknown item {bad_item}")
    wrong = lines.filter(pl.col("amount_vnd") != pl.col("n_records") * pl.col("rate_vnd"))
    if wrong.height:
        raise ValueError(f"payment lines: amount_vnd != n_records x rate_vnd for {wrong.select('payee', 'item').rows()}")
    return lines.with_columns(pl.col("item").replace_strict(ITEM_ORDER, default=99).alias("_item")).sort("payee", "_item")


# --------------------------------------------------------------------------
# Contracts and liquidation minutes (district offices)
# --------------------------------------------------------------------------

# Portrait grid: A STT | B work | C records | D rate | E amount
NARRATIVE_WIDTHS = [6, 38, 11, 12, 17]
WORK_COLUMNS = [
    Column("STT", "center"),
    Column("Nội dung công việc"),
    Column("Số hồ sơ", "int"),
    Column("Đơn giá (đồng)", "vnd"),
    Column("Thành tiền (đồng)", "vnd"),
]


def _work_table(ws, row: int, payee_lines: pl.DataFrame, q) -> int:
    rows = [
        (i, ITEM_LABELS[item], n, rate, amount)
        for i, (item, n, rate, amount) in enumerate(payee_lines.select("item", "n_records", "rate_vnd", "amount_vnd").iter_rows(), start=1)
    ]
    t = write_table(ws, row, WORK_COLUMNS, rows, size=TABLE_SIZE)
    return write_total_row(ws, t.next_row, WORK_COLUMNS, "Cộng", {4: int(payee_lines["amount_vnd"].sum())}, label_span=2)


def _party(ws, r: int, cols, heading: str, fields: list[tuple[str, str]]) -> int:
    r = write_paragraph(ws, r, cols, heading, bold=True, h="left")
    for label, value in fields:
        r = write_paragraph(ws, r, cols, f"- {label}: {value}", h="left", indent=1)
    return r


def _party_a(ws, r, cols, dept) -> int:
    fields = [
        ("Địa chỉ", dept["address"]),
        ("Điện thoại", dept["phone"]),
        ("Đại diện", dept["representative"]),
        ("Chức vụ", dept["position"]),
        ("Số tài khoản", f"{dept['account']} tại {dept['bank']}"),
    ]
    if dept.get("tax_code"):
        fields.append(("Mã số thuế", dept["tax_code"]))
    return _party(ws, r, cols, f"BÊN A (bên giao): {dept['name'].upper()}", fields)


def _party_b(ws, r, cols, name: str) -> int:
    return _party(ws, r, cols, f"BÊN B (bên nhận): {name.upper()}", [
        ("Địa chỉ", DOTS),
        ("Điện thoại", SHORT_DOTS),
        ("Đại diện", DOTS),
        ("Chức vụ", "Trưởng phòng"),
        ("Số tài khoản", f"{SHORT_DOTS} tại {SHORT_DOTS}"),
    ])


def _sign_parties(ws, r, dept) -> int:
    return write_signatures(ws, r, [
        ((1, 2), Signature(["ĐẠI DIỆN BÊN A", dept["position"].upper()], dept["representative"], note="")),
        ((3, 5), Signature(["ĐẠI DIỆN BÊN B", "TRƯỞNG PHÒNG"], "", note="")),
    ], size=BODY_SIZE)


def _contract_sheet(ws, q, payee: str, name: str, payee_lines: pl.DataFrame, number: str, contract_date: date, dept) -> None:
    set_widths(ws, NARRATIVE_WIDTHS)
    cols = (1, len(NARRATIVE_WIDTHS))
    total = int(payee_lines["amount_vnd"].sum())
    r = write_nation_heading(ws, 1, cols)
    r = write_heading(ws, r + 1, cols, "HỢP ĐỒNG", size=15)
    r = write_heading(ws, r, cols, f"Về việc cập nhật cơ sở dữ liệu PMIS {q.label_vi}", size=BODY_SIZE)
    r = write_heading(ws, r, cols, f"Số: {number}", size=BODY_SIZE, bold=False)
    r += 1
    for basis in (
        CIVIL_CODE,
        f"Căn cứ {LETTER_346};",
        f"Căn cứ kết quả cập nhật cơ sở dữ liệu PMIS {q.label_vi} của {name};",
        "Căn cứ nhu cầu và khả năng của hai bên,",
    ):
        r = write_paragraph(ws, r, cols, basis, italic=True, first_line=True)
    r = write_paragraph(ws, r + 1, cols, f"Hôm nay, {date_words(contract_date)}, tại {dept['place']}, chúng tôi gồm:", first_line=True)
    r = _party_a(ws, r, cols, dept)
    r = _party_b(ws, r, cols, name)
    r = write_paragraph(ws, r, cols, "Hai bên thống nhất ký kết hợp đồng với các điều khoản sau:", first_line=True)

    art1 = r
    r = write_paragraph(ws, r, cols, "Điều 1. Nội dung công việc", bold=True, h="left")
    r = write_paragraph(
        ws, r, cols,
        f"Bên A giao cho Bên B thực hiện việc cập nhật cơ sở dữ liệu PMIS {q.label_vi} của các cơ sở giáo dục "
        "thuộc Bên B quản lý, theo công văn số 346/SGD&ĐT-TCCB của Sở Giáo dục và Đào tạo, cụ thể như sau:",
        first_line=True,
    )
    r = _work_table(ws, r, payee_lines, q) + 1
    blocks = [(art1, r - 1)]
    r = write_paragraph(
        ws, r, cols,
        f"- Thời gian thực hiện: {q.label_vi} (từ ngày {date_short(q.start)} đến ngày {date_short(q.end)}).", indent=1,
    )
    r = write_paragraph(
        ws, r, cols,
        "- Yêu cầu: dữ liệu cập nhật đầy đủ, chính xác; hồ sơ được tính kinh phí là hồ sơ đã được Sở kiểm tra, "
        "không có lỗi, tính một lần trong năm.",
        indent=1,
    )
    art2 = r
    r = write_paragraph(ws, r, cols, "Điều 2. Giá trị hợp đồng", bold=True, h="left")
    r = write_money_line(ws, r, cols, "- Tổng giá trị hợp đồng:", total, indent=1)
    r = write_words_line(ws, r, cols, total, indent=2)
    r = write_paragraph(ws, r, cols, f"- Nguồn kinh phí: {dept['funding']}.", indent=1)
    blocks.append((art2, r - 1))
    r = write_paragraph(ws, r, cols, "Điều 3. Phương thức thanh toán", bold=True, h="left")
    r = write_paragraph(ws, r, cols, f"- Hình thức thanh toán: {dept['payment_method']}.", indent=1)
    r = write_paragraph(
        ws, r, cols,
        "- Bên A thanh toán một lần cho Bên B toàn bộ giá trị hợp đồng sau khi hai bên ký biên bản thanh lý hợp đồng.",
        indent=1,
    )
    r = write_paragraph(ws, r, cols, "Điều 4. Cam kết chung", bold=True, h="left")
    for text in (
        "- Bên B thực hiện đúng nội dung công việc, bảo đảm dữ liệu đầy đủ, chính xác và gửi về Sở đúng thời gian "
        "quy định; Bên A thanh toán cho Bên B đầy đủ, đúng hạn.",
        "- Hai bên cam kết thực hiện đúng các điều khoản của hợp đồng; trong quá trình thực hiện, nếu có vướng mắc, "
        "hai bên cùng bàn bạc giải quyết.",
        "- Hợp đồng có hiệu lực kể từ ngày ký và được lập thành 04 bản có giá trị pháp lý như nhau, mỗi bên giữ 02 bản.",
    ):
        last_para = r
        r = write_paragraph(ws, r, cols, text, indent=1)
    end = _sign_parties(ws, r + 1, dept)
    blocks.append((last_para, end - 1))
    _finish_narrative(ws, blocks, end)


def _finish_narrative(ws, blocks, end: int) -> None:
    setup_page(ws, landscape=False, footer=False)
    ws.print_area = f"A1:E{end - 1}"
    keep_together(ws, blocks, last_col=len(NARRATIVE_WIDTHS), last_row=end - 1)


def _liquidation_sheet(ws, q, payee: str, name: str, payee_lines: pl.DataFrame, number: str, contract_date: date, dept, advanced: int, liquidation_date: date | None) -> None:
    set_widths(ws, NARRATIVE_WIDTHS)
    cols = (1, len(NARRATIVE_WIDTHS))
    total = int(payee_lines["amount_vnd"].sum())
    remaining = total - advanced
    contract_ref = f"Hợp đồng số {number} ngày {date_short(contract_date)}"
    r = write_nation_heading(ws, 1, cols)
    r = write_heading(ws, r + 1, cols, "BIÊN BẢN THANH LÝ HỢP ĐỒNG", size=15)
    r = write_heading(ws, r, cols, f"Về việc cập nhật cơ sở dữ liệu PMIS {q.label_vi}", size=BODY_SIZE)
    r += 1
    for basis in (
        f"Căn cứ {contract_ref} giữa {dept['name']} và {name} về việc cập nhật cơ sở dữ liệu PMIS {q.label_vi};",
        f"Căn cứ kết quả thực hiện hợp đồng và kết quả kiểm tra dữ liệu PMIS {q.label_vi} của Sở Giáo dục và Đào tạo,",
    ):
        r = write_paragraph(ws, r, cols, basis, italic=True, first_line=True)
    r = write_paragraph(ws, r + 1, cols, f"Hôm nay, {date_words(liquidation_date)}, tại {dept['place']}, chúng tôi gồm:", first_line=True)
    r = _party_a(ws, r, cols, dept)
    r = _party_b(ws, r, cols, name)
    r = write_paragraph(ws, r, cols, f"Hai bên thống nhất thanh lý {contract_ref} với các nội dung sau:", first_line=True)
    art1 = r
    r = write_paragraph(ws, r, cols, "Điều 1. Khối lượng công việc đã hoàn thành", bold=True, h="left")
    r = write_paragraph(
        ws, r, cols,
        f"Bên B đã hoàn thành việc cập nhật cơ sở dữ liệu PMIS {q.label_vi} theo đúng nội dung hợp đồng; "
        "dữ liệu đã được Bên A kiểm tra và nghiệm thu, cụ thể như sau:",
        first_line=True,
    )
    r = _work_table(ws, r, payee_lines, q) + 1
    blocks = [(art1, r - 1)]
    art2 = r
    r = write_paragraph(ws, r, cols, "Điều 2. Giá trị thanh lý hợp đồng", bold=True, h="left")
    for label, amount in (
        ("- Giá trị hợp đồng:", total),
        ("- Bên A đã tạm ứng cho Bên B:", advanced),
        ("- Bên A còn phải thanh toán cho Bên B:", remaining),
    ):
        r = write_money_line(ws, r, cols, label, amount, indent=1)
        r = write_words_line(ws, r, cols, amount, indent=2)
    blocks.append((art2, r - 1))
    r = write_paragraph(ws, r, cols, "Điều 3. Kết luận", bold=True, h="left")
    for text in (
        f"- Bên B đã hoàn thành toàn bộ công việc theo hợp đồng. Bên A thanh toán cho Bên B số tiền còn lại nêu "
        f"tại Điều 2 bằng {dept['payment_method']}.",
        f"- Hai bên thống nhất thanh lý {contract_ref}. Biên bản được lập thành 04 bản có giá trị pháp lý như "
        "nhau, mỗi bên giữ 02 bản.",
    ):
        last_para = r
        r = write_paragraph(ws, r, cols, text, indent=1)
    end = _sign_parties(ws, r + 1, dept)
    blocks.append((last_para, end - 1))
    _finish_narrative(ws, blocks, end)


def write_district_contracts(
    path: str | Path,
    *,
    quarter: str,
    lines: pl.DataFrame,
    contract_date: date,
    department: Mapping[str, str] | None = None,
    contract_numbers: Mapping[str, str] | None = None,
    advanced: Mapping[str, int] | None = None,
    liquidation_date: date | None = None,
) -> Path:
    """One workbook with, for each district office (``payee_type`` phong), a
    contract sheet ``HĐ <code>`` and a liquidation sheet ``TL <code>``.

    ``department`` overrides :data:`DEFAULT_DEPARTMENT` keys (party A);
    ``contract_numbers`` maps a payee to its number (default
    ``"....../HĐ-SGDĐT"``, filled by hand); ``advanced`` maps a payee to the
    amount already advanced (default 0); ``liquidation_date`` None leaves the
    date of the minutes to fill by hand. Returns ``path``.
    """
    q = quarter_of(quarter)
    data = _lines(lines, quarter).filter(pl.col("payee_type") == "phong")
    dept = {**DEFAULT_DEPARTMENT, **{k: str(v) for k, v in (department or {}).items() if v is not None}}
    numbers = contract_numbers or {}
    advances = advanced or {}
    wb = new_workbook()
    for payee in sorted(set(data["payee"].to_list())):
        payee_lines = data.filter(pl.col("payee") == payee)
        name = payee_lines["payee_name"][0]
        number = numbers.get(payee) or "....../HĐ-SGDĐT"
        adv = int(advances.get(payee, 0))
        _contract_sheet(wb.create_sheet(sheet_title(f"HĐ {payee}")), q, payee, name, payee_lines, number, contract_date, dept)
        _liquidation_sheet(wb.create_sheet(sheet_title(f"TL {payee}")), q, payee, name, payee_lines, number, contract_date, dept, adv, liquidation_date)
    if not wb.worksheets:
        ws = wb.create_sheet("Khong co")
        set_widths(ws, NARRATIVE_WIDTHS)
        write_paragraph(ws, 1, (1, 5), f"Không có Phòng Giáo dục và Đào tạo nào được thanh toán trong {q.label_vi}.")
        setup_page(ws)
    return save(wb, path)


# --------------------------------------------------------------------------
# Receipt list (units directly under the Department)
# --------------------------------------------------------------------------

RECEIPT_COLUMNS = [
    Column("STT", "center"),
    Column("Mã đơn vị", "center"),
    Column("Tên đơn vị"),
    Column("Cán bộ phụ trách PMIS"),
    Column("Số hồ sơ", "int"),
    Column("Đơn giá (đồng)", "vnd"),
    Column("Thành tiền (đồng)", "vnd"),
    Column("Ký nhận", "center"),
]
RECEIPT_WIDTHS = [6, 12, 37, 24, 10, 10, 14, 20]


def _rates_text(data: pl.DataFrame) -> str:
    parts = []
    for item, rate in data.select("item", "rate_vnd").unique().sort("item").iter_rows():
        parts.append(f"{ITEM_LABELS[item].lower()}: {format_vnd(rate)} đồng/hồ sơ")
    return "; ".join(parts)


def write_receipt_list(
    path: str | Path,
    *,
    quarter: str,
    lines: pl.DataFrame,
    officers: Mapping[str, str],
    issued_on: date | None = None,
) -> Path:
    """"DANH SÁCH KÝ NHẬN" of the units directly under the Department (A4
    landscape): one row per payment line with an empty signature column,
    the total, the total in words and the signatures. ``officers`` maps a
    unit code to its PMIS officer (the ``Người lập`` of its ThongTin); a unit
    without one gets a blank to fill by hand. Returns ``path``."""
    q = quarter_of(quarter)
    data = _lines(lines, quarter).filter(pl.col("payee_type") == "truc_thuoc")
    wb = new_workbook()
    ws = wb.create_sheet("Danh sach ky nhan")
    set_widths(ws, RECEIPT_WIDTHS)
    last = len(RECEIPT_WIDTHS)
    cols = (1, last)
    r = write_title_block(ws, 1, left=(1, 3), right=(4, last), show_date=False)
    r = write_heading(ws, r + 1, cols, "DANH SÁCH KÝ NHẬN", size=15)
    r = write_heading(ws, r, cols, f"Kinh phí hỗ trợ cập nhật cơ sở dữ liệu PMIS {q.label_vi} - Dự án SREM", size=BODY_SIZE)
    r = write_heading(ws, r, cols, "Đối tượng: các đơn vị trực thuộc Sở Giáo dục và Đào tạo", size=BODY_SIZE, bold=False, italic=True)
    if data.height:
        r = write_heading(ws, r, cols, f"({_rates_text(data)})", size=TABLE_SIZE, bold=False, italic=True)
    r = write_paragraph(ws, r, cols, f"Căn cứ {LETTER_346}.", size=TABLE_SIZE, italic=True, first_line=True)
    rows = []
    for i, rec in enumerate(data.iter_rows(named=True), start=1):
        rows.append((i, rec["payee"], rec["payee_name"], officers.get(rec["payee"], "") or "", rec["n_records"], rec["rate_vnd"], rec["amount_vnd"], None))
    t = write_table(ws, r + 1, RECEIPT_COLUMNS, rows, size=TABLE_SIZE, min_row_height=30, number_header=True, empty_text="(Không có đơn vị nào được thanh toán)")
    total = int(data["amount_vnd"].sum()) if data.height else 0
    r = write_total_row(ws, t.next_row, RECEIPT_COLUMNS, "Tổng cộng", {4: int(data["n_records"].sum()) if data.height else 0, 6: total}, label_span=4)
    r = write_words_line(ws, r, cols, total, size=BODY_SIZE)
    put(ws, r + 1, 6, place_date(issued_on), italic=True, size=BODY_SIZE, h="center", merge_to=last)
    end = write_signatures(ws, r + 2, [
        ((1, 3), Signature(["NGƯỜI LẬP BIỂU"])),
        ((4, 5), Signature(["KẾ TOÁN"])),
        ((6, last), Signature(["THỦ TRƯỞNG ĐƠN VỊ"])),
    ])
    setup_page(ws, landscape=True, title_rows=(t.header_row, t.header_row + 1))
    ws.print_area = f"A1:{chr(64 + last)}{end - 1}"
    keep_together(ws, [(t.last_row, end - 1)], last_col=last, last_row=end - 1)
    return save(wb, path)


# --------------------------------------------------------------------------
# Department summary
# --------------------------------------------------------------------------

SUMMARY_COLUMNS = [
    Column("STT", "center"),
    Column("Mã đơn vị", "center"),
    Column("Đơn vị nhận"),
    Column("Nội dung"),
    Column("Số hồ sơ", "int"),
    Column("Đơn giá (đồng)", "vnd"),
    Column("Thành tiền (đồng)", "vnd"),
]
SUMMARY_WIDTHS = [6, 12, 35, 32, 11, 11, 19]


def write_payment_summary(path: str | Path, *, quarter: str, lines: pl.DataFrame, issued_on: date | None = None) -> Path:
    """"BẢNG TỔNG HỢP KINH PHÍ CẬP NHẬT CSDL PMIS" of ``quarter`` (A4
    landscape): every payment line grouped by payee type (I. Phòng GD&ĐT,
    II. đơn vị trực thuộc Sở, III. Sở), subtotals, the grand total and the
    grand total in words. Returns ``path``."""
    q = quarter_of(quarter)
    data = _lines(lines, quarter)
    wb = new_workbook()
    ws = wb.create_sheet("Tong hop kinh phi")
    set_widths(ws, SUMMARY_WIDTHS)
    last = len(SUMMARY_WIDTHS)
    cols = (1, last)
    r = write_title_block(ws, 1, left=(1, 3), right=(4, last), show_date=False)
    r = write_heading(ws, r + 1, cols, "BẢNG TỔNG HỢP KINH PHÍ CẬP NHẬT CSDL PMIS", size=15)
    r = write_heading(ws, r, cols, f"{quarter_title(q)} - Dự án SREM", size=BODY_SIZE)
    r = write_paragraph(ws, r, cols, f"Căn cứ {LETTER_346}.", size=TABLE_SIZE, italic=True, first_line=True)
    header_row = r + 1
    r = write_table_header(ws, header_row, SUMMARY_COLUMNS, size=TABLE_SIZE, number_header=True)
    grand_records = 0
    tail = r  # replaced by the last payee's first line
    blocks: list[tuple[int, int]] = []  # rows to keep on one page
    roman_used = []
    for ptype in PAYEE_TYPES:
        group = data.filter(pl.col("payee_type") == ptype)
        if not group.height:
            continue
        roman, heading = GROUP_HEADINGS[ptype]
        roman_used.append(roman)
        group_row = r
        put(ws, r, 1, roman, bold=True, size=TABLE_SIZE, h="center", border=True)
        put(ws, r, 2, heading, bold=True, size=TABLE_SIZE, h="left", border=True, merge_to=last)
        ws.row_dimensions[r].height = 20
        r += 1
        n = 0
        for payee in sorted(set(group["payee"].to_list())):
            n += 1
            payee_lines = group.filter(pl.col("payee") == payee)
            first = r
            tail = group_row if n == 1 else r
            for rec in payee_lines.iter_rows(named=True):
                values = (n, rec["payee"], rec["payee_name"], ITEM_LABELS[rec["item"]], rec["n_records"], rec["rate_vnd"], rec["amount_vnd"])
                for c, (col, value) in enumerate(zip(SUMMARY_COLUMNS, values), start=1):
                    put(ws, r, c, value, size=TABLE_SIZE, h=col.align, wrap=col.wrap, border=True, fmt=col.fmt, indent=col.pad)
                fit_row(ws, r, [(values[3], SUMMARY_WIDTHS[3], 1, 1)], minimum=20)
                r += 1
            # the payee's name over its lines (merged when it has several)
            name_lines = line_count(str(values[2]), SUMMARY_WIDTHS[2], indent=1)
            rows_h = sum(ws.row_dimensions[x].height for x in range(first, r))
            if rows_h < row_height(name_lines):
                ws.row_dimensions[r - 1].height += row_height(name_lines) - rows_h
            if r - first > 1:
                blocks.append((first, r - 1))
                for c in (1, 2, 3):
                    ws.merge_cells(start_row=first, start_column=c, end_row=r - 1, end_column=c)
        put(ws, r, 1, f"Cộng {roman}", bold=True, size=TABLE_SIZE, h="center", border=True, merge_to=4)
        sub_records = int(group["n_records"].sum())
        grand_records += sub_records
        put(ws, r, 5, sub_records, bold=True, size=TABLE_SIZE, h="right", border=True, fmt=SUMMARY_COLUMNS[4].fmt)
        put(ws, r, 6, None, border=True)
        put(ws, r, 7, int(group["amount_vnd"].sum()), bold=True, size=TABLE_SIZE, h="right", border=True, fmt=SUMMARY_COLUMNS[6].fmt)
        ws.row_dimensions[r].height = 20
        r += 1
    total = int(data["amount_vnd"].sum()) if data.height else 0
    # ``tail``: the last payee's first line (or its group's heading), kept on one page with the totals and signatures
    label = f"TỔNG CỘNG ({' + '.join(roman_used)})" if len(roman_used) > 1 else "TỔNG CỘNG"
    put(ws, r, 1, label, bold=True, size=TABLE_SIZE, h="center", border=True, merge_to=4)
    put(ws, r, 5, None, border=True)  # records of the Department repeat those of the units: no grand total
    put(ws, r, 6, None, border=True)
    put(ws, r, 7, total, bold=True, size=TABLE_SIZE, h="right", border=True, fmt=SUMMARY_COLUMNS[6].fmt)
    ws.row_dimensions[r].height = 22
    r = write_words_line(ws, r + 1, cols, total)
    put(ws, r + 1, 5, place_date(issued_on), italic=True, size=BODY_SIZE, h="center", merge_to=last)
    end = write_signatures(ws, r + 2, [
        ((1, 3), Signature(["NGƯỜI LẬP BIỂU"])),
        ((4, 4), Signature(["KẾ TOÁN"])),
        ((5, last), Signature(["GIÁM ĐỐC"], note="(Ký tên, đóng dấu)")),
    ])
    setup_page(ws, landscape=True, title_rows=(header_row, header_row + 1))
    ws.print_area = f"A1:{chr(64 + last)}{end - 1}"
    blocks = [b for b in blocks if b[0] < tail] + [(tail, end - 1)]
    keep_together(ws, blocks, last_col=last, last_row=end - 1)
    return save(wb, path)

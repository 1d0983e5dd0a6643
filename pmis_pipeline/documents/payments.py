"""Payment documents of the SREM data-entry funding (letter 346, part III).

* district offices: a contract (hợp đồng) and its liquidation minutes (biên
  bản thanh lý hợp đồng) each, in one workbook (a sheet per document, each
  numbered "Trang N" from 1 on every page);
* units directly under the Department: a signed receipt list (danh sách ký
  nhận), paid by the Department's cashier;
* the Department: the summary of every payment line (bảng tổng hợp).

All on A4 portrait with Decree 30/2020 margins, Times New Roman, signed by
name as the ``[documents]`` configuration says (Giám đốc, Kế toán trưởng,
the preparer, the cashier). Whole numbers keep Vietnamese dot grouping on
any PC (:data:`~pmis_pipeline.documents.common.FMT_VND`). A "Cộng" row adds
only like with like: records are added only over lines paid for the same
item at the same rate. Lists of more than a page carry their totals from
page to page ("Cộng trang", "Chuyển sang trang sau", "Trang trước chuyển
sang").

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
    DECREE30_MARGINS_CM,
    Column,
    ListItem,
    Signature,
    TABLE_SIZE,
    date_short,
    date_words,
    draft_title,
    keep_together,
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
    title_lines,
    words_mismatches,
    write_heading,
    write_money_line,
    write_nation_heading,
    write_paged_list,
    write_paragraph,
    write_signatures,
    write_table,
    write_table_header,
    write_title_block,
    write_total_row,
    write_words_line,
)
from pmis_pipeline.documents.money import format_vnd
from pmis_pipeline.documents.settings import DEFAULT_SETTINGS, DocumentSettings

__all__ = [
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
#: Subtotal labels ("Cộng ..." adds one item at one rate).
ITEM_SHORT: dict[str, str] = {
    "nhap_lieu": "nhập dữ liệu",
    "tong_hop_kiem_tra": "tổng hợp, kiểm tra",
    "tong_hop_phong": "hồ sơ thuộc Phòng GD&ĐT",
    "tong_hop_truc_thuoc": "hồ sơ trực thuộc Sở",
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
NUMBER_BLANK = "....../HĐ-SGDĐT"

CIVIL_CODE = (
    "Căn cứ Bộ luật Dân sự số 33/2005/QH11 ngày 14 tháng 6 năm 2005 của Quốc hội nước "
    "Cộng hòa xã hội chủ nghĩa Việt Nam;"
)
FUNDING = "kinh phí hỗ trợ cập nhật cơ sở dữ liệu của dự án SREM"

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


def _or_dots(value: str, dots: str = DOTS) -> str:
    return value or dots


# --------------------------------------------------------------------------
# Contracts and liquidation minutes (district offices)
# --------------------------------------------------------------------------

# Portrait grid: A STT | B work | C records | D rate | E amount (165 mm)
NARRATIVE_WIDTHS = [6, 38, 11, 12, 17]
WORK_COLUMNS = [
    Column("STT", "center"),
    Column("Nội dung công việc"),
    Column("Số hồ sơ", "int"),
    Column("Đơn giá (đồng)", "vnd"),
    Column("Thành tiền (đồng)", "vnd"),
]


def _work_table(ws, row: int, payee_lines: pl.DataFrame) -> int:
    rows = [
        (i, ITEM_LABELS[item], n, rate, amount)
        for i, (item, n, rate, amount) in enumerate(payee_lines.select("item", "n_records", "rate_vnd", "amount_vnd").iter_rows(), start=1)
    ]
    t = write_table(ws, row, WORK_COLUMNS, rows, size=TABLE_SIZE)
    # the lines are different work on the same records: only the amounts add up
    return write_total_row(ws, t.next_row, WORK_COLUMNS, "Cộng", {4: int(payee_lines["amount_vnd"].sum())}, label_span=2)


def _party(ws, r: int, cols, heading: str, fields: list[tuple[str, str]]) -> int:
    r = write_paragraph(ws, r, cols, heading, bold=True, h="left")
    for label, value in fields:
        r = write_paragraph(ws, r, cols, f"- {label}: {value}", h="left", indent=1)
    return r


def _party_a(ws, r, cols, cfg: DocumentSettings) -> int:
    fields = [
        ("Địa chỉ", _or_dots(cfg.address)),
        ("Điện thoại", _or_dots(cfg.phone, SHORT_DOTS)),
        ("Đại diện", _or_dots(cfg.director_name)),
        ("Chức vụ", _or_dots(cfg.director_position, SHORT_DOTS)),
        ("Số tài khoản", f"{_or_dots(cfg.bank_account, SHORT_DOTS)} tại {_or_dots(cfg.bank, SHORT_DOTS)}"),
    ]
    if cfg.tax_code:
        fields.append(("Mã số thuế", cfg.tax_code))
    return _party(ws, r, cols, f"BÊN A (bên giao): {cfg.department_name.upper()}", fields)


def _party_b(ws, r, cols, name: str) -> int:
    return _party(ws, r, cols, f"BÊN B (bên nhận): {name.upper()}", [
        ("Địa chỉ", DOTS),
        ("Điện thoại", SHORT_DOTS),
        ("Đại diện", DOTS),
        ("Chức vụ", "Trưởng phòng"),
        ("Số tài khoản", f"{SHORT_DOTS} tại {SHORT_DOTS}"),
    ])


def _sign_parties(ws, r, cfg: DocumentSettings) -> int:
    return write_signatures(ws, r, [
        ((1, 2), Signature(["ĐẠI DIỆN BÊN A", *title_lines(cfg.director_title)], cfg.director_name, note="(Ký, ghi rõ họ tên, đóng dấu)")),
        ((3, 5), Signature(["ĐẠI DIỆN BÊN B", "TRƯỞNG PHÒNG"], "", note="(Ký, ghi rõ họ tên, đóng dấu)")),
    ], size=BODY_SIZE)


def _contract_ref(number: str, contract_date: date | None) -> str:
    day = date_short(contract_date) if contract_date else "..../..../........"
    return f"Hợp đồng số {number} ngày {day}"


def _contract_sheet(ws, q, name: str, payee_lines: pl.DataFrame, number: str, contract_date: date | None, cfg: DocumentSettings, draft: bool) -> None:
    set_widths(ws, NARRATIVE_WIDTHS)
    cols = (1, len(NARRATIVE_WIDTHS))
    total = int(payee_lines["amount_vnd"].sum())
    r = write_nation_heading(ws, 1, cols)
    r = write_heading(ws, r + 1, cols, draft_title("HỢP ĐỒNG", draft), size=15)
    r = write_heading(ws, r, cols, f"Về việc cập nhật cơ sở dữ liệu PMIS {q.label_vi}", size=BODY_SIZE)
    r = write_heading(ws, r, cols, f"Số: {number}", size=BODY_SIZE, bold=False)
    r += 1
    for basis in (CIVIL_CODE, f"Căn cứ {cfg.letter_346};", "Căn cứ nhu cầu và khả năng của hai bên,"):
        r = write_paragraph(ws, r, cols, basis, italic=True, first_line=True)
    r = write_paragraph(ws, r + 1, cols, f"Hôm nay, {date_words(contract_date)}, tại {cfg.department_name}, chúng tôi gồm:", first_line=True)
    r = _party_a(ws, r, cols, cfg)
    r = _party_b(ws, r, cols, name)
    r = write_paragraph(ws, r, cols, "Hai bên thống nhất ký kết hợp đồng với các điều khoản sau:", first_line=True)

    art1 = r
    r = write_paragraph(ws, r, cols, "Điều 1. Nội dung công việc", bold=True, h="left")
    r = write_paragraph(
        ws, r, cols,
        f"Bên A giao cho Bên B thực hiện việc cập nhật cơ sở dữ liệu PMIS {q.label_vi} của các cơ sở giáo dục "
        f"thuộc Bên B quản lý, theo công văn số {cfg.letter_346_number} của {cfg.department_name}, cụ thể như sau:",
        first_line=True,
    )
    r = _work_table(ws, r, payee_lines) + 1
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
    r = write_paragraph(ws, r, cols, f"- Nguồn kinh phí: {FUNDING}.", indent=1)
    blocks.append((art2, r - 1))
    r = write_paragraph(ws, r, cols, "Điều 3. Phương thức thanh toán", bold=True, h="left")
    r = write_paragraph(ws, r, cols, f"- Hình thức thanh toán: {cfg.payment_method}.", indent=1)
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
    end = _sign_parties(ws, r + 1, cfg)
    blocks.append((last_para, end - 1))
    _finish_narrative(ws, blocks, end)


def _finish_narrative(ws, blocks, end: int) -> None:
    # a workbook of several documents: each sheet numbered "Trang N" from 1
    setup_page(ws, landscape=False, margins_cm=DECREE30_MARGINS_CM, page_numbers="footer")
    ws.print_area = f"A1:E{end - 1}"
    keep_together(ws, blocks, last_col=len(NARRATIVE_WIDTHS), last_row=end - 1)


def _liquidation_sheet(ws, q, name: str, payee_lines: pl.DataFrame, number: str, contract_date: date | None, cfg: DocumentSettings, advanced: int, liquidation_date: date | None, draft: bool) -> None:
    set_widths(ws, NARRATIVE_WIDTHS)
    cols = (1, len(NARRATIVE_WIDTHS))
    total = int(payee_lines["amount_vnd"].sum())
    remaining = total - advanced
    contract_ref = _contract_ref(number, contract_date)
    r = write_nation_heading(ws, 1, cols)
    r = write_heading(ws, r + 1, cols, draft_title("BIÊN BẢN THANH LÝ HỢP ĐỒNG", draft), size=15)
    r = write_heading(ws, r, cols, f"Về việc cập nhật cơ sở dữ liệu PMIS {q.label_vi}", size=BODY_SIZE)
    r += 1
    for basis in (
        f"Căn cứ {contract_ref} giữa {cfg.department_name} và {name} về việc cập nhật cơ sở dữ liệu PMIS {q.label_vi};",
        f"Căn cứ kết quả cập nhật dữ liệu PMIS {q.label_vi} đã được {cfg.department_name} kiểm tra và thông báo,",
    ):
        r = write_paragraph(ws, r, cols, basis, italic=True, first_line=True)
    r = write_paragraph(ws, r + 1, cols, f"Hôm nay, {date_words(liquidation_date)}, tại {cfg.department_name}, chúng tôi gồm:", first_line=True)
    r = _party_a(ws, r, cols, cfg)
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
    r = _work_table(ws, r, payee_lines) + 1
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
        f"tại Điều 2 bằng {cfg.payment_method}.",
        f"- Hai bên thống nhất thanh lý {contract_ref}. Biên bản được lập thành 04 bản có giá trị pháp lý như "
        "nhau, mỗi bên giữ 02 bản.",
    ):
        last_para = r
        r = write_paragraph(ws, r, cols, text, indent=1)
    end = _sign_parties(ws, r + 1, cfg)
    blocks.append((last_para, end - 1))
    _finish_narrative(ws, blocks, end)


def contract_dates(quarter: str, settings: DocumentSettings, contract_date: date | None = None, liquidation_date: date | None = None) -> tuple[date | None, date | None]:
    """The dates a contract and its minutes carry (None: left to the pen).

    A contract is dated when it is signed, never before the letter it cites
    (letter 346 of 02/4/2009); the minutes follow the quarter's results, so
    not before the day after the quarter ends, nor before the contract.
    Raises ValueError naming the date otherwise."""
    q = quarter_of(quarter)
    signed = contract_date or settings.contract_date
    closed = liquidation_date or settings.liquidation_date
    if signed is not None and signed < settings.letter_346_date:
        raise ValueError(
            f"contract date {signed:%d/%m/%Y} is before letter {settings.letter_346_number} of "
            f"{settings.letter_346_date:%d/%m/%Y}, which the contract cites"
        )
    if closed is not None:
        if closed <= q.end:
            raise ValueError(f"liquidation date {closed:%d/%m/%Y} is not after the end of {q.key} ({q.end:%d/%m/%Y}), whose results it settles")
        if signed is not None and closed < signed:
            raise ValueError(f"liquidation date {closed:%d/%m/%Y} is before the contract date {signed:%d/%m/%Y}")
    return signed, closed


def write_district_contracts(
    path: str | Path,
    *,
    quarter: str,
    lines: pl.DataFrame,
    settings: DocumentSettings | None = None,
    contract_date: date | None = None,
    liquidation_date: date | None = None,
    contract_numbers: Mapping[str, str] | None = None,
    advanced: Mapping[str, int] | None = None,
    draft: bool = False,
) -> Path:
    """One workbook with, for each district office (``payee_type`` phong), a
    contract sheet ``HĐ <code>`` and a liquidation sheet ``TL <code>``.

    Party A and the signer come from ``settings`` (``[documents]``). The
    dates: ``contract_date`` / ``liquidation_date``, else the settings'
    ones, else left to the pen ("ngày ...... tháng ...... năm ........");
    see :func:`contract_dates` for what is refused. ``contract_numbers`` maps
    a payee to its number (default ``"....../HĐ-SGDĐT"``, filled by hand);
    ``advanced`` maps a payee to the amount already advanced (default 0);
    ``draft`` marks every title "DỰ THẢO". Returns ``path``.
    """
    cfg = settings or DEFAULT_SETTINGS
    q = quarter_of(quarter)
    signed, closed = contract_dates(quarter, cfg, contract_date, liquidation_date)
    data = _lines(lines, quarter).filter(pl.col("payee_type") == "phong")
    numbers = contract_numbers or {}
    advances = advanced or {}
    wb = new_workbook()
    for payee in sorted(set(data["payee"].to_list())):
        payee_lines = data.filter(pl.col("payee") == payee)
        name = payee_lines["payee_name"][0]
        number = numbers.get(payee) or NUMBER_BLANK
        adv = int(advances.get(payee, 0))
        _contract_sheet(wb.create_sheet(sheet_title(f"HĐ {payee}")), q, name, payee_lines, number, signed, cfg, draft)
        _liquidation_sheet(wb.create_sheet(sheet_title(f"TL {payee}")), q, name, payee_lines, number, signed, cfg, adv, closed, draft)
    if not wb.worksheets:
        ws = wb.create_sheet("Khong co")
        set_widths(ws, NARRATIVE_WIDTHS)
        write_paragraph(ws, 1, (1, 5), f"Không có Phòng Giáo dục và Đào tạo nào được thanh toán trong {q.label_vi}.")
        setup_page(ws, margins_cm=DECREE30_MARGINS_CM, page_numbers="none")
    return save(wb, path)


# --------------------------------------------------------------------------
# Shared by the two lists
# --------------------------------------------------------------------------


def _list_heading(ws, cols, cfg: DocumentSettings, title: str, subtitle: str, draft: bool) -> int:
    r = write_title_block(ws, 1, left=(1, 2), right=(3, cols[1]), show_date=False, settings=cfg)
    r = write_heading(ws, r + 1, cols, draft_title(title, draft), size=14)
    return write_heading(ws, r, cols, subtitle, size=BODY_SIZE)


def _tail(ws, r: int, cols, total: int, day: date | None, cfg: DocumentSettings, blocks: list[tuple[tuple[int, int], Signature]], date_cols: tuple[int, int], size: float = BODY_SIZE) -> int:
    """Words line, place and date, signatures (``size``); returns the row after."""
    r = write_words_line(ws, r, cols, total, size=BODY_SIZE)
    put(ws, r + 1, date_cols[0], place_date(day, cfg.place), italic=True, size=BODY_SIZE, h="center", merge_to=date_cols[1])
    ws.row_dimensions[r + 1].height = 20
    return write_signatures(ws, r + 2, blocks, size=size, space_rows=4)


def _height(ws, first: int, last: int) -> float:
    return sum((ws.row_dimensions[x].height or 15.0) for x in range(first, last + 1))


# --------------------------------------------------------------------------
# Receipt list (units directly under the Department)
# --------------------------------------------------------------------------

RECEIPT_COLUMNS = [
    Column("STT", "center"),
    Column("Tên đơn vị"),
    Column("Người nhận (cán bộ phụ trách PMIS)"),
    Column("Số hồ sơ", "int"),
    Column("Số tiền (đồng)", "vnd"),
    Column("Ký nhận", "center"),
]
#: the rate is stated under the title (one item, one rate for every unit)
RECEIPT_WIDTHS = [5, 28, 19, 9, 13, 17]


def _rates_text(data: pl.DataFrame) -> str:
    parts = []
    for item, rate in data.select("item", "rate_vnd").unique().sort("item", "rate_vnd").iter_rows():
        parts.append(f"{ITEM_LABELS[item].lower()}: {format_vnd(rate)} đồng/hồ sơ")
    return "; ".join(parts)


def write_receipt_list(
    path: str | Path,
    *,
    quarter: str,
    lines: pl.DataFrame,
    officers: Mapping[str, str],
    settings: DocumentSettings | None = None,
    issued_on: date | None = None,
    draft: bool = False,
) -> Path:
    """"DANH SÁCH KÝ NHẬN" of the units directly under the Department (A4
    portrait): one row per unit with its PMIS officer (who signs for the
    money), records, rate, amount and an empty signature column; per-page
    carried totals; the total and its words; the place and date; the
    signatures of the preparer (TCCB), the Department's cashier who pays,
    the chief accountant and the director, by name from ``settings``.
    ``officers`` maps a unit code to its PMIS officer (the ``Người lập`` of
    its ThongTin); a unit without one gets a blank to fill by hand.
    ``issued_on`` None leaves the date to the pen. Returns ``path``."""
    cfg = settings or DEFAULT_SETTINGS
    q = quarter_of(quarter)
    data = _lines(lines, quarter).filter(pl.col("payee_type") == "truc_thuoc")
    wb = new_workbook()
    ws = wb.create_sheet("Danh sach ky nhan")
    set_widths(ws, RECEIPT_WIDTHS)
    last = len(RECEIPT_WIDTHS)
    cols = (1, last)
    setup_page(ws, landscape=False, margins_cm=DECREE30_MARGINS_CM, page_numbers="footer_total")
    r = _list_heading(
        ws, cols, cfg, "DANH SÁCH KÝ NHẬN",
        f"Kinh phí hỗ trợ cập nhật cơ sở dữ liệu PMIS {q.label_vi} - Dự án SREM", draft,
    )
    r = write_heading(ws, r, cols, "Đối tượng: các đơn vị trực thuộc Sở Giáo dục và Đào tạo", size=BODY_SIZE, bold=False, italic=True)
    if data.height:
        r = write_heading(ws, r, cols, f"({_rates_text(data)})", size=TABLE_SIZE, bold=False, italic=True)
    r = write_paragraph(ws, r, cols, f"Căn cứ {cfg.letter_346}.", size=TABLE_SIZE, italic=True, first_line=True)
    header_row = r + 1
    first = write_table_header(ws, header_row, RECEIPT_COLUMNS, size=TABLE_SIZE, number_header=True)
    one_rate = data.select("item", "rate_vnd").unique().height <= 1
    items = [
        ListItem(
            [(i, rec["payee_name"], officers.get(rec["payee"], "") or "", rec["n_records"], rec["amount_vnd"], None)],
            amount=rec["amount_vnd"], records=rec["n_records"] if one_rate else None,
        )
        for i, rec in enumerate(data.iter_rows(named=True), start=1)
    ]
    if not items:
        items = [ListItem([("", "(Không có đơn vị nào được thanh toán)", "", None, None, None)])]
    signatures = [
        ((1, 2), Signature(["NGƯỜI LẬP BIỂU"], cfg.tccb_head_name, note="(Ký, họ tên)")),
        ((3, 3), Signature(title_lines(cfg.payer_title), cfg.payer_name, note="(Ký, họ tên)")),
        ((4, 5), Signature(["KẾ TOÁN TRƯỞNG"], cfg.chief_accountant_name, note="(Ký, họ tên)")),
        ((6, 6), Signature(title_lines(cfg.director_title), cfg.director_name, note="(Ký, đóng dấu)")),
    ]
    # measure the tail (total, words, date, signatures) on a scratch sheet
    tail_h = _tail_height(cols, cfg, signatures, RECEIPT_WIDTHS, (4, last), total_rows=1, size=12)
    paged = write_paged_list(
        ws, first, RECEIPT_COLUMNS, items,
        used_on_first_page=_height(ws, 1, first - 1), title_height=_height(ws, header_row, first - 1),
        tail_height=tail_h, amount_col=4, records_col=3 if one_rate else None, label_span=3,
        size=TABLE_SIZE, min_row_height=30,
    )
    total = int(data["amount_vnd"].sum()) if data.height else 0
    n_total = int(data["n_records"].sum()) if data.height and one_rate else None
    r = write_total_row(ws, paged.next_row, RECEIPT_COLUMNS, "Tổng cộng", {3: n_total, 4: total}, label_span=3)
    end = _tail(ws, r, cols, total, issued_on, cfg, signatures, (4, last), size=12)
    ws.print_title_rows = f"{header_row}:{first - 1}"
    ws.print_area = f"A1:{chr(64 + last)}{end - 1}"
    return save(wb, path)


def _tail_height(cols, cfg, signatures, widths, date_cols, total_rows: int, size: float = BODY_SIZE) -> float:
    scratch = new_workbook().create_sheet("x")
    set_widths(scratch, widths)
    end = _tail(scratch, 1, cols, 10**9 - 1, None, cfg, signatures, date_cols, size=size)
    return _height(scratch, 1, end - 1) + total_rows * row_height(1, TABLE_SIZE, pad=6)


# --------------------------------------------------------------------------
# Department summary
# --------------------------------------------------------------------------

SUMMARY_COLUMNS = [
    Column("STT", "center"),
    Column("Đơn vị nhận"),
    Column("Nội dung"),
    Column("Số hồ sơ", "int"),
    Column("Đơn giá (đồng)", "vnd"),
    Column("Thành tiền (đồng)", "vnd"),
]
SUMMARY_WIDTHS = [5, 25, 26, 8, 8, 13]


def _summary_items(data: pl.DataFrame) -> tuple[list[ListItem], list[str]]:
    """Sections I-III: a payee's lines together, then the section's "Cộng"
    rows: one per item and rate (records added only there, like with like)
    and, when the section has several, "Cộng <section>" of amounts only."""
    items: list[ListItem] = []
    used: list[str] = []
    for ptype in PAYEE_TYPES:
        group = data.filter(pl.col("payee_type") == ptype)
        if not group.height:
            continue
        roman, heading = GROUP_HEADINGS[ptype]
        used.append(roman)
        items.append(ListItem([(f"{roman}. {heading}",)], style="section"))
        for n, payee in enumerate(sorted(set(group["payee"].to_list())), start=1):
            payee_lines = group.filter(pl.col("payee") == payee)
            rows = [
                (n, rec["payee_name"], ITEM_LABELS[rec["item"]], rec["n_records"], rec["rate_vnd"], rec["amount_vnd"])
                for rec in payee_lines.iter_rows(named=True)
            ]
            items.append(ListItem(rows, amount=int(payee_lines["amount_vnd"].sum()), merge=(0, 1)))
        kinds = group.group_by("item", "rate_vnd", "_item").agg(pl.col("n_records").sum(), pl.col("amount_vnd").sum()).sort("_item", "rate_vnd")
        if kinds.height == 1:
            k = kinds.row(0, named=True)
            items.append(ListItem([(f"Cộng {roman}", None, None, k["n_records"], k["rate_vnd"], k["amount_vnd"])], style="total", label_span=3))
        else:
            for k in kinds.iter_rows(named=True):
                items.append(ListItem(
                    [(f"Cộng {roman} - {ITEM_SHORT[k['item']]}", None, None, k["n_records"], k["rate_vnd"], k["amount_vnd"])],
                    style="total", label_span=3,
                ))
            items.append(ListItem([(f"Cộng {roman}", None, None, None, None, int(group["amount_vnd"].sum()))], style="total", label_span=3))
    return items, used


def write_payment_summary(
    path: str | Path,
    *,
    quarter: str,
    lines: pl.DataFrame,
    settings: DocumentSettings | None = None,
    issued_on: date | None = None,
    draft: bool = False,
) -> Path:
    """"BẢNG TỔNG HỢP KINH PHÍ CẬP NHẬT CSDL PMIS" of ``quarter`` (A4
    portrait): every payment line grouped by payee type (I. Phòng GD&ĐT,
    II. đơn vị trực thuộc Sở, III. Sở); each section's "Cộng" rows add
    records only over one item at one rate (the same records are paid for
    entry and for checking: never counted twice), its amounts in full; the
    grand total (amounts only) and its words; per-page carried amounts;
    signed by the preparer, the chief accountant and the director, by name
    from ``settings``. Returns ``path``."""
    cfg = settings or DEFAULT_SETTINGS
    q = quarter_of(quarter)
    data = _lines(lines, quarter)
    wb = new_workbook()
    ws = wb.create_sheet("Tong hop kinh phi")
    set_widths(ws, SUMMARY_WIDTHS)
    last = len(SUMMARY_WIDTHS)
    cols = (1, last)
    setup_page(ws, landscape=False, margins_cm=DECREE30_MARGINS_CM, page_numbers="footer_total")
    r = _list_heading(ws, cols, cfg, "BẢNG TỔNG HỢP KINH PHÍ CẬP NHẬT CSDL PMIS", f"{quarter_title(q)} - Dự án SREM", draft)
    r = write_paragraph(ws, r, cols, f"Căn cứ {cfg.letter_346}.", size=TABLE_SIZE, italic=True, first_line=True)
    header_row = r + 1
    first = write_table_header(ws, header_row, SUMMARY_COLUMNS, size=TABLE_SIZE, number_header=True)
    items, used = _summary_items(data)
    if not items:
        items = [ListItem([("", "(Không có khoản chi nào)", "", None, None, None)])]
    signatures = [
        ((1, 2), Signature(["NGƯỜI LẬP BIỂU"], cfg.tccb_head_name)),
        ((3, 3), Signature(["KẾ TOÁN TRƯỞNG"], cfg.chief_accountant_name)),
        ((4, last), Signature(title_lines(cfg.director_title), cfg.director_name, note="(Ký, họ tên, đóng dấu)")),
    ]
    tail_h = _tail_height(cols, cfg, signatures, SUMMARY_WIDTHS, (3, last), total_rows=1)
    paged = write_paged_list(
        ws, first, SUMMARY_COLUMNS, items,
        used_on_first_page=_height(ws, 1, first - 1), title_height=_height(ws, header_row, first - 1),
        tail_height=tail_h, amount_col=5, records_col=None, label_span=3, size=TABLE_SIZE, min_row_height=20,
    )
    total = int(data["amount_vnd"].sum()) if data.height else 0
    label = f"TỔNG CỘNG ({' + '.join(used)})" if len(used) > 1 else "TỔNG CỘNG"
    # records are not added across items: the Department's lines pay for the units' records again
    r = write_total_row(ws, paged.next_row, SUMMARY_COLUMNS, label, {5: total}, label_span=3)
    end = _tail(ws, r, cols, total, issued_on, cfg, signatures, (3, last))
    ws.print_title_rows = f"{header_row}:{first - 1}"
    ws.print_area = f"A1:{chr(64 + last)}{end - 1}"
    return save(wb, path)


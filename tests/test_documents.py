"""Printable workbooks: feedback, announcement, payment documents.

Each writer's file is read back with openpyxl: sheets, Vietnamese titles
(NFC), totals against the lines, words against the figures, A4 page setup,
print titles, and formula-like text stored as text.
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from datetime import date, datetime, timezone
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pmis_pipeline.documents import (
    amount_in_words,
    read_back_totals,
    words_mismatches,
    write_announcement,
    write_district_contracts,
    write_feedback_workbook,
    write_payment_summary,
    write_receipt_list,
)
from pmis_pipeline.documents.settings import DocumentSettings
from pmis_pipeline.documents.common import (
    FMT_VND,
    FORMULA_PREFIXES,
    clean_text,
    date_words,
    is_formula_like,
    line_count,
    new_workbook,
    put,
    title_lines,
)

Q = "2009-Q1"
EVIL_NAME = '=HYPERLINK("http://evil.example","Trường thử")'
PHONE_LIKE = "+84 75 3822 222"


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def texts(ws) -> list[str]:
    return [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def all_text(ws) -> str:
    return "\n".join(texts(ws))


def find(ws, predicate) -> list[openpyxl.cell.cell.Cell]:
    return [c for row in ws.iter_rows() for c in row if c.value is not None and predicate(c.value)]


def row_values(ws, row: int) -> list:
    return [ws.cell(row=row, column=c).value for c in range(1, ws.max_column + 1)]


def assert_a4_fit_width(ws, *, landscape: bool) -> None:
    # openpyxl's PAPERSIZE_A4 is the string "9"; the loaded paperSize is the integer 9
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4) == 9
    assert ws.page_setup.orientation == ("landscape" if landscape else "portrait")
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert int(ws.page_setup.fitToWidth) == 1
    assert int(ws.page_setup.fitToHeight) == 0


def assert_no_formulas_and_nfc(path: Path) -> None:
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        assert unicodedata.is_normalized("NFC", ws.title)
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} is a formula: {c.value!r}"
                if isinstance(c.value, str):
                    assert unicodedata.is_normalized("NFC", c.value), f"{ws.title}!{c.coordinate} not NFC"
                    if c.value.startswith(FORMULA_PREFIXES):
                        assert c.quotePrefix, f"{ws.title}!{c.coordinate} formula-like text without quote prefix"


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# --------------------------------------------------------------------------
# sample frames
# --------------------------------------------------------------------------


@pytest.fixture
def payment_lines() -> pl.DataFrame:
    rows = []

    def line(payee, name, ptype, item, n, rate):
        rows.append(dict(quarter=Q, payee=payee, payee_name=name, payee_type=ptype, item=item, n_records=n, rate_vnd=rate, amount_vnd=n * rate))

    for code, name, n in (("PGD_CT", "Phòng GD&ĐT huyện Châu Thành", 1234), ("PGD_BT", nfd("Phòng GD&ĐT huyện Ba Tri"), 1005)):
        line(code, name, "phong", "nhap_lieu", n, 1000)
        line(code, name, "phong", "tong_hop_kiem_tra", n, 1000)
    for code, name, n in (("THPT01", "Trường THPT chuyên Bến Tre", 85), ("THPT02", EVIL_NAME, 21), ("THPT03", "Trung tâm GDTX tỉnh Bến Tre", 40)):
        line(code, name, "truc_thuoc", "nhap_lieu", n, 1000)
    line("SO", "Sở Giáo dục và Đào tạo Bến Tre", "so", "tong_hop_phong", 1234 + 1005, 1000)
    line("SO", "Sở Giáo dục và Đào tạo Bến Tre", "so", "tong_hop_truc_thuoc", 85 + 21 + 40, 2000)
    return pl.DataFrame(rows)


@pytest.fixture
def compliance() -> pl.DataFrame:
    tz = "Asia/Ho_Chi_Minh"
    rows = [
        # reporting_unit, name, loai, submitted, received (UTC), days_late, n, compl, acc, photo, lost, score, rank
        ("PGD_CT", "Phòng GD&ĐT huyện Châu Thành", "phong", True, datetime(2009, 4, 20, 9, 5, tzinfo=timezone.utc), 0, 1234, 95.26, 90.0, 60.0, 2, 96.1, 1),
        ("PGD_BT", "Phòng GD&ĐT huyện Ba Tri", "phong", True, datetime(2009, 4, 22, 1, 0, tzinfo=timezone.utc), 2, 1005, 88.0, 80.0, 10.0, 0, 78.4, 2),
        ("PGD_TP", "Phòng GD&ĐT huyện Thạnh Phú", "phong", False, None, None, 0, None, None, None, 0, 0.0, 3),
        ("THPT02", EVIL_NAME, "truc_thuoc", True, datetime(2009, 4, 19, 1, 30, tzinfo=timezone.utc), 0, 21, 99.0, 100.0, 90.0, 0, 99.7, 1),
        ("THPT01", "Trường THPT chuyên Bến Tre", "truc_thuoc", True, datetime(2009, 4, 18, 2, 0, tzinfo=timezone.utc), 0, 85, 90.0, 95.0, 80.0, 1, 95.5, 2),
    ]
    cols = ["reporting_unit", "ten_don_vi", "loai", "submitted", "first_received_at", "days_late", "n_records",
            "completeness_pct", "accuracy_pct", "photo_pct", "lost_records", "score", "rank"]
    frame = pl.DataFrame(rows, schema=cols, orient="row")
    return frame.with_columns(
        pl.col("first_received_at").dt.convert_time_zone(tz),
        pl.lit(date(2009, 4, 20)).alias("deadline"),
    )


@pytest.fixture
def feedback_frames() -> dict[str, pl.DataFrame]:
    issues = pl.DataFrame([
        dict(ma_don_vi="CT_TH02", ten_don_vi="Trường Tiểu học Tân Thạch A", ma_cb="810008", ho_ten="Đặng Thị Hoà", field="he_so_luong", rule="he_so_khop", severity="error", message="Hệ số lương không khớp ngạch và bậc", value="2.67"),
        dict(ma_don_vi="CT_TH01", ten_don_vi="Trường Tiểu học An Khánh", ma_cb="810010", ho_ten="Nguyễn Thị Hoa", field="anh", rule="anh_thieu", severity="warning", message="Chưa có ảnh", value=None),
        dict(ma_don_vi="CT_TH01", ten_don_vi="Trường Tiểu học An Khánh", ma_cb="810003", ho_ten=nfd("Võ Thị Ngọc Ánh"), field="ho_ten", rule="ky_tu_la", severity="warning", message="Họ tên có ký tự lạ", value="=1+2"),
        dict(ma_don_vi="CT_TH01", ten_don_vi="Trường Tiểu học An Khánh", ma_cb="810003", ho_ten=nfd("Võ Thị Ngọc Ánh"), field="so_cmnd", rule="cmnd_dang", severity="error", message="Số CMND phải có 9 hoặc 12 chữ số", value="-32123"),
        dict(ma_don_vi="CT_TH02", ten_don_vi="Trường Tiểu học Tân Thạch A", ma_cb="810001", ho_ten="Trần Văn Minh", field="", rule="trung_ma_cb", severity="error", message="Mã cán bộ trùng với hồ sơ khác", value=None),
    ])
    staff_counts = pl.DataFrame([
        dict(ma_don_vi="CT_TH02", ten_don_vi="Trường Tiểu học Tân Thạch A", n_records=33, n_with_error=2, n_with_warning=0),
        dict(ma_don_vi="CT_TH01", ten_don_vi="Trường Tiểu học An Khánh", n_records=60, n_with_error=1, n_with_warning=2),
    ])
    lost = pl.DataFrame([dict(ma_cb="810077", ho_ten="Lê Thị Mười", ma_don_vi="CT_TH02", last_quarter="2008-Q4")])
    rejected = pl.DataFrame([dict(file_name="PGD_CT_Q1_2009.xls", error="Thiếu trang HoSo"), dict(file_name="@bad.xlsx", error="Không đọc được tệp")])
    return dict(issues=issues, staff_counts=staff_counts, lost=lost, rejected_files=rejected)


# --------------------------------------------------------------------------
# common: escaping, NFC, small helpers
# --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [EVIL_NAME, "=1+1", PHONE_LIKE, "-5", "@SUM(A1:A2)", "\tindented", "\rx", "- Như trên;"])
def test_formula_like_text_is_stored_as_text(tmp_path, value):
    assert is_formula_like(value)
    wb = new_workbook()
    ws = wb.create_sheet("t")
    put(ws, 1, 1, value)
    put(ws, 2, 1, "Bình thường")
    wb.save(tmp_path / "t.xlsx")
    back = openpyxl.load_workbook(tmp_path / "t.xlsx")["t"]
    cell = back.cell(1, 1)
    assert cell.data_type == "s"
    assert cell.value == value.replace("\r", "\n") or cell.value == value  # XML may normalise a lone CR
    assert cell.quotePrefix is True
    assert back.cell(2, 1).quotePrefix is False


def test_text_is_nfc_and_cleaned(tmp_path):
    wb = new_workbook()
    ws = wb.create_sheet("t")
    put(ws, 1, 1, nfd("Nguyễn Thị Hoà") + "\x00\x07")
    wb.save(tmp_path / "t.xlsx")
    value = openpyxl.load_workbook(tmp_path / "t.xlsx")["t"]["A1"].value
    assert value == "Nguyễn Thị Hoà" and unicodedata.is_normalized("NFC", value)
    assert clean_text("a\x0bb") == "ab"


def test_small_helpers():
    assert date_words(date(2009, 4, 2)) == "ngày 02 tháng 4 năm 2009"
    assert date_words(date(2009, 2, 20)) == "ngày 20 tháng 02 năm 2009"
    assert date_words(date(2009, 12, 20)) == "ngày 20 tháng 12 năm 2009"
    assert title_lines("KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC") == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"]
    assert title_lines("GIÁM ĐỐC") == ["GIÁM ĐỐC"]
    assert line_count("Trường Tiểu học", 40) == 1
    assert line_count("Trường Tiểu học Tân Thạch A " * 10, 40) > 3


def test_default_font_is_times_new_roman(tmp_path):
    wb = new_workbook()
    put(wb.create_sheet("t"), 1, 1, "x")
    wb.save(tmp_path / "t.xlsx")
    back = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert back._fonts[0].name == "Times New Roman"
    assert back["t"]["A1"].font.name == "Times New Roman"


# --------------------------------------------------------------------------
# feedback workbook
# --------------------------------------------------------------------------


def test_feedback_workbook(tmp_path, feedback_frames):
    path = write_feedback_workbook(
        tmp_path / "fb.xlsx", quarter=Q, reporting_unit="PGD_CT", reporting_unit_name="Phòng GD&ĐT huyện Châu Thành", **feedback_frames,
    )
    assert path == tmp_path / "fb.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Tong hop", "Chi tiet", "Ho so bi mat"]
    assert_no_formulas_and_nfc(path)

    summary = wb["Tong hop"]
    text = all_text(summary)
    assert "KẾT QUẢ KIỂM TRA DỮ LIỆU PMIS QUÝ 1 NĂM 2009" in text
    assert "Đơn vị báo cáo: PGD_CT - Phòng GD&ĐT huyện Châu Thành" in text
    assert "SỞ GIÁO DỤC VÀ ĐÀO TẠO" in text and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Thiếu trang HoSo" in text and "@bad.xlsx" in text
    # counts by school: a row per school, sorted by code, and the total
    school_rows = [row_values(summary, c.row) for c in find(summary, lambda v: v in ("CT_TH01", "CT_TH02"))]
    assert [r[1] for r in school_rows] == ["CT_TH01", "CT_TH02"]
    assert school_rows[0][3:6] == [60, 1, 2]
    total_row = [row_values(summary, c.row) for c in find(summary, lambda v: v == "Cộng")][-1]
    assert total_row[3:6] == [93, 3, 2]
    # counts by problem and severity: errors first
    problem_rows = [row_values(summary, c.row) for c in find(summary, lambda v: v in ("Lỗi", "Cảnh báo"))]
    assert [r[1] for r in problem_rows] == ["Lỗi", "Lỗi", "Lỗi", "Cảnh báo", "Cảnh báo"]
    assert sum(r[4] for r in problem_rows) == 5
    assert_a4_fit_width(summary, landscape=True)

    detail = wb["Chi tiet"]
    header = next(c.row for c in find(detail, lambda v: v == "Mã cán bộ"))
    assert row_values(detail, header)[:9] == ["STT", "Mã đơn vị", "Tên đơn vị", "Mã cán bộ", "Họ và tên", "Trường dữ liệu", "Vấn đề", "Mức độ", "Giá trị đã nhận"]
    body = [row_values(detail, r) for r in range(header + 1, detail.max_row + 1) if detail.cell(r, 1).value is not None]
    # by school, then Vietnamese name order: Ánh before Hoa; Hoà before Minh
    assert [(r[1], r[3]) for r in body] == [
        ("CT_TH01", "810003"), ("CT_TH01", "810003"), ("CT_TH01", "810010"), ("CT_TH02", "810008"), ("CT_TH02", "810001"),
    ]
    first = body[0]
    assert first[4] == "Võ Thị Ngọc Ánh"  # NFC
    assert (first[5], first[7], first[8]) == ("Số CMND", "Lỗi", "-32123")  # error before warning, value as received
    assert (body[1][5], body[1][8]) == ("Họ và tên", "=1+2")
    assert body[4][5] == "(Cả hồ sơ)"
    assert body[3][5] == "Hệ số lương"
    assert detail.auto_filter.ref == f"A{header}:I{header + 5}"
    assert detail.freeze_panes == f"A{header + 1}"
    assert detail.print_title_rows == f"${header}:${header}"
    assert_a4_fit_width(detail, landscape=True)

    lost = wb["Ho so bi mat"]
    row = row_values(lost, find(lost, lambda v: v == "810077")[0].row)
    assert row[1:6] == ["810077", "Lê Thị Mười", "CT_TH02", "Trường Tiểu học Tân Thạch A", "Quý 4 năm 2008"]
    assert lost.auto_filter.ref and lost.freeze_panes
    assert_a4_fit_width(lost, landscape=True)


def test_feedback_workbook_empty_inputs(tmp_path, feedback_frames):
    empty = {k: v.clear() for k, v in feedback_frames.items()}
    path = write_feedback_workbook(tmp_path / "fb.xlsx", quarter="2009-Q3", reporting_unit="THPT01", reporting_unit_name="", **empty)
    wb = openpyxl.load_workbook(path)
    assert "Không có hồ sơ nào có vấn đề" in all_text(wb["Chi tiet"])
    assert "Không có hồ sơ nào bị mất" in all_text(wb["Ho so bi mat"])
    assert "Không có tệp nào bị từ chối" in all_text(wb["Tong hop"])


def test_feedback_workbook_rejects_missing_columns(tmp_path, feedback_frames):
    frames = dict(feedback_frames, issues=feedback_frames["issues"].drop("severity"))
    with pytest.raises(ValueError, match="severity"):
        write_feedback_workbook(tmp_path / "fb.xlsx", quarter=Q, reporting_unit="X", reporting_unit_name="X", **frames)


# --------------------------------------------------------------------------
# announcement
# --------------------------------------------------------------------------


def test_announcement(tmp_path, compliance):
    settings = DocumentSettings(director_title="KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC")
    path = write_announcement(tmp_path / "tb.xlsx", quarter=Q, compliance=compliance, settings=settings)
    assert_no_formulas_and_nfc(path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Thong bao", "Phu luc"]
    body = wb["Thong bao"]
    assert_a4_fit_width(body, landscape=False)
    ws = wb["Phu luc"]
    text = all_text(body) + "\n" + all_text(ws)
    for expected in (
        "UBND TỈNH BẾN TRE", "SỞ GIÁO DỤC VÀ ĐÀO TẠO", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
        "THÔNG BÁO", "Kết quả cập nhật dữ liệu PMIS quý 1 năm 2009", "346/SGD&ĐT-TCCB ngày 02/4/2009",
        "thời hạn gửi: ngày 20/4/2009", "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Nguyễn Văn Bé", "Nơi nhận:", "- Lưu: VT, TCCB.",
        "huyện, thị xã", "Bến Tre, ngày",
    ):
        assert expected in text, expected
    header = find(ws, lambda v: v == "Hạng")[0].row
    assert row_values(ws, header)[:11] == [
        "Hạng", "Mã đơn vị", "Tên đơn vị", "Nhận lần đầu", "Số ngày trễ", "Số hồ sơ", "Đầy đủ (%)", "Chính xác (%)", "Có ảnh (%)", "Hồ sơ bị mất", "Điểm",
    ]
    sec1 = find(ws, lambda v: isinstance(v, str) and v.startswith("I. Phòng Giáo dục và Đào tạo"))[0].row
    sec2 = find(ws, lambda v: isinstance(v, str) and v.startswith("II. Đơn vị trực thuộc Sở"))[0].row
    assert header < sec1 < sec2
    group1 = [row_values(ws, r) for r in range(sec1 + 1, sec2)]
    assert [(r[0], r[1]) for r in group1] == [(1, "PGD_CT"), (2, "PGD_BT"), (3, "PGD_TP")]
    assert group1[0][3] == "20/04/2009 16:05"  # 09:05 UTC shown in local time
    assert group1[0][4:7] == [0, 1234, "95,26"]  # two decimals, Vietnamese comma, whatever the PC's locale
    assert group1[0][10] == "96,10"
    assert group1[2][3] == "Chưa gửi" and group1[2][4] is None
    group2 = [row_values(ws, r) for r in range(sec2 + 1, sec2 + 3)]
    assert [(r[0], r[1], r[2]) for r in group2] == [(1, "THPT02", EVIL_NAME), (2, "THPT01", "Trường THPT chuyên Bến Tre")]
    assert ws.print_title_rows == f"${header}:${header}"
    assert_a4_fit_width(ws, landscape=True)


def test_announcement_after_august_2009_says_thanh_pho(tmp_path, compliance):
    path = write_announcement(tmp_path / "tb.xlsx", quarter="2009-Q3", compliance=compliance)
    text = "\n".join(all_text(ws) for ws in openpyxl.load_workbook(path).worksheets)
    assert "huyện, thành phố" in text and "thị xã" not in text
    assert "GIÁM ĐỐC" in text and "KT. GIÁM ĐỐC" not in text


# --------------------------------------------------------------------------
# payment documents
# --------------------------------------------------------------------------


def payee_total(lines: pl.DataFrame, payee: str) -> int:
    return int(lines.filter(pl.col("payee") == payee)["amount_vnd"].sum())


def test_district_contracts(tmp_path, payment_lines):
    path = write_district_contracts(
        tmp_path / "hd.xlsx", quarter=Q, lines=payment_lines, contract_date=date(2009, 5, 5),
        settings=DocumentSettings(address="Số 1 đường Đồng Khởi, thị xã Bến Tre"), contract_numbers={"PGD_CT": "12/HĐ-SGDĐT"},
    )
    assert_no_formulas_and_nfc(path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["HĐ PGD_BT", "TL PGD_BT", "HĐ PGD_CT", "TL PGD_CT"]
    ct = payee_total(payment_lines, "PGD_CT")
    bt = payee_total(payment_lines, "PGD_BT")
    assert (ct, bt) == (2_468_000, 2_010_000)
    assert read_back_totals(path) == [
        ("HĐ PGD_BT", bt, amount_in_words(bt)),
        ("TL PGD_BT", bt, amount_in_words(bt)),
        ("TL PGD_BT", 0, "Không đồng"),
        ("TL PGD_BT", bt, amount_in_words(bt)),
        ("HĐ PGD_CT", ct, amount_in_words(ct)),
        ("TL PGD_CT", ct, amount_in_words(ct)),
        ("TL PGD_CT", 0, "Không đồng"),
        ("TL PGD_CT", ct, amount_in_words(ct)),
    ]
    assert words_mismatches(path) == []

    contract = all_text(wb["HĐ PGD_CT"])
    for expected in (
        "HỢP ĐỒNG", "Số: 12/HĐ-SGDĐT", "Bộ luật Dân sự số 33/2005/QH11 ngày 14 tháng 6 năm 2005",
        "346/SGD&ĐT-TCCB ngày 02/4/2009", "ngày 05 tháng 5 năm 2009", "SỞ GIÁO DỤC VÀ ĐÀO TẠO BẾN TRE",
        "Số 1 đường Đồng Khởi, thị xã Bến Tre", "Nguyễn Văn Bé", "PHÒNG GD&ĐT HUYỆN CHÂU THÀNH",
        "Điều 1.", "Điều 2.", "Điều 3.", "Điều 4.", "Nhập dữ liệu tại cơ sở", "Tổng hợp, kiểm tra cơ sở dữ liệu",
        "chuyển khoản hoặc tiền mặt", "ĐẠI DIỆN BÊN A", "ĐẠI DIỆN BÊN B", "từ ngày 01/01/2009 đến ngày 31/3/2009",
        "- Tổng giá trị hợp đồng: 2.468.000 đồng", "Bằng chữ: Hai triệu bốn trăm sáu mươi tám nghìn đồng",
    ):
        assert expected in contract, expected
    work_rows = [row_values(wb["HĐ PGD_CT"], c.row) for c in find(wb["HĐ PGD_CT"], lambda v: v in ("Nhập dữ liệu tại cơ sở", "Tổng hợp, kiểm tra cơ sở dữ liệu"))]
    assert [r[2:5] for r in work_rows] == [[1234, 1000, 1_234_000], [1234, 1000, 1_234_000]]
    assert "Số: ....../HĐ-SGDĐT" in all_text(wb["HĐ PGD_BT"])  # no number given: to fill by hand
    minutes = all_text(wb["TL PGD_CT"])
    for expected in (
        "BIÊN BẢN THANH LÝ HỢP ĐỒNG", "Hợp đồng số 12/HĐ-SGDĐT ngày 05/5/2009", "đã hoàn thành",
        "- Giá trị hợp đồng: 2.468.000 đồng", "- Bên A đã tạm ứng cho Bên B: 0 đồng", "- Bên A còn phải thanh toán cho Bên B: 2.468.000 đồng",
    ):
        assert expected in minutes, expected
    for ws in wb.worksheets:
        assert_a4_fit_width(ws, landscape=False)
        assert ws.print_area


def test_contract_advance_and_remaining(tmp_path, payment_lines):
    path = write_district_contracts(
        tmp_path / "hd.xlsx", quarter=Q, lines=payment_lines.filter(pl.col("payee") == "PGD_CT"),
        contract_date=date(2009, 5, 5), advanced={"PGD_CT": 1_000_000}, liquidation_date=date(2009, 6, 25),
    )
    minutes = [t for t in read_back_totals(path) if t[0] == "TL PGD_CT"]
    assert [a for _, a, _ in minutes] == [2_468_000, 1_000_000, 1_468_000]
    assert words_mismatches(path) == []
    assert "ngày 25 tháng 6 năm 2009" in all_text(openpyxl.load_workbook(path)["TL PGD_CT"])


def test_receipt_list(tmp_path, payment_lines):
    officers = {"THPT01": "Nguyễn Thị Hoa", "THPT02": PHONE_LIKE}
    path = write_receipt_list(tmp_path / "kn.xlsx", quarter=Q, lines=payment_lines, officers=officers)
    assert_no_formulas_and_nfc(path)
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    text = all_text(ws)
    for expected in ("DANH SÁCH KÝ NHẬN", "quý 1 năm 2009", "cán bộ phụ trách PMIS", "Ký nhận", "NGƯỜI LẬP BIỂU", "KẾ TOÁN TRƯỞNG", "GIÁM ĐỐC", "THỦ QUỸ", "1.000 đồng/hồ sơ"):
        assert expected in text, expected
    header = find(ws, lambda v: v == "Ký nhận")[0].row
    assert row_values(ws, header) == ["STT", "Tên đơn vị", "Người nhận (cán bộ phụ trách PMIS)", "Số hồ sơ", "Số tiền (đồng)", "Ký nhận"]
    body = [row_values(ws, r) for r in range(header + 2, header + 5)]
    assert [r[:5] for r in body] == [
        [1, "Trường THPT chuyên Bến Tre", "Nguyễn Thị Hoa", 85, 85_000],
        [2, EVIL_NAME, PHONE_LIKE, 21, 21_000],
        [3, "Trung tâm GDTX tỉnh Bến Tre", None, 40, 40_000],
    ]
    assert all(r[5] is None for r in body)  # the signature column stays empty
    assert all(ws.row_dimensions[header + 2 + i].height >= 30 for i in range(3))  # room to sign
    assert ws.cell(header + 2, 5).number_format == FMT_VND
    total = int(payment_lines.filter(pl.col("payee_type") == "truc_thuoc")["amount_vnd"].sum())
    assert read_back_totals(path) == [(ws.title, total, amount_in_words(total))]
    total_row = row_values(ws, find(ws, lambda v: v == "Tổng cộng")[0].row)
    assert total_row[3] == 146 and total_row[4] == total
    assert ws.print_title_rows == f"${header}:${header + 1}"
    assert_a4_fit_width(ws, landscape=False)


def test_payment_summary(tmp_path, payment_lines):
    path = write_payment_summary(tmp_path / "th.xlsx", quarter=Q, lines=payment_lines)
    assert_no_formulas_and_nfc(path)
    ws = openpyxl.load_workbook(path).worksheets[0]
    text = all_text(ws)
    assert "BẢNG TỔNG HỢP KINH PHÍ CẬP NHẬT CSDL PMIS" in text and "Quý 1 năm 2009" in text
    for label in ITEM_LABELS_USED:
        assert label in text
    subtotals = {ws.cell(c.row, 1).value: ws.cell(c.row, 6).value for c in find(ws, lambda v: v in ("Cộng I", "Cộng II", "Cộng III"))}
    by_type = {t: int(payment_lines.filter(pl.col("payee_type") == t)["amount_vnd"].sum()) for t in ("phong", "truc_thuoc", "so")}
    assert subtotals == {"Cộng I": by_type["phong"], "Cộng II": by_type["truc_thuoc"], "Cộng III": by_type["so"]}
    grand = int(payment_lines["amount_vnd"].sum())
    grand_row = find(ws, lambda v: isinstance(v, str) and v.startswith("TỔNG CỘNG"))[0].row
    assert ws.cell(grand_row, 6).value == grand == sum(subtotals.values())
    # every line is in the table
    amounts = [ws.cell(r, 6).value for r in range(1, grand_row) if isinstance(ws.cell(r, 3).value, str) and ws.cell(r, 3).value in ITEM_LABELS_USED]
    assert sorted(amounts) == sorted(payment_lines["amount_vnd"].to_list())
    assert read_back_totals(path) == [(ws.title, grand, amount_in_words(grand))]
    assert ws.print_title_rows
    assert_a4_fit_width(ws, landscape=False)


ITEM_LABELS_USED = (
    "Nhập dữ liệu tại cơ sở",
    "Tổng hợp, kiểm tra cơ sở dữ liệu",
    "Sở tổng hợp, kiểm tra — hồ sơ đơn vị thuộc Phòng GD&ĐT",
    "Sở tổng hợp, kiểm tra — hồ sơ đơn vị trực thuộc Sở",
)


def test_tampered_words_are_detected(tmp_path, payment_lines):
    path = write_payment_summary(tmp_path / "th.xlsx", quarter=Q, lines=payment_lines)
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    cell = find(ws, lambda v: isinstance(v, str) and v.startswith("Bằng chữ:"))[0]
    cell.value = "Bằng chữ: Một đồng"
    wb.save(path)
    assert len(words_mismatches(path)) == 1


def test_payment_lines_are_validated(tmp_path, payment_lines):
    wrong_amount = payment_lines.with_columns(pl.when(pl.col("payee") == "THPT01").then(1).otherwise(pl.col("amount_vnd")).alias("amount_vnd"))
    with pytest.raises(ValueError, match="amount_vnd"):
        write_payment_summary(tmp_path / "x.xlsx", quarter=Q, lines=wrong_amount)
    with pytest.raises(ValueError, match="2009-Q1"):
        write_receipt_list(tmp_path / "x.xlsx", quarter="2009-Q2", lines=payment_lines, officers={})
    with pytest.raises(ValueError, match="payee_type"):
        write_payment_summary(tmp_path / "x.xlsx", quarter=Q, lines=payment_lines.with_columns(pl.lit("truong").alias("payee_type")))


def test_payment_documents_without_lines(tmp_path, payment_lines):
    none = payment_lines.clear()
    assert read_back_totals(write_receipt_list(tmp_path / "kn.xlsx", quarter=Q, lines=none, officers={}))[0][1:] == (0, "Không đồng")
    assert read_back_totals(write_payment_summary(tmp_path / "th.xlsx", quarter=Q, lines=none))[0][1:] == (0, "Không đồng")
    assert openpyxl.load_workbook(write_district_contracts(tmp_path / "hd.xlsx", quarter=Q, lines=none, contract_date=date(2009, 5, 5))).sheetnames == ["Khong co"]


# --------------------------------------------------------------------------
# printing (LibreOffice, when installed)
# --------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_documents_convert_to_a4_pdf(tmp_path, payment_lines, compliance, feedback_frames):
    docs = [
        write_feedback_workbook(tmp_path / "fb.xlsx", quarter=Q, reporting_unit="PGD_CT", reporting_unit_name="Phòng GD&ĐT huyện Châu Thành", **feedback_frames),
        write_announcement(tmp_path / "tb.xlsx", quarter=Q, compliance=compliance),
        write_district_contracts(tmp_path / "hd.xlsx", quarter=Q, lines=payment_lines, contract_date=date(2009, 5, 5)),
        write_receipt_list(tmp_path / "kn.xlsx", quarter=Q, lines=payment_lines, officers={}),
        write_payment_summary(tmp_path / "th.xlsx", quarter=Q, lines=payment_lines),
    ]
    out = tmp_path / "pdf"
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless", "--convert-to", "pdf", "--outdir", str(out), *map(str, docs)],
        check=True, capture_output=True, timeout=300,
    )
    for doc in docs:
        pdf = (out / doc.name).with_suffix(".pdf")
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF")
        # A4 pages (595.3 x 841.9 pt), portrait or landscape
        assert b"595.3" in data and b"841.8" in data

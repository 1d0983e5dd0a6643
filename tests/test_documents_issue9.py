"""The document defects of issue 9, each on a written (and read back) file.

Expected values are written by hand here (dates, labels, sums of the lines
given), never asked of the code under test.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import openpyxl
import polars as pl
import pytest

from pmis_pipeline.documents import (
    read_back_totals,
    write_announcement,
    write_district_contracts,
    write_feedback_workbook,
    write_payment_summary,
    write_receipt_list,
)
from pmis_pipeline.documents.collation import name_key
from pmis_pipeline.documents.common import FMT_VND, MAX_ROW_PT, document_file_name
from pmis_pipeline.documents.feedback import as_typed, reason_for_unit, write_not_received_notice
from pmis_pipeline.documents.review import write_department_review
from pmis_pipeline.documents.settings import DocumentSettings
from pmis_pipeline.rules import RULES

Q = "2009-Q1"
CALAMINE = (
    "x.xlsx: không mở được bảng tính (CalamineError: calamine error: Cannot detect file format\n"
    "Context:\n    0: Could not open workbook from bytes\n)"
)


def cells(ws):
    return [c for row in ws.iter_rows() for c in row if c.value is not None]


def text_of(path) -> str:
    wb = openpyxl.load_workbook(path)
    return "\n".join(str(c.value) for ws in wb.worksheets for c in cells(ws))


def rows_of(ws) -> list[list]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def lines(pgd: int = 2, direct: int = 3, rate: int = 1000) -> pl.DataFrame:
    rows = []
    n_pgd = n_direct = 0
    for i in range(pgd):
        n = 500 + 37 * i
        n_pgd += n
        for item in ("nhap_lieu", "tong_hop_kiem_tra"):
            rows.append(dict(payee=f"PGD{i:02d}", payee_name=f"Phòng GD&ĐT số {i}", payee_type="phong", item=item, n_records=n, rate_vnd=rate, amount_vnd=n * rate))
    for i in range(direct):
        n = 20 + i
        n_direct += n
        rows.append(dict(payee=f"THPT{i:02d}", payee_name=f"Trường THPT số {i}", payee_type="truc_thuoc", item="nhap_lieu", n_records=n, rate_vnd=rate, amount_vnd=n * rate))
    rows.append(dict(payee="SO", payee_name="Sở Giáo dục và Đào tạo Bến Tre", payee_type="so", item="tong_hop_phong", n_records=n_pgd, rate_vnd=1000, amount_vnd=n_pgd * 1000))
    rows.append(dict(payee="SO", payee_name="Sở Giáo dục và Đào tạo Bến Tre", payee_type="so", item="tong_hop_truc_thuoc", n_records=n_direct, rate_vnd=2000, amount_vnd=n_direct * 2000))
    return pl.DataFrame(rows).with_columns(pl.lit(Q).alias("quarter"))


def compliance(rows) -> pl.DataFrame:
    cols = ["reporting_unit", "ten_don_vi", "loai", "submitted", "first_received_at", "days_late", "n_records",
            "completeness_pct", "accuracy_pct", "photo_pct", "lost_records", "score", "rank"]
    return pl.DataFrame(rows, schema=cols, orient="row").with_columns(pl.lit(date(2009, 4, 20)).alias("deadline"))


# ---------------------------------------------------------------- contracts


def test_contract_is_never_dated_before_the_letter_it_cites(tmp_path):
    # the old writer dated the contracts 31/3/2009 (the quarter's end), before letter 346 of 02/4/2009
    with pytest.raises(ValueError, match="346"):
        write_district_contracts(tmp_path / "hd.xlsx", quarter=Q, lines=lines(), contract_date=date(2009, 3, 31))
    with pytest.raises(ValueError, match="contract_date"):
        DocumentSettings(contract_date=date(2009, 3, 31))
    with pytest.raises(ValueError, match="liquidation"):  # the minutes follow the quarter's results
        write_district_contracts(tmp_path / "hd.xlsx", quarter=Q, lines=lines(), liquidation_date=date(2009, 3, 31))


def test_contract_without_a_date_leaves_it_to_the_pen(tmp_path):
    path = write_district_contracts(tmp_path / "hd.xlsx", quarter=Q, lines=lines())
    wb = openpyxl.load_workbook(path)
    contract = "\n".join(str(c.value) for c in cells(wb["HĐ PGD00"]))
    minutes = "\n".join(str(c.value) for c in cells(wb["TL PGD00"]))
    assert "Hôm nay, ngày ...... tháng ...... năm ........" in contract
    assert "31/3/2009" not in contract.replace("đến ngày 31/3/2009", "")  # only as the end of the work period
    assert "Hợp đồng số ....../HĐ-SGDĐT ngày ..../..../........" in minutes
    assert "Hôm nay, ngày ...... tháng ...... năm ........" in minutes


def test_contract_date_from_the_configuration(tmp_path):
    settings = DocumentSettings.from_config({"contract_date": "2009-04-15", "liquidation_date": "2009-05-25", "director_name": "Trần Văn A"})
    path = write_district_contracts(tmp_path / "hd.xlsx", quarter=Q, lines=lines(), settings=settings)
    wb = openpyxl.load_workbook(path)
    contract = "\n".join(str(c.value) for c in cells(wb["HĐ PGD01"]))
    minutes = "\n".join(str(c.value) for c in cells(wb["TL PGD01"]))
    assert "Hôm nay, ngày 15 tháng 4 năm 2009" in contract and "Trần Văn A" in contract
    assert "ngày 15/4/2009" in minutes and "Hôm nay, ngày 25 tháng 5 năm 2009" in minutes


def test_every_contract_and_minutes_page_is_numbered(tmp_path):
    wb = openpyxl.load_workbook(write_district_contracts(tmp_path / "hd.xlsx", quarter=Q, lines=lines()))
    assert len(wb.worksheets) == 4
    for ws in wb.worksheets:
        assert "&P" in ws.oddFooter.center.text, ws.title  # every page, each sheet from 1
        assert ws.page_setup.firstPageNumber == 1 and ws.page_setup.useFirstPageNumber


def test_amounts_print_with_vietnamese_dots_on_any_locale(tmp_path):
    path = write_district_contracts(tmp_path / "hd.xlsx", quarter=Q, lines=lines(pgd=1))
    ws = openpyxl.load_workbook(path)["HĐ PGD00"]
    amount = next(c for c in cells(ws) if c.value == 500_000)
    # not "#,##0", which prints "500,000" on a PC with English number settings
    assert amount.number_format == FMT_VND and "," not in amount.number_format.split(";")[-1]
    assert r"#\.##0" in amount.number_format
    assert any(isinstance(c.value, str) and "1.000.000 đồng" in c.value for c in cells(ws))


# ---------------------------------------------------------------- announcement


def test_announcement_two_decimals_tie_break_and_no_false_100(tmp_path):
    t = datetime(2009, 4, 18, 2, 0, tzinfo=timezone.utc)
    frame = compliance([
        ("PGD01", "Phòng A", "phong", True, t, 0, 100, 99.96, 99.12, 50.0, 0, 99.12, 1),
        ("PGD02", "Phòng B", "phong", True, t, 0, 100, 99.996, 99.08, 50.0, 0, 99.09, 2),
        ("PGD03", "Phòng C", "phong", True, t, 0, 100, 100.0, 98.9, 50.0, 0, 99.06, 3),
    ])
    wb = openpyxl.load_workbook(write_announcement(tmp_path / "tb.xlsx", quarter=Q, compliance=frame))
    body, annex = wb["Thong bao"], wb["Phu luc"]
    assert body.page_setup.orientation == "portrait"
    table = {r[1]: r for r in rows_of(annex) if r[1] in ("PGD01", "PGD02", "PGD03")}
    assert table["PGD01"][10] == "99,12" and table["PGD02"][10] == "99,09" and table["PGD03"][10] == "99,06"
    assert table["PGD01"][6] == "99,96" and table["PGD02"][6] == "99,99" and table["PGD03"][6] == "100,00"
    text = "\n".join(str(c.value) for c in cells(body))
    assert "điểm cao hơn xếp trên" in text and "gửi dữ liệu lần đầu sớm hơn" in text and "mã đơn vị" in text
    assert "Phụ lục" in "\n".join(str(c.value) for c in cells(annex))
    # Decree 30 margins (mm) on the body
    assert round(body.page_margins.left * 25.4) == 30 and round(body.page_margins.right * 25.4) == 15
    assert round(body.page_margins.top * 25.4) == 20 and round(body.page_margins.bottom * 25.4) == 20
    assert body.HeaderFooter.differentFirst and "&P" in body.oddHeader.center.text


def test_announcement_when_no_unit_sent_anything(tmp_path):
    frame = compliance([
        ("PGD01", "Phòng A", "phong", False, None, None, 0, None, None, None, 0, 0.0, 1),
        ("PGD02", "Phòng B", "phong", False, None, None, 0, None, None, None, 0, 0.0, 2),
        ("THPT01", "Trường C", "truc_thuoc", False, None, None, 0, None, None, None, 0, 0.0, 1),
    ]).with_columns(pl.col("first_received_at").cast(pl.Datetime("us", "Asia/Ho_Chi_Minh")))
    wb = openpyxl.load_workbook(write_announcement(tmp_path / "tb.xlsx", quarter=Q, compliance=frame))
    rows = [r for r in rows_of(wb["Phu luc"]) if r[1] in ("PGD01", "PGD02", "THPT01")]
    assert [r[3] for r in rows] == ["Chưa gửi"] * 3
    assert [r[10] for r in rows] == ["0,00"] * 3
    assert "3 đơn vị chưa gửi" not in text_of(tmp_path / "tb.xlsx")  # told per group
    assert "2 đơn vị chưa gửi (Phòng A, Phòng B)" in text_of(tmp_path / "tb.xlsx")


def test_draft_is_marked_in_title_and_file_name(tmp_path):
    name = document_file_name("thong-bao-ket-qua", Q, draft=True)
    assert name == "thong-bao-ket-qua-2009-Q1-du-thao.xlsx"
    assert document_file_name("tong-hop-kinh-phi", Q) == "tong-hop-kinh-phi-2009-Q1.xlsx"
    frame = compliance([("PGD01", "Phòng A", "phong", False, None, None, 0, None, None, None, 0, 0.0, 1)])
    for path in (
        write_announcement(tmp_path / name, quarter=Q, compliance=frame, draft=True),
        write_district_contracts(tmp_path / "hd.xlsx", quarter=Q, lines=lines(), draft=True),
        write_receipt_list(tmp_path / "kn.xlsx", quarter=Q, lines=lines(), officers={}, draft=True),
        write_payment_summary(tmp_path / "th.xlsx", quarter=Q, lines=lines(), draft=True),
    ):
        assert "(DỰ THẢO)" in text_of(path), path.name
    assert "DỰ THẢO" not in text_of(write_payment_summary(tmp_path / "final.xlsx", quarter=Q, lines=lines()))


# ---------------------------------------------------------------- payment lists


def test_summary_cong_rows_add_like_with_like(tmp_path):
    data = lines(pgd=3, direct=4)
    ws = openpyxl.load_workbook(write_payment_summary(tmp_path / "th.xlsx", quarter=Q, lines=data)).worksheets[0]
    pgd_records = 500 + 537 + 574  # each district office's records, paid twice (entry, checking)
    direct_records = 20 + 21 + 22 + 23
    counts = {r[0]: (r[3], r[4], r[5]) for r in rows_of(ws) if isinstance(r[0], str) and r[0].startswith("Cộng")}
    assert counts["Cộng I - nhập dữ liệu"] == (pgd_records, 1000, pgd_records * 1000)
    assert counts["Cộng I - tổng hợp, kiểm tra"] == (pgd_records, 1000, pgd_records * 1000)
    assert counts["Cộng I"] == (None, None, 2 * pgd_records * 1000)  # never 2 x the records
    assert counts["Cộng II"] == (direct_records, 1000, direct_records * 1000)
    assert counts["Cộng III - hồ sơ thuộc Phòng GD&ĐT"] == (pgd_records, 1000, pgd_records * 1000)
    assert counts["Cộng III - hồ sơ trực thuộc Sở"] == (direct_records, 2000, direct_records * 2000)
    assert counts["Cộng III"][0] is None  # records at 1,000 and 2,000 are not added
    grand = next(r for r in rows_of(ws) if isinstance(r[0], str) and r[0].startswith("TỔNG CỘNG"))
    assert grand[3] is None and grand[5] == (3 * pgd_records + direct_records) * 1000 + direct_records * 2000


def test_signers_by_name_and_title(tmp_path):
    settings = DocumentSettings(chief_accountant_name="Lê Thị Kế", tccb_head_name="Phan Văn Lập", payer_name="Võ Thị Quỹ", director_name="Nguyễn Văn Bé")
    summary = text_of(write_payment_summary(tmp_path / "th.xlsx", quarter=Q, lines=lines(), settings=settings))
    receipt = text_of(write_receipt_list(tmp_path / "kn.xlsx", quarter=Q, lines=lines(), officers={}, settings=settings))
    for text in (summary, receipt):
        assert "KẾ TOÁN TRƯỞNG" in text and "Lê Thị Kế" in text
        assert "GIÁM ĐỐC" in text and "Nguyễn Văn Bé" in text
        assert "NGƯỜI LẬP BIỂU" in text and "Phan Văn Lập" in text
        assert "\nKẾ TOÁN\n" not in f"\n{text}\n"
    assert "THỦ TRƯỞNG ĐƠN VỊ" not in receipt  # the Department pays: its director and cashier sign
    assert "THỦ QUỸ" in receipt and "Võ Thị Quỹ" in receipt


def test_receipt_list_carries_totals_from_page_to_page(tmp_path):
    data = lines(pgd=0, direct=60)
    path = write_receipt_list(tmp_path / "kn.xlsx", quarter=Q, lines=data, officers={})
    ws = openpyxl.load_workbook(path).worksheets[0]
    rows = rows_of(ws)
    breaks = sorted(b.id for b in ws.row_breaks.brk)
    assert len(breaks) >= 2
    # every page but the last ends "Cộng trang", "Chuyển sang trang sau"; the next starts "Trang trước chuyển sang"
    running = 0
    page_first = next(i for i, r in enumerate(rows) if r[0] == 1)
    for brk in breaks:
        out_row, page_row = rows[brk - 1], rows[brk - 2]
        assert (page_row[0], out_row[0]) == ("Cộng trang", "Chuyển sang trang sau")
        data_rows = [r for r in rows[page_first:brk - 2] if isinstance(r[0], int)]
        assert page_row[3] == sum(r[3] for r in data_rows) and page_row[4] == sum(r[4] for r in data_rows)
        running += page_row[4]
        assert out_row[4] == running
        assert rows[brk][0] == "Trang trước chuyển sang" and rows[brk][4] == running
        page_first = brk + 1
    total = next(r for r in rows if r[0] == "Tổng cộng")
    assert total[4] == sum(20 + i for i in range(60)) * 1000 == int(data.filter(pl.col("payee_type") == "truc_thuoc")["amount_vnd"].sum())
    assert read_back_totals(path)[-1][1] == total[4]


# ---------------------------------------------------------------- feedback


def feedback_frames(issues: pl.DataFrame, rejected: pl.DataFrame | None = None) -> dict:
    return dict(
        issues=issues,
        staff_counts=pl.DataFrame([dict(ma_don_vi="S1", ten_don_vi="Trường 1", n_records=10, n_with_error=3, n_with_warning=1)]),
        lost=pl.DataFrame(schema={"ma_cb": pl.Utf8, "ho_ten": pl.Utf8, "ma_don_vi": pl.Utf8, "last_quarter": pl.Utf8}),
        rejected_files=rejected if rejected is not None else pl.DataFrame(schema={"file_name": pl.Utf8, "error": pl.Utf8}),
    )


def issue(ma_cb, ho_ten, field, rule, value, severity="error", message="Sai"):
    return dict(ma_don_vi="S1", ten_don_vi="Trường 1", ma_cb=ma_cb, ho_ten=ho_ten, field=field, rule=rule, severity=severity, message=message, value=value)


def test_values_are_shown_as_typed():
    assert as_typed("1992-09-05 00:00:00", "ngay_sinh") == "05/09/1992"
    assert as_typed("4.6", "he_so_luong") == "4,6"
    assert as_typed("15.11", "ma_ngach") == "15.11"  # a code, not a number
    assert as_typed("31/02/1980", "ngay_sinh") == "31/02/1980"
    assert as_typed(None, "anh") == ""


def test_feedback_lists_in_vietnamese_name_order_with_vietnamese_rule_names(tmp_path):
    frame = pl.DataFrame([
        issue("A1", "Nguyễn Văn Đức", "trinh_do", "qualification_below_grade", "Trung cấp"),
        issue("A2", "Trần Thị Dũng", "ngay_sinh", "birth_year_implausible", "1992-09-05 00:00:00"),
        issue("A3", "Lê Văn An", "he_so_luong", "coefficient_mismatch", "4.6"),
        issue("A4", "Phạm Thị Ăn", "anh", "photo_missing", "a.jpg", severity="warning"),
        issue("A5", "Võ Ân", "so_cmnd", "id_number_format", "123"),
    ])
    path = write_feedback_workbook(tmp_path / "fb.xlsx", quarter=Q, reporting_unit="PGD01", reporting_unit_name="Phòng A", **feedback_frames(frame))
    wb = openpyxl.load_workbook(path)
    detail = rows_of(wb["Chi tiet"])
    names = [r[4] for r in detail if isinstance(r[0], int)]
    assert names == ["Lê Văn An", "Phạm Thị Ăn", "Võ Ân", "Trần Thị Dũng", "Nguyễn Văn Đức"]
    shown = {r[4]: r[8] for r in detail if isinstance(r[0], int)}
    assert shown["Trần Thị Dũng"] == "05/09/1992" and shown["Lê Văn An"] == "4,6"
    summary = "\n".join(str(c.value) for c in cells(wb["Tong hop"]))
    assert "Trình độ thấp hơn yêu cầu của ngạch" in summary
    assert "qualification_below_grade" not in summary and "Mã quy tắc" not in summary
    for ws in wb.worksheets:
        assert ws.print_title_rows, ws.title


def test_every_rule_has_a_vietnamese_label():
    for rule in RULES:
        assert rule.label_vi and not re.search(r"[a-z]+_[a-z]+", rule.label_vi), rule.id


def test_feedback_cong_rows_add_up(tmp_path):
    frame = pl.DataFrame([
        issue("A1", "Nguyễn Văn Đức", "trinh_do", "qualification_below_grade", "x"),
        issue("A1", "Nguyễn Văn Đức", "so_cmnd", "id_number_format", "1"),
        issue("A2", "Trần Thị Dũng", "so_cmnd", "id_number_format", "2"),
    ])
    wb = openpyxl.load_workbook(write_feedback_workbook(tmp_path / "fb.xlsx", quarter=Q, reporting_unit="P", reporting_unit_name="P", **feedback_frames(frame)))
    rows = rows_of(wb["Tong hop"])
    for k, row in enumerate(rows):
        if row[0] != "Cộng":
            continue
        start = max(i for i in range(k) if rows[i][0] == "STT") + 1
        body = rows[start:k]
        for col, value in enumerate(row):
            if isinstance(value, int) and col > 0:
                assert value == sum(r[col] for r in body if isinstance(r[col], int)), (k, col)


def test_long_values_never_make_a_row_taller_than_excel_allows(tmp_path):
    frame = pl.DataFrame([issue("A1", "Nguyễn Văn Đức", "ghi_chu", "required", "x" * 10_000, message="y " * 3000)])
    wb = openpyxl.load_workbook(write_feedback_workbook(tmp_path / "fb.xlsx", quarter=Q, reporting_unit="P", reporting_unit_name="P", **feedback_frames(frame)))
    for ws in wb.worksheets:
        for r, dim in ws.row_dimensions.items():
            assert dim.height is None or dim.height <= MAX_ROW_PT, (ws.title, r, dim.height)
    text = "\n".join(str(c.value) for c in cells(wb["Chi tiet"]))
    assert "đã cắt bớt" in text and "x" * 10_000 not in text


def test_rejected_file_reason_is_plain_vietnamese(tmp_path):
    assert reason_for_unit(CALAMINE) == "x.xlsx: không mở được bảng tính"
    rejected = pl.DataFrame([dict(file_name="x.xlsx", error=CALAMINE)])
    frame = pl.DataFrame(schema={k: pl.Utf8 for k in issue("a", "b", "c", "d", "e")})
    text = text_of(write_feedback_workbook(tmp_path / "fb.xlsx", quarter=Q, reporting_unit="P", reporting_unit_name="P", **feedback_frames(frame, rejected)))
    assert "x.xlsx: không mở được bảng tính" in text and "gửi lại" in text
    assert "CalamineError" not in text and "Context" not in text
    assert "Không có tệp nào bị từ chối" not in text


def test_not_received_notice(tmp_path):
    path = write_not_received_notice(tmp_path / "phan-hoi" / "PGD05.xlsx", quarter=Q, reporting_unit="PGD05", reporting_unit_name="Phòng GD&ĐT Giồng Trôm", deadline=date(2009, 4, 20))
    wb = openpyxl.load_workbook(path)
    assert len(wb.worksheets) == 1
    text = text_of(path)
    assert "Phòng GD&ĐT Giồng Trôm (PGD05)" in text and "20/4/2009" in text and "Chưa gửi" in text
    assert "chưa nhận được" in text.lower()
    ws = wb.worksheets[0]
    assert ws.page_setup.orientation == "portrait" and ws.print_area


# ---------------------------------------------------------------- review


def test_review_proposals_say_what_is_missing(tmp_path):
    proposals = pl.DataFrame([
        dict(proposal="add_unit", reporting_unit="PGD01", ma_don_vi="PGD01-TH99", name_sent=None, name_in_catalog=None, cap_hoc="Tiểu học", n_records=3, reason="r"),
        dict(proposal="review_name", reporting_unit="PGD01", ma_don_vi="PGD01-TH01", name_sent="TH A", name_in_catalog="Trường TH A", cap_hoc=None, n_records=5, reason="r"),
    ])
    empty_rej = pl.DataFrame(schema={"file_name": pl.Utf8, "reporting_unit": pl.Utf8, "received_at": pl.Datetime, "error": pl.Utf8})
    units = pl.DataFrame(schema={"reporting_unit": pl.Utf8, "ten_don_vi": pl.Utf8, "n_records": pl.Int64, "n_errors": pl.Int64, "n_warnings": pl.Int64, "lost_records": pl.Int64})
    ws = openpyxl.load_workbook(write_department_review(tmp_path / "rs.xlsx", quarter=Q, proposals=proposals, rejected_files=empty_rej, units=units))["Danh muc"]
    rows = {r[3]: r for r in rows_of(ws) if r[3] in ("PGD01-TH99", "PGD01-TH01")}
    assert all(v not in (None, "") for v in rows["PGD01-TH99"][4:7])
    assert rows["PGD01-TH99"][5] == "(chưa có trong danh mục)" and rows["PGD01-TH99"][6] == "Tiểu học"
    assert rows["PGD01-TH01"][4:6] == ["TH A", "Trường TH A"]


def test_name_key_orders_given_then_middle_then_family():
    names = ["Trần Văn Bình", "Lê An", "Nguyễn Thị An", "Đỗ Văn Ăn", "Phạm Đức"]
    assert sorted(names, key=name_key) == ["Lê An", "Nguyễn Thị An", "Đỗ Văn Ăn", "Trần Văn Bình", "Phạm Đức"]

"""The units' template: built from the schema, filled as a clerk would, read back with no issue."""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pmis_pipeline import schema
from pmis_pipeline.cli import main
from pmis_pipeline.normalize import detect_file_encoding, normalize_records
from pmis_pipeline.reader import read_submission
from pmis_pipeline.reference import REFERENCE_DIR
from pmis_pipeline.rules import record_issues
from pmis_pipeline.settings import DEFAULT_CONFIG
from pmis_pipeline.template import HINTS, INFO_HINTS, UNIT_HINTS, write_template
from tests.workbooks import CATALOG_COLUMNS, TINY_CATALOG, write_catalog

UNITS = pl.DataFrame(TINY_CATALOG, schema=CATALOG_COLUMNS, orient="row")
RULES = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))["rules"]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return write_template(tmp_path_factory.mktemp("tpl") / "mau.xlsx", units=UNITS, unit_code="pgd01", quarter="2009-Q1")


def _list_values(wb: openpyxl.Workbook, formula: str) -> list[str]:
    """The values a list validation offers: its defined name -> the DanhMuc range."""
    name = wb.defined_names[formula.lstrip("=")]
    (sheet, ref), = list(name.destinations)
    return [c.value for row in wb[sheet][ref.replace("$", "")] for c in row]


def _column_of(ws, header: str) -> str:
    return next(c.column_letter for c in ws[1] if c.value == header)


def test_every_field_and_label_has_a_vietnamese_hint():
    assert set(HINTS) == set(schema.KEYS)
    assert set(INFO_HINTS) == {label.key for label in schema.INFO_LABELS}
    assert set(UNIT_HINTS) == {f.key for f in schema.UNIT_FIELDS}


def test_sheets_headers_and_text_formats(template):
    wb = openpyxl.load_workbook(template)
    assert wb.sheetnames[:4] == ["Hướng dẫn", "ThongTin", "HoSo", "DonVi"]
    assert wb["DanhMuc"].sheet_state == "hidden"
    ws = wb["HoSo"]
    assert [c.value for c in ws[1]] == [f.header for f in schema.FIELDS]
    # identity numbers, staff and grade codes stay text (leading zeros); dates as dates
    for key in ("so_cmnd", "ma_cb", "ma_ngach", "ma_don_vi"):
        assert ws.column_dimensions[_column_of(ws, schema.FIELD_BY_KEY[key].header)].number_format == "@"
    for key in schema.DATE_KEYS:
        assert ws.column_dimensions[_column_of(ws, schema.FIELD_BY_KEY[key].header)].number_format == "dd/mm/yyyy"
    info = {row[0].value: row[1].value for row in wb["ThongTin"].iter_rows(max_col=2)}
    assert info["Mã đơn vị báo cáo"] == "PGD01"
    assert info["Tên đơn vị báo cáo"] == "Phòng GD&ĐT Châu Thành"
    assert info["Quý"] == "Quý 1 năm 2009"
    guide = " ".join(str(c.value) for row in wb["Hướng dẫn"].iter_rows() for c in row if c.value)
    assert "HƯỚNG DẪN" in guide and all(f.header in guide for f in schema.FIELDS)


def test_every_catalog_field_and_the_grade_code_has_its_dropdown(template):
    wb = openpyxl.load_workbook(template)
    ws = wb["HoSo"]
    lists = {}
    for dv in ws.data_validations.dataValidation:
        if dv.type == "list":
            for rng in dv.sqref.ranges:
                lists[rng.coord.split(":")[0].rstrip("0123456789")] = _list_values(wb, dv.formula1)
    catalogs = pl.read_csv(REFERENCE_DIR / "catalogs.csv", infer_schema=False)
    for f in schema.FIELDS:
        if f.catalog:
            expected = catalogs.filter(pl.col("catalog") == f.catalog)["value"].to_list()
            assert lists[_column_of(ws, f.header)] == expected, f.key
    grade_codes = pl.read_csv(REFERENCE_DIR / "grades.csv", infer_schema=False)["ma_ngach"].to_list()
    assert lists[_column_of(ws, "Mã ngạch")] == grade_codes
    assert "01.003" in grade_codes  # a code that would lose its zero as a number
    # Mã đơn vị offers the unit's own units: the office and its two schools
    assert lists[_column_of(ws, "Mã đơn vị")] == ["PGD01", "PGD01-MN01", "PGD01-TH01"]


def test_donvi_holds_the_units_schools_from_the_catalog(template):
    ws = openpyxl.load_workbook(template)["DonVi"]
    rows = [tuple(c.value for c in row) for row in ws.iter_rows(min_row=2, max_col=3) if row[0].value]
    assert rows == [
        ("PGD01", "Phòng GD&ĐT Châu Thành", "Phòng GD&ĐT"),
        ("PGD01-MN01", "Trường Mầm non Tân Thạch", "Mầm non"),
        ("PGD01-TH01", "Trường Tiểu học Tân Thạch", "Tiểu học"),
    ]


CLERK_ROWS = [
    # typed as a clerk types into the formatted cells: text cells keep "032..." and "15.110"
    {"row_no": 1, "ma_cb": "BT000101", "ma_don_vi": "PGD01-TH01", "ho_ten": "Nguyễn Thị Hoa",
     "ngay_sinh": datetime(1975, 5, 12), "gioi_tinh": "Nữ", "dan_toc": "Kinh", "ton_giao": "Không",
     "que_quan": "xã Tân Thạch, huyện Châu Thành, Bến Tre", "so_cmnd": "032123456",
     "ngay_tuyen_dung": datetime(1997, 9, 1), "ngay_vao_nganh": datetime(1996, 9, 1), "hinh_thuc": "Biên chế",
     "chuc_vu": "Giáo viên", "ma_ngach": "15a.204", "bac_luong": 4, "he_so_luong": 3.03, "trinh_do": "Cao đẳng",
     "chuyen_nganh": "Giáo dục Tiểu học", "mon_day": "Dạy lớp", "ly_luan_ct": None, "ngoai_ngu": "Tiếng Anh B",
     "tin_hoc": "A", "dang_vien": "Không", "ngay_vao_dang": None, "tinh_trang": "Đang làm việc"},
    {"row_no": 2, "ma_cb": "BT000102", "ma_don_vi": "PGD01-MN01", "ho_ten": "Trần Văn Bình",
     "ngay_sinh": datetime(1968, 1, 20), "gioi_tinh": "Nam", "dan_toc": "Khmer", "ton_giao": "Phật giáo",
     "que_quan": "Bến Tre", "so_cmnd": "083068001234", "ngay_tuyen_dung": datetime(1990, 9, 1),
     "ngay_vao_nganh": datetime(1990, 9, 1), "hinh_thuc": "Biên chế", "chuc_vu": "Hiệu trưởng",
     "ma_ngach": "15.110", "bac_luong": 3, "he_so_luong": 5.08, "trinh_do": "Thạc sĩ",
     "chuyen_nganh": "Quản lý giáo dục", "ly_luan_ct": "Trung cấp", "tin_hoc": "B", "dang_vien": "Có",
     "ngay_vao_dang": datetime(1995, 3, 26), "tinh_trang": "Đang làm việc"},
    {"row_no": 3, "ma_cb": "BT000103", "ma_don_vi": "PGD01", "ho_ten": "Lê Thị Út",
     "ngay_sinh": datetime(1980, 11, 2), "gioi_tinh": "Nữ", "dan_toc": "Kinh", "ton_giao": "Công giáo",
     "que_quan": "Tiền Giang", "so_cmnd": "012345678", "ngay_tuyen_dung": datetime(2005, 1, 15),
     "ngay_vao_nganh": datetime(2005, 1, 15), "hinh_thuc": "Hợp đồng", "chuc_vu": "Kế toán",
     "ma_ngach": "01.003", "bac_luong": 2, "he_so_luong": 2.67, "trinh_do": "Đại học", "chuyen_nganh": "Kế toán",
     "dang_vien": "Không", "tinh_trang": "Đang làm việc", "ghi_chu": "- kiêm thủ quỹ"},
]


def test_a_filled_copy_reads_back_with_no_issue(template, tmp_path):
    wb = openpyxl.load_workbook(template)
    info = wb["ThongTin"]
    info["B4"] = datetime(2009, 4, 15)
    info["B5"] = "Võ Thị Lan"
    ws = wb["HoSo"]
    for r, rec in enumerate(CLERK_ROWS, start=2):
        for c, f in enumerate(schema.FIELDS, start=1):
            ws.cell(row=r, column=c, value=rec.get(f.key))
    filled = tmp_path / "da-nhap.xlsx"
    wb.save(filled)

    raw = read_submission(filled)
    assert raw.warnings == [] and raw.extras == []
    assert raw.info["reporting_unit"] == "PGD01" and raw.info["quarter"] == "Quý 1 năm 2009"
    assert raw.units is not None and raw.units["ma_don_vi"].to_list() == ["PGD01", "PGD01-MN01", "PGD01-TH01"]
    encoding = detect_file_encoding(raw.records, [])
    assert encoding == "unicode"
    typed, decoded = normalize_records(raw.records, encoding)
    assert decoded == 0
    assert typed["so_cmnd"].to_list() == ["032123456", "083068001234", "012345678"]
    assert typed["ma_ngach"].to_list() == ["15a.204", "15.110", "01.003"]
    assert [str(v) for v in typed["he_so_luong"].to_list()] == ["3.03", "5.08", "2.67"]
    assert typed["ngay_sinh"].to_list() == [rec["ngay_sinh"].date() for rec in CLERK_ROWS]
    assert typed["ghi_chu"].to_list() == [None, None, "- kiêm thủ quỹ"]
    frame = typed.rename({"_row": "row_number"}).with_columns(
        pl.lit("2009-Q1").alias("quarter"), pl.lit("sub").alias("submission_id"), pl.lit("PGD01").alias("reporting_unit")
    )
    issues = record_issues(frame, "2009-Q1", UNITS, RULES)
    assert issues.select("ma_cb", "field", "rule").to_dicts() == []


def test_the_plain_template_has_no_unit(tmp_path):
    path = write_template(tmp_path / "mau.xlsx")
    wb = openpyxl.load_workbook(path)
    assert [c.value for c in wb["DonVi"][1]] == [f.header for f in schema.UNIT_FIELDS]
    assert wb["DonVi"].max_row == 1
    assert all(row[1].value is None for row in wb["ThongTin"].iter_rows(max_col=2))


def test_cli_template_for_a_unit_and_a_clear_error_for_an_unknown_one(tmp_path, capsys):
    data = tmp_path / "data"
    write_catalog(data)
    out = tmp_path / "mau-pgd02.xlsx"
    assert main(["template", "--unit", "PGD02", "--out", str(out), "--data", str(data)]) == 0
    printed = capsys.readouterr().out
    assert str(out) in printed and "1 template(s) written" in printed
    donvi = [row[0].value for row in openpyxl.load_workbook(out)["DonVi"].iter_rows(min_row=2) if row[0].value]
    assert donvi == ["PGD02", "PGD02-CS01", "PGD02-TH01"]

    assert main(["template", "--unit", "PGD99", "--data", str(data)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "PGD99" in err[0]

    assert main(["template", "--all", "--out", str(tmp_path / "all"), "--data", str(data)]) == 0
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == [
        "mau-pmis-GDTX01.xlsx", "mau-pmis-PGD01.xlsx", "mau-pmis-PGD02.xlsx", "mau-pmis-THPT01.xlsx",
    ]

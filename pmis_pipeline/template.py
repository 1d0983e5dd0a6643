"""The units' blank template (mẫu nhập liệu), generated from the one schema.

:func:`write_template` writes a workbook the reader accepts as it is filled:

* ``Hướng dẫn``: how to fill it, field by field (Vietnamese);
* ``ThongTin``: the contract's labels in column A, the values in column B
  (the reporting unit pre-filled when the template is made for a unit);
* ``HoSo``: the schema's Vietnamese headers in row 1; every column formatted
  for its kind (text columns as text, so identity numbers and grade codes
  keep their leading zeros; dates ``dd/mm/yyyy``; the salary coefficient
  with two decimals); dropdown lists (data validation) for every catalog
  field and the grade code, range checks for the step and the coefficient,
  a length check for the staff and identity numbers, the unit's schools as a
  list for ``Mã đơn vị``;
* ``DonVi``: the unit's own schools from the catalog, pre-filled;
* ``DanhMuc``: the value lists the dropdowns read (a hidden sheet, with a
  defined name per list so that every Excel version resolves them).

Values come from ``reference/catalogs.csv`` and ``reference/grades.csv``;
headers, requirements and kinds from :mod:`pmis_pipeline.schema`.
"""

from __future__ import annotations

import hashlib
from datetime import date
from functools import lru_cache
from pathlib import Path

import polars as pl
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.workbook import Workbook

from pmis_pipeline import schema
from pmis_pipeline.catalog import reporting_units
from pmis_pipeline.documents.common import (
    FONT_NAME,
    HEADER_FILL,
    fit_row,
    new_workbook,
    put,
    quarter_title,
    save,
    set_widths,
    setup_page,
    span_width,
)
from pmis_pipeline.reference import catalog_values, grades

SHEET_GUIDE = "Hướng dẫn"
SHEET_LISTS = "DanhMuc"
#: Rows of HoSo (and DonVi) that carry the formats and the checks.
TEMPLATE_ROWS = 10_000
DONVI_ROWS = 500

#: Number format of each schema kind (text "@" keeps "012345678" and "15.110" as typed).
KIND_FORMATS: dict[str, str] = {
    "int": "0",
    "code": "@",
    "name": "@",
    "text": "@",
    "date": "dd/mm/yyyy",
    "id_number": "@",
    "decimal": "0.00",
    "choice": "@",
    "grade": "@",
}

#: Levels offered for DonVi's Cấp học (the catalog's own values are added).
LEVELS: tuple[str, ...] = ("Mầm non", "Tiểu học", "THCS", "THPT", "GDTX", "Phòng GD&ĐT")

#: How to fill each HoSo column (Vietnamese, for the clerk); every schema key has one (tested).
HINTS: dict[str, str] = {
    "row_no": "Số thứ tự (có thể bỏ trống).",
    "ma_cb": "Mã cán bộ, duy nhất trong toàn tỉnh: chữ in hoa không dấu, chữ số, dấu chấm hoặc gạch ngang; tối đa 20 ký tự. Giữ nguyên mã của các quý trước.",
    "ma_don_vi": "Mã trường/đơn vị nơi cán bộ công tác, theo danh mục của Sở (xem sheet DonVi).",
    "ho_ten": "Họ và tên khai sinh, có dấu, viết hoa chữ cái đầu (ví dụ: Nguyễn Thị Hoa).",
    "ngay_sinh": "Ngày/tháng/năm sinh, dạng dd/mm/yyyy (ví dụ 12/05/1975). Chỉ nhập năm khi thật sự không rõ ngày.",
    "gioi_tinh": "Chọn Nam hoặc Nữ.",
    "dan_toc": "Chọn trong danh sách 54 dân tộc.",
    "ton_giao": "Chọn trong danh sách; không theo tôn giáo nào thì chọn Không.",
    "que_quan": "Xã, huyện, tỉnh của quê quán.",
    "so_cmnd": "Số CMND (9 chữ số) hoặc CCCD (12 chữ số); ô đã định dạng văn bản nên giữ được số 0 đầu.",
    "ngay_tuyen_dung": "Ngày tuyển dụng, dạng dd/mm/yyyy.",
    "ngay_vao_nganh": "Ngày vào ngành giáo dục, dạng dd/mm/yyyy (có thể trước ngày tuyển dụng).",
    "hinh_thuc": "Chọn Biên chế hoặc Hợp đồng.",
    "chuc_vu": "Chọn chức vụ trong danh sách.",
    "ma_ngach": "Chọn mã ngạch trong danh sách (ví dụ 15a.202); xem tên ngạch ở sheet DanhMuc.",
    "bac_luong": "Bậc lương hiện hưởng: số nguyên từ 1 đến số bậc của ngạch.",
    "he_so_luong": "Hệ số lương, hai chữ số thập phân (ví dụ 3,03); phải đúng với ngạch và bậc.",
    "trinh_do": "Trình độ chuyên môn cao nhất: chọn trong danh sách.",
    "chuyen_nganh": "Chuyên ngành đào tạo (ví dụ Sư phạm Toán).",
    "mon_day": "Môn dạy; bắt buộc với Giáo viên và Tổ trưởng.",
    "ly_luan_ct": "Trình độ lý luận chính trị (nếu có): chọn trong danh sách.",
    "ngoai_ngu": "Ngoại ngữ và trình độ (ví dụ Tiếng Anh B).",
    "tin_hoc": "Chứng chỉ tin học A, B hoặc C (nếu có).",
    "dang_vien": "Chọn Có hoặc Không.",
    "ngay_vao_dang": "Ngày vào Đảng, dạng dd/mm/yyyy; bắt buộc với đảng viên.",
    "tinh_trang": "Chọn tình trạng; người nghỉ hưu, chuyển công tác, thôi việc, từ trần vẫn gửi trong quý có thay đổi.",
    "anh": "Tên tệp ảnh (ví dụ BT000123.jpg); gửi ảnh trong thư mục anh/ của tệp nén .zip, đặt tên theo mã cán bộ.",
    "ghi_chu": "Ghi chú (nếu có).",
}

INFO_HINTS: dict[str, str] = {
    "reporting_unit": "Mã đơn vị báo cáo theo danh mục của Sở (Phòng GD&ĐT hoặc đơn vị trực thuộc Sở).",
    "reporting_unit_name": "Tên đơn vị báo cáo.",
    "quarter": "Quý báo cáo, ví dụ 2009-Q1 hoặc Quý 1 năm 2009.",
    "exported_at": "Ngày lập dữ liệu, dạng dd/mm/yyyy.",
    "prepared_by": "Họ tên cán bộ phụ trách PMIS của đơn vị.",
    "phone": "Số điện thoại liên hệ.",
}

UNIT_HINTS: dict[str, str] = {
    "ma_don_vi": "Mã trường/đơn vị theo danh mục của Sở.",
    "ten_don_vi": "Tên trường/đơn vị.",
    "cap_hoc": "Cấp học: chọn trong danh sách.",
    "xa_phuong": "Xã/phường nơi đặt trường.",
}

REQUIREMENT_VI = {
    "yes": "Bắt buộc",
    "no": "Không bắt buộc",
    "teaching": "Bắt buộc với " + ", ".join(schema.TEACHING_POSTS),
    "party": "Bắt buộc với đảng viên",
}

GUIDE_STEPS = (
    "Nhập thông tin chung của đơn vị ở sheet ThongTin (cột B): mã đơn vị báo cáo, quý báo cáo, người lập.",
    "Nhập mỗi cán bộ, giáo viên, nhân viên trên một dòng của sheet HoSo, bắt đầu từ dòng 2; không đổi tên, "
    "không xóa, không chèn cột tiêu đề.",
    "Các cột có danh sách (mũi tên bên phải ô) chỉ nhận giá trị trong danh sách; dán dữ liệu từ nơi khác vào "
    "cũng phải đúng các giá trị này.",
    "Cột ngày nhập dạng dd/mm/yyyy; cột số CMND, mã cán bộ, mã ngạch đã định dạng văn bản nên không mất số 0 "
    "ở đầu: không đổi định dạng các cột này.",
    "Sheet DonVi liệt kê các trường/đơn vị của đơn vị báo cáo theo danh mục của Sở; trường mới thành lập hoặc "
    "đổi tên thì thêm/sửa ở đây để Sở xem xét bổ sung danh mục.",
    "Gửi tệp về Sở (Phòng Tổ chức cán bộ) đúng hạn; gửi kèm ảnh thì nén tệp này cùng thư mục anh/ "
    "(ảnh đặt tên theo mã cán bộ, ví dụ anh/BT000123.jpg) thành một tệp .zip.",
)


def template_key(catalog_key: str, unit_code: str | None) -> str:
    """What a template is written from: the catalog (``catalog_key``), the unit,
    and this module's and the reference lists' code, so a new writer or a new
    reference list writes every template again."""
    digest = hashlib.sha256(f"{catalog_key}\0{unit_code or ''}\0{_writer_digest()}".encode())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _writer_digest() -> str:
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for source in sorted([Path(__file__).resolve(), here / "reference.py", *(here / "reference").glob("*.csv")]):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


class TemplateError(ValueError):
    """The template cannot be made (e.g. an unknown unit code)."""


def _lists(units: pl.DataFrame | None, unit_code: str | None) -> dict[str, list[str]]:
    """Value lists by key: every catalog field, the grade codes, levels, the unit's schools."""
    lists = {f.key: list(catalog_values(f.catalog)) for f in schema.FIELDS if f.catalog}
    lists["ma_ngach"] = grades()["ma_ngach"].to_list()
    levels = list(LEVELS)
    if units is not None:
        levels += sorted(set(units["cap_hoc"].drop_nulls().to_list()) - set(levels))
        # a unit's own template offers its own code (a national catalog has thousands: not in every template)
        lists["reporting_unit"] = [unit_code] if unit_code else reporting_units(units).sort("ma_don_vi")["ma_don_vi"].to_list()
    lists["cap_hoc"] = levels
    if unit_code and units is not None:
        lists["ma_don_vi"] = _unit_schools(units, unit_code)["ma_don_vi"].to_list()
    return lists


def _unit_schools(units: pl.DataFrame, unit_code: str) -> pl.DataFrame:
    """The reporting unit itself first, then its schools by code."""
    mine = units.filter(pl.col("ma_don_vi_bao_cao") == unit_code)
    return pl.concat([mine.filter(pl.col("ma_don_vi") == unit_code), mine.filter(pl.col("ma_don_vi") != unit_code).sort("ma_don_vi")])


def _write_lists(wb: Workbook, lists: dict[str, list[str]]) -> dict[str, str]:
    """The hidden DanhMuc sheet, one column per list, and a defined name per list; returns key -> name."""
    ws = wb.create_sheet(SHEET_LISTS)
    names: dict[str, str] = {}
    grade_names = dict(zip(grades()["ma_ngach"].to_list(), grades()["ten_ngach"].to_list()))
    col = 1
    for key, values in lists.items():
        header = schema.FIELD_BY_KEY[key].header if key in schema.FIELD_BY_KEY else {
            "cap_hoc": "Cấp học", "reporting_unit": "Mã đơn vị báo cáo"}[key]
        put(ws, 1, col, header, bold=True, h="left")
        for r, value in enumerate(values, start=2):
            cell = put(ws, r, col, value, h="left")
            cell.number_format = "@"
        letter = get_column_letter(col)
        width = 14
        if key == "ma_ngach":  # the grade's name beside its code, for the clerk
            put(ws, 1, col + 1, "Tên ngạch", bold=True, h="left")
            for r, code in enumerate(values, start=2):
                put(ws, r, col + 1, grade_names.get(code), h="left")
            ws.column_dimensions[get_column_letter(col + 1)].width = 40
            col += 1
        ws.column_dimensions[letter].width = max(width, max((len(v) for v in values), default=0) + 2)
        if values:
            name = f"DM_{key}"
            ref = f"{quote_sheetname(SHEET_LISTS)}!${letter}$2:${letter}${len(values) + 1}"
            wb.defined_names[name] = DefinedName(name, attr_text=ref)
            names[key] = name
        col += 1
    ws.sheet_state = "hidden"
    return names


def _validation(ws: Worksheet, kind: str | None, sqref: str, *, formula1: str | None = None, formula2: str | None = None,
                operator: str | None = None, prompt: str | None = None, error: str | None = None,
                style: str = "stop") -> None:
    dv = DataValidation(
        type=kind, formula1=formula1, formula2=formula2, operator=operator, allow_blank=True,
        showErrorMessage=True, showInputMessage=bool(prompt), errorStyle=style,
        errorTitle="Giá trị không hợp lệ", error=error, promptTitle="Hướng dẫn" if prompt else None,
        prompt=(prompt or "")[:255] or None,
    )
    dv.add(sqref)
    ws.add_data_validation(dv)


def _header_row(ws: Worksheet, headers: list[str], widths: list[float]) -> None:
    for c, header in enumerate(headers, start=1):
        put(ws, 1, c, header, bold=True, h="center", wrap=True, border=True, fill=HEADER_FILL)
    set_widths(ws, widths)
    ws.row_dimensions[1].height = 33
    ws.freeze_panes = "A2"


def _format_columns(ws: Worksheet, formats: list[str]) -> None:
    """Column styles: what a clerk types below the header takes the column's format."""
    for c, fmt in enumerate(formats, start=1):
        dim = ws.column_dimensions[get_column_letter(c)]
        dim.number_format = fmt
        dim.font = Font(name=FONT_NAME, size=11)


def _records_sheet(wb: Workbook, names: dict[str, str]) -> None:
    ws = wb.create_sheet(schema.SHEET_RECORDS)
    widths = [max(10.0, min(34.0, len(f.header) * 1.1 + 4)) for f in schema.FIELDS]
    _header_row(ws, [f.header for f in schema.FIELDS], widths)
    _format_columns(ws, [KIND_FORMATS[f.kind] for f in schema.FIELDS])
    last = TEMPLATE_ROWS + 1
    for c, f in enumerate(schema.FIELDS, start=1):
        letter = get_column_letter(c)
        sqref = f"{letter}2:{letter}{last}"
        hint = HINTS[f.key]
        if f.key in names:
            if f.key == "ma_don_vi":  # the unit's schools; a new school is allowed (with a warning)
                _validation(ws, "list", sqref, formula1=f"={names[f.key]}", prompt=hint, style="warning",
                            error="Mã đơn vị không có trong sheet DonVi. Kiểm tra lại hoặc bổ sung trường vào sheet DonVi.")
            else:
                _validation(ws, "list", sqref, formula1=f"={names[f.key]}", prompt=hint,
                            error=f"{f.header}: chọn một giá trị trong danh sách.")
        elif f.kind == "date":
            _validation(ws, "date", sqref, operator="between", formula1="DATE(1900,1,1)", formula2="DATE(2100,12,31)",
                        prompt=hint, style="warning", error=f"{f.header}: nhập ngày dạng dd/mm/yyyy.")
        elif f.key == "bac_luong":
            _validation(ws, "whole", sqref, operator="between", formula1="1", formula2="12", prompt=hint,
                        error="Bậc lương là số nguyên từ 1 đến 12.")
        elif f.key == "he_so_luong":
            _validation(ws, "decimal", sqref, operator="between", formula1="1", formula2="10", prompt=hint,
                        error="Hệ số lương là số từ 1,00 đến 10,00.")
        elif f.key == "so_cmnd":
            _validation(ws, "custom", sqref, formula1=f"OR(LEN({letter}2)=9,LEN({letter}2)=12)", prompt=hint,
                        error="Số CMND có 9 chữ số, số CCCD có 12 chữ số.")
        elif f.key == "ma_cb":
            _validation(ws, "textLength", sqref, operator="between", formula1="1", formula2="20", prompt=hint,
                        error="Mã cán bộ có tối đa 20 ký tự.")
        else:
            _validation(ws, None, sqref, prompt=hint)  # any value: the hint only
    ws.auto_filter.ref = f"A1:{get_column_letter(len(schema.FIELDS))}1"


def _info_sheet(wb: Workbook, names: dict[str, str], values: dict[str, object]) -> None:
    ws = wb.create_sheet(schema.SHEET_INFO)
    set_widths(ws, [24, 40, 70])
    for r, label in enumerate(schema.INFO_LABELS, start=1):
        put(ws, r, 1, label.label, bold=True, h="left", border=True)
        cell = put(ws, r, 2, values.get(label.key), h="left", border=True)
        cell.number_format = "dd/mm/yyyy" if label.key == "exported_at" else "@"
        put(ws, r, 3, INFO_HINTS[label.key], italic=True, size=10, h="left", wrap=True)
        if label.key == "reporting_unit" and "reporting_unit" in names:
            _validation(ws, "list", f"B{r}", formula1=f"={names['reporting_unit']}", prompt=INFO_HINTS[label.key],
                        error="Mã đơn vị báo cáo không có trong danh mục của Sở.")
        elif label.key == "exported_at":
            _validation(ws, "date", f"B{r}", operator="between", formula1="DATE(2000,1,1)",
                        formula2="DATE(2100,12,31)", prompt=INFO_HINTS[label.key], style="warning",
                        error="Nhập ngày dạng dd/mm/yyyy.")


def _units_sheet(wb: Workbook, names: dict[str, str], schools: pl.DataFrame | None) -> None:
    ws = wb.create_sheet(schema.SHEET_UNITS)
    _header_row(ws, [f.header for f in schema.UNIT_FIELDS], [16, 44, 16, 24])
    _format_columns(ws, ["@"] * len(schema.UNIT_FIELDS))
    if schools is not None:
        for r, rec in enumerate(schools.iter_rows(named=True), start=2):
            for c, f in enumerate(schema.UNIT_FIELDS, start=1):
                cell = put(ws, r, c, rec.get(f.key), size=11, h="left", border=True)
                cell.number_format = "@"
    level_col = get_column_letter(1 + [f.key for f in schema.UNIT_FIELDS].index("cap_hoc"))
    _validation(ws, "list", f"{level_col}2:{level_col}{DONVI_ROWS + 1}", formula1=f"={names['cap_hoc']}",
                prompt=UNIT_HINTS["cap_hoc"], style="warning", error="Cấp học không có trong danh sách.")


def _guide_sheet(wb: Workbook, unit_line: str | None) -> None:
    ws = wb.create_sheet(SHEET_GUIDE, 0)
    set_widths(ws, [6, 24, 22, 80])
    put(ws, 1, 1, "HƯỚNG DẪN NHẬP DỮ LIỆU PMIS", bold=True, size=14, h="center", merge_to=4)
    ws.row_dimensions[1].height = 24
    r = 2
    if unit_line:
        put(ws, r, 1, unit_line, italic=True, h="center", merge_to=4)
        r += 1
    r += 1
    for i, step in enumerate(GUIDE_STEPS, start=1):
        put(ws, r, 1, f"{i}.", h="center", v="top")
        put(ws, r, 2, step, h="left", v="top", wrap=True, merge_to=4)
        fit_row(ws, r, [(step, span_width(ws, 2, 4), 0, 3)])
        r += 1
    r += 1
    put(ws, r, 1, "Các cột của sheet HoSo", bold=True, size=13, h="left", merge_to=4)
    r += 1
    for c, header in enumerate(("STT", "Cột", "Bắt buộc", "Cách nhập"), start=1):
        put(ws, r, c, header, bold=True, h="center", border=True, fill=HEADER_FILL)
    r += 1
    for i, f in enumerate(schema.FIELDS, start=1):
        hint = HINTS[f.key]
        if f.catalog:
            values = catalog_values(f.catalog)
            if len(values) <= 15:
                hint += " Giá trị: " + "; ".join(values) + "."
        put(ws, r, 1, i, h="center", v="top", border=True)
        put(ws, r, 2, f.header, bold=True, h="left", v="top", border=True)
        put(ws, r, 3, REQUIREMENT_VI[f.required], h="left", v="top", wrap=True, border=True)
        put(ws, r, 4, hint, h="left", v="top", wrap=True, border=True)
        fit_row(ws, r, [(hint, span_width(ws, 4, 4)), (REQUIREMENT_VI[f.required], span_width(ws, 3, 3))])
        r += 1
    setup_page(ws)


def write_template(
    path: str | Path,
    *,
    units: pl.DataFrame | None = None,
    unit_code: str | None = None,
    quarter: str | None = None,
    prepared_on: date | None = None,
) -> Path:
    """Write the blank template to ``path``; returns it.

    ``units`` is the Department's catalog (:func:`pmis_pipeline.catalog.read_units`).
    With ``unit_code`` (a reporting unit of the catalog) the template is the
    unit's own: ``ThongTin`` names it and ``DonVi`` lists its schools. ``quarter``
    (``YYYY-Qn``) pre-fills the quarter."""
    code = unit_code.strip().upper() if unit_code else None
    schools = None
    values: dict[str, object] = {}
    unit_line = None
    if code:
        if units is None:
            raise TemplateError("a unit's template needs the unit catalog")
        row = reporting_units(units).filter(pl.col("ma_don_vi") == code)
        if row.height == 0:
            raise TemplateError(f"'{code}' is not a reporting unit of the catalog (a phong or truc_thuoc unit)")
        name = row["ten_don_vi"][0]
        values.update(reporting_unit=code, reporting_unit_name=name)
        schools = _unit_schools(units, code).select(
            "ma_don_vi", "ten_don_vi", "cap_hoc", pl.lit(None, dtype=pl.Utf8).alias("xa_phuong")
        )
        unit_line = f"Mẫu của đơn vị: {name} ({code}) - {schools.height} trường/đơn vị trong danh mục"
    if quarter:
        values["quarter"] = quarter_title(quarter)
    if prepared_on:
        values["exported_at"] = prepared_on
    wb = new_workbook()
    names = _write_lists(wb, _lists(units, code))
    _info_sheet(wb, names, values)
    _records_sheet(wb, names)
    _units_sheet(wb, names, schools)
    _guide_sheet(wb, unit_line)
    wb.move_sheet(SHEET_LISTS, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(SHEET_LISTS))  # hidden, last
    wb.active = 0
    return save(wb, path)

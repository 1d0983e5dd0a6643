"""Small real workbooks written inside tests (openpyxl for .xlsx, xlwt for .xls)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import openpyxl
import xlwt

from pmis_pipeline import schema

HEADERS = [f.header for f in schema.FIELDS]


def info_rows(unit: str, quarter: str, name: str = "Đơn vị thử", prepared_by: str = "Nguyễn Văn An") -> list[list]:
    return [
        ["Mã đơn vị báo cáo", unit],
        ["Tên đơn vị báo cáo", name],
        ["Quý", quarter],
        ["Ngày xuất dữ liệu", "15/04/2009"],
        ["Người lập", prepared_by],
        ["Điện thoại", "0753822222"],
    ]


def person(ma_cb: str, ma_don_vi: str, **overrides) -> dict:
    """A clean record (values as a careful clerk types them)."""
    row = {
        "row_no": 1,
        "ma_cb": ma_cb,
        "ma_don_vi": ma_don_vi,
        "ho_ten": "Nguyễn Thị Hoa",
        "ngay_sinh": "12/05/1975",
        "gioi_tinh": "Nữ",
        "dan_toc": "Kinh",
        "ton_giao": "Không",
        "que_quan": "xã Tân Thạch, huyện Châu Thành, Bến Tre",
        "so_cmnd": "320123456",
        "ngay_tuyen_dung": "01/09/1997",
        "ngay_vao_nganh": "01/09/1996",
        "hinh_thuc": "Biên chế",
        "chuc_vu": "Giáo viên",
        "ma_ngach": "15a.202",
        "bac_luong": 4,
        "he_so_luong": "3,03",
        "trinh_do": "Cao đẳng",
        "chuyen_nganh": "Sư phạm Toán",
        "mon_day": "Toán",
        "ly_luan_ct": None,
        "ngoai_ngu": "Tiếng Anh B",
        "tin_hoc": "A",
        "dang_vien": "Không",
        "ngay_vao_dang": None,
        "tinh_trang": "Đang làm việc",
        "anh": None,
        "ghi_chu": None,
    }
    row.update(overrides)
    return row


def write_xlsx(
    path: Path,
    info: Sequence[Sequence] | None,
    records: Sequence[dict] | None,
    headers: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
    title_rows: Sequence[Sequence] = (),
    units: Sequence[Sequence] | None = None,
    sheet_names: tuple[str, str] = ("ThongTin", "HoSo"),
) -> Path:
    """``records`` are dicts by schema key; ``headers``/``keys`` choose and order the columns."""
    keys = list(keys or schema.KEYS)
    headers = list(headers or [schema.FIELD_BY_KEY[k].header if k in schema.FIELD_BY_KEY else k for k in keys])
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    if info is not None:
        ws = wb.create_sheet(sheet_names[0])
        for row in info:
            ws.append(list(row))
    if records is not None:
        ws = wb.create_sheet(sheet_names[1])
        for row in title_rows:
            ws.append(list(row))
        ws.append(headers)
        for rec in records:
            ws.append([rec.get(k) for k in keys])
    if units is not None:
        ws = wb.create_sheet("DonVi")
        ws.append(["Mã đơn vị", "Tên đơn vị", "Cấp học", "Xã/Phường"])
        for row in units:
            ws.append(list(row))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_xls(path: Path, info: Sequence[Sequence], records: Sequence[dict], keys: Sequence[str] | None = None) -> Path:
    keys = list(keys or schema.KEYS)
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("ThongTin")
    for i, row in enumerate(info):
        for j, v in enumerate(row):
            ws.write(i, j, v)
    ws = wb.add_sheet("HoSo")
    date_style = xlwt.easyxf(num_format_str="dd/mm/yyyy")
    for j, k in enumerate(keys):
        ws.write(0, j, schema.FIELD_BY_KEY[k].header)
    for i, rec in enumerate(records, start=1):
        for j, k in enumerate(keys):
            v = rec.get(k)
            if isinstance(v, (date, datetime)):
                ws.write(i, j, datetime(v.year, v.month, v.day), date_style)
            elif v is not None:
                ws.write(i, j, v)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(str(path))
    return path


def jpeg_bytes(color: tuple[int, int, int] = (200, 120, 80)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (30, 40), color).save(buf, "JPEG")
    return buf.getvalue()


def write_zip(path: Path, workbook: Path, photos: dict[str, bytes], extra_entries: dict[str, bytes] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(workbook, workbook.name)
        for entry, data in photos.items():
            zf.writestr(entry, data)
        for entry, data in (extra_entries or {}).items():
            zf.writestr(entry, data)
    return path


#: A tiny province: two district offices with two schools each, two direct units.
TINY_CATALOG: list[tuple[str, ...]] = [
    ("PGD01", "Phòng GD&ĐT Châu Thành", "phong", "PGD01", "Phòng GD&ĐT", "Châu Thành"),
    ("PGD01-TH01", "Trường Tiểu học Tân Thạch", "truong", "PGD01", "Tiểu học", "Châu Thành"),
    ("PGD01-MN01", "Trường Mầm non Tân Thạch", "truong", "PGD01", "Mầm non", "Châu Thành"),
    ("PGD02", "Phòng GD&ĐT Chợ Lách", "phong", "PGD02", "Phòng GD&ĐT", "Chợ Lách"),
    ("PGD02-TH01", "Trường Tiểu học Sơn Định", "truong", "PGD02", "Tiểu học", "Chợ Lách"),
    ("PGD02-CS01", "Trường THCS Sơn Định", "truong", "PGD02", "THCS", "Chợ Lách"),
    ("THPT01", "Trường THPT Chuyên Bến Tre", "truc_thuoc", "THPT01", "THPT", "TP Bến Tre"),
    ("GDTX01", "Trung tâm GDTX tỉnh", "truc_thuoc", "GDTX01", "GDTX", "TP Bến Tre"),
]
CATALOG_COLUMNS = ["ma_don_vi", "ten_don_vi", "loai", "ma_don_vi_bao_cao", "cap_hoc", "huyen"]


def write_catalog(data: Path, rows: Sequence[Sequence[str]] | None = None) -> Path:
    """A tiny province (TINY_CATALOG) or ``rows`` as the Department's units.csv."""
    rows = rows or TINY_CATALOG
    path = data / "catalog" / "units.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(CATALOG_COLUMNS)] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

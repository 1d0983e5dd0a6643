"""The one source of truth for the submission's record schema.

Every consumer derives from the tuples below: the reader (header matching),
the normalisation (value kinds), the checks (requirement rules, catalogs), the
warehouse DDL (SQL types), the blank template and the README's field table.
The contract is ``shared/spec/submission-format.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pmis_pipeline.textnorm import header_key

Kind = Literal["int", "code", "name", "text", "date", "id_number", "decimal", "choice", "grade"]
Requirement = Literal["yes", "no", "teaching", "party"]

SQL_TYPES: dict[str, str] = {
    "int": "INTEGER",
    "code": "VARCHAR",
    "name": "VARCHAR",
    "text": "VARCHAR",
    "date": "DATE",
    "id_number": "VARCHAR",
    "decimal": "DECIMAL(5, 2)",
    "choice": "VARCHAR",
    "grade": "VARCHAR",
}

#: Positions that teach, which makes ``mon_day`` required.
TEACHING_POSTS: tuple[str, ...] = ("Giáo viên", "Tổ trưởng")
#: ``dang_vien`` value that makes ``ngay_vao_dang`` required.
PARTY_MEMBER = "Có"


@dataclass(frozen=True)
class Field:
    key: str
    header: str  # the Vietnamese header of the template
    kind: Kind
    required: Requirement
    description: str
    catalog: str | None = None  # value list in reference/catalogs.csv
    aliases: tuple[str, ...] = field(default_factory=tuple)

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


FIELDS: tuple[Field, ...] = (
    Field("row_no", "STT", "int", "no", "row number"),
    Field("ma_cb", "Mã cán bộ", "code", "yes", "staff code, unique in the province", aliases=("Mã CB", "Mã số cán bộ")),
    Field("ma_don_vi", "Mã đơn vị", "code", "yes", "school/unit code in the catalog", aliases=("Mã trường",)),
    Field("ho_ten", "Họ và tên", "name", "yes", "full name", aliases=("Họ tên", "Họ và tên khai sinh")),
    Field("ngay_sinh", "Ngày sinh", "date", "yes", "date of birth", aliases=("Ngày tháng năm sinh",)),
    Field("gioi_tinh", "Giới tính", "choice", "yes", "Nam / Nữ", catalog="gioi_tinh", aliases=("Phái",)),
    Field("dan_toc", "Dân tộc", "choice", "yes", "one of the 54 ethnic groups", catalog="dan_toc"),
    Field("ton_giao", "Tôn giáo", "choice", "yes", "Không, or a recognised religion", catalog="ton_giao"),
    Field("que_quan", "Quê quán", "text", "yes", "province (and district) of origin"),
    Field("so_cmnd", "Số CMND", "id_number", "yes", "identity card: 9 (CMND) or 12 (CCCD) digits", aliases=("CMND", "Số CMND/CCCD", "Số CCCD")),
    Field("ngay_tuyen_dung", "Ngày tuyển dụng", "date", "yes", "date of recruitment"),
    Field("ngay_vao_nganh", "Ngày vào ngành", "date", "yes", "date of entering the education sector"),
    Field("hinh_thuc", "Hình thức", "choice", "yes", "Biên chế / Hợp đồng", catalog="hinh_thuc", aliases=("Hình thức tuyển dụng",)),
    Field("chuc_vu", "Chức vụ", "choice", "yes", "position", catalog="chuc_vu"),
    Field("ma_ngach", "Mã ngạch", "grade", "yes", "civil-servant grade code", aliases=("Ngạch",)),
    Field("bac_luong", "Bậc lương", "int", "yes", "salary step", aliases=("Bậc",)),
    Field("he_so_luong", "Hệ số lương", "decimal", "yes", "salary coefficient", aliases=("Hệ số",)),
    Field("trinh_do", "Trình độ chuyên môn", "choice", "yes", "highest professional qualification", catalog="trinh_do", aliases=("Trình độ",)),
    Field("chuyen_nganh", "Chuyên ngành", "text", "yes", "field of training", aliases=("Chuyên ngành đào tạo",)),
    Field("mon_day", "Môn dạy", "text", "teaching", "subject taught (Giáo viên, Tổ trưởng)"),
    Field("ly_luan_ct", "Lý luận chính trị", "choice", "no", "political theory", catalog="ly_luan_ct"),
    Field("ngoai_ngu", "Ngoại ngữ", "text", "no", "foreign language, e.g. Tiếng Anh B"),
    Field("tin_hoc", "Tin học", "choice", "no", "IT certificate A, B, C", catalog="tin_hoc"),
    Field("dang_vien", "Đảng viên", "choice", "no", "Có / Không", catalog="dang_vien"),
    Field("ngay_vao_dang", "Ngày vào Đảng", "date", "party", "date of party entry (party members)"),
    Field("tinh_trang", "Tình trạng", "choice", "yes", "employment status", catalog="tinh_trang"),
    Field("anh", "Ảnh", "text", "no", "photo file name, with or without anh/"),
    Field("ghi_chu", "Ghi chú", "text", "no", "free text"),
)

FIELD_BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
KEYS: tuple[str, ...] = tuple(f.key for f in FIELDS)
DATE_KEYS: tuple[str, ...] = tuple(f.key for f in FIELDS if f.kind == "date")
#: Fields whose presence a file must have for its HoSo sheet to be readable.
STRUCTURAL_KEYS: tuple[str, ...] = ("ma_cb", "ma_don_vi", "ho_ten")


@dataclass(frozen=True)
class Label:
    key: str
    label: str
    required: bool
    description: str
    aliases: tuple[str, ...] = ()


#: Sheet ``ThongTin``: label in column A, value in column B.
INFO_LABELS: tuple[Label, ...] = (
    Label("reporting_unit", "Mã đơn vị báo cáo", True, "reporting unit code, in the catalog"),
    Label("reporting_unit_name", "Tên đơn vị báo cáo", False, "informative"),
    Label("quarter", "Quý", True, "2009-Q1, Q1/2009, 1/2009 or Quý 1 năm 2009", aliases=("Quý báo cáo", "Kỳ báo cáo")),
    Label("exported_at", "Ngày xuất dữ liệu", False, "date"),
    Label("prepared_by", "Người lập", False, "the unit's PMIS officer", aliases=("Cán bộ phụ trách PMIS", "Người lập biểu")),
    Label("phone", "Điện thoại", False, "optional", aliases=("Số điện thoại",)),
)

#: Sheet ``DonVi`` (optional, district offices): the schools they manage.
UNIT_FIELDS: tuple[Field, ...] = (
    Field("ma_don_vi", "Mã đơn vị", "code", "yes", "school code"),
    Field("ten_don_vi", "Tên đơn vị", "text", "yes", "school name", aliases=("Tên trường",)),
    Field("cap_hoc", "Cấp học", "text", "no", "Mầm non, Tiểu học, THCS, THPT, GDTX, ..."),
    Field("xa_phuong", "Xã/Phường", "text", "no", "commune"),
)

SHEET_INFO = "ThongTin"
SHEET_RECORDS = "HoSo"
SHEET_UNITS = "DonVi"


def _key_map(items: tuple[Field, ...] | tuple[Label, ...], main: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in items:
        for text in (getattr(item, main), *item.aliases):
            mapping[header_key(text)] = item.key
    return mapping


#: header_key(header or alias) -> field key
HEADER_KEYS: dict[str, str] = _key_map(FIELDS, "header")
LABEL_KEYS: dict[str, str] = _key_map(INFO_LABELS, "label")
UNIT_HEADER_KEYS: dict[str, str] = _key_map(UNIT_FIELDS, "header")


def is_required_expr_sql(key: str) -> str:
    """SQL predicate (over the staff table's typed columns) telling whether
    ``key`` is required on a row: the conditional rules of the contract."""
    rule = FIELD_BY_KEY[key].required
    if rule == "yes":
        return "TRUE"
    if rule == "teaching":
        posts = ", ".join("'" + p + "'" for p in TEACHING_POSTS)  # constants of the schema, not data
        return f"coalesce(chuc_vu IN ({posts}), FALSE)"
    if rule == "party":
        return f"coalesce(dang_vien = '{PARTY_MEMBER}', FALSE)"
    return "FALSE"


REQUIRED_KEYS: tuple[str, ...] = tuple(f.key for f in FIELDS if f.required != "no")

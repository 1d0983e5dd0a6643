"""Per-record rules: every rule of the registry passes a clean record and catches a bad one."""

from __future__ import annotations

import tomllib
import unicodedata
from datetime import date

import polars as pl
import pytest

from pmis_pipeline import schema
from pmis_pipeline.normalize import normalize_records
from pmis_pipeline.rules import ISSUE_SCHEMA, RULE_BY_ID, RULES, qualification_standard, record_issues
from pmis_pipeline.settings import DEFAULT_CONFIG
from tests.workbooks import CATALOG_COLUMNS, TINY_CATALOG, person

Q = "2009-Q1"  # ends 31/03/2009
RULES_CONFIG = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))["rules"]
UNITS = pl.DataFrame(TINY_CATALOG, schema=CATALOG_COLUMNS, orient="row")


def _cell(value) -> str | None:
    return None if value is None else str(value)


def staff_frame(records: list[dict], reporting_unit: str = "PGD02", has_photo: bool | list[bool] = False) -> pl.DataFrame:
    """Records as a reader delivers them (text) -> normalize_records -> the columns of core.staff_rows."""
    text = pl.DataFrame(
        [{k: _cell(r.get(k)) for k in schema.KEYS} for r in records], schema={k: pl.Utf8 for k in schema.KEYS}
    ).with_row_index("_row", offset=2).with_columns(
        # a Python number stands for a cell typed as a number (the reader tells which)
        pl.Series("_number:so_cmnd", [isinstance(r.get("so_cmnd"), (int, float)) for r in records], dtype=pl.Boolean)
    )
    typed, _ = normalize_records(text.with_columns(pl.col("_row").cast(pl.Int32)), "unicode")
    photos = has_photo if isinstance(has_photo, list) else [has_photo] * len(records)
    return typed.rename({"_row": "row_number"}).with_columns(
        pl.lit(Q).alias("quarter"),
        pl.lit("sub-1").alias("submission_id"),
        pl.lit(reporting_unit).alias("reporting_unit"),
        pl.Series("has_photo", photos, dtype=pl.Boolean),
    )


def clean(**overrides) -> dict:
    """A clean teacher of the THCS school of PGD02: born 12/05/1975, female, 15a.202 step 4 (3,03)."""
    values = {"ma_cb": "BT0001", "ma_don_vi": "PGD02-CS01", **overrides}
    return person(values.pop("ma_cb"), values.pop("ma_don_vi"), **values)


def issues_of(*records: dict, config: dict | None = None, **frame_kwargs) -> pl.DataFrame:
    return record_issues(staff_frame(list(records), **frame_kwargs), Q, UNITS, config or RULES_CONFIG)


# (rule, overrides of the clean record, frame kwargs, field named, texts the message must contain)
FAIL_CASES = [
    ("required", {"que_quan": "   "}, {}, "que_quan", ["Quê quán"]),
    # a name of one apostrophe, or of invisible characters, is blank (failed on the old code: no issue, valid, paid)
    ("required", {"ho_ten": "'"}, {}, "ho_ten", ["Họ và tên"]),
    ("required", {"ho_ten": "\u200b\u202e "}, {}, "ho_ten", ["Họ và tên"]),
    ("required", {"ngay_sinh": None}, {}, "ngay_sinh", ["Ngày sinh"]),
    ("required", {"mon_day": None}, {}, "mon_day", ["Môn dạy", "Giáo viên"]),
    ("required", {"chuc_vu": "Tổ trưởng", "mon_day": ""}, {}, "mon_day", ["Môn dạy", "Tổ trưởng"]),
    ("required", {"dang_vien": "Có", "ngay_vao_dang": None}, {}, "ngay_vao_dang", ["Ngày vào Đảng", "đảng viên"]),
    ("invalid_value", {"ngay_sinh": "31/02/1980"}, {}, "ngay_sinh", ["31/02/1980", "ngày có thật"]),
    ("invalid_value", {"ngay_tuyen_dung": "không rõ"}, {}, "ngay_tuyen_dung", ["không rõ"]),
    ("invalid_value", {"bac_luong": "4,5"}, {}, "bac_luong", ["4,5", "số nguyên"]),
    ("invalid_value", {"he_so_luong": "hai"}, {}, "he_so_luong", ["hai"]),
    ("not_in_catalog", {"dan_toc": "Kihn"}, {}, "dan_toc", ["Kihn", '"Kinh"']),
    ("not_in_catalog", {"gioi_tinh": "Trai"}, {}, "gioi_tinh", ["Trai", "Nam, Nữ"]),
    ("not_in_catalog", {"ton_giao": "Đạo Phật giáo"}, {}, "ton_giao", ["Đạo Phật giáo"]),
    ("not_in_catalog", {"tinh_trang": "Dang lam viec"}, {}, "tinh_trang", ["Dang lam viec", "Đang làm việc"]),
    ("not_in_catalog", {"ma_ngach": "15a.299"}, {}, "ma_ngach", ["15a.299", "Nghị định 204/2004"]),
    ("not_in_catalog", {"ma_ngach": "15a-202"}, {}, "ma_ngach", ["15a-202", '"15a.202"']),
    ("not_in_catalog", {"tin_hoc": "D"}, {}, "tin_hoc", ['"D"']),
    ("ma_cb_format", {"ma_cb": "BT_0001"}, {}, "ma_cb", ["BT_0001"]),
    ("ma_cb_format", {"ma_cb": "BT" + "0" * 19}, {}, "ma_cb", ["BT" + "0" * 19, "20"]),
    ("year_only_date", {"ngay_tuyen_dung": "1997"}, {}, "ngay_tuyen_dung", ["1997", "Ngày tuyển dụng"]),
    ("year_only_date", {"ngay_sinh": "1975"}, {}, "ngay_sinh", ["1975"]),
    ("date_after_quarter", {"ngay_vao_nganh": "01/04/2009"}, {}, "ngay_vao_nganh", ["01/04/2009", "31/03/2009"]),
    ("birth_year_implausible", {"ngay_sinh": "05/06/1925"}, {}, "ngay_sinh", ["05/06/1925", "1930"]),
    ("birth_year_implausible", {"ngay_sinh": "01/04/1991", "ngay_tuyen_dung": "01/09/2009", "ngay_vao_nganh": "01/09/2009"},
     {}, "ngay_sinh", ["01/04/1991", "17 tuổi"]),
    ("recruited_under_18", {"ngay_tuyen_dung": "11/05/1993"}, {}, "ngay_tuyen_dung", ["11/05/1993", "17 tuổi", "12/05/1975"]),
    ("recruited_under_18", {"ngay_sinh": "1975", "ngay_tuyen_dung": "31/12/1992"}, {}, "ngay_tuyen_dung",
     ["31/12/1992", "năm 1975"]),  # a bare birth year counts as 1 January
    ("sector_entry_under_18", {"ngay_vao_nganh": "11/05/1993"}, {}, "ngay_vao_nganh", ["11/05/1993", "17 tuổi"]),
    ("party_entry_under_18", {"dang_vien": "Có", "ngay_vao_dang": "11/05/1993"}, {}, "ngay_vao_dang", ["11/05/1993", "17 tuổi"]),
    ("past_retirement_age", {"gioi_tinh": "Nam", "ngay_sinh": "31/03/1949", "so_cmnd": "320123456"}, {}, "tinh_trang",
     ["Đang làm việc", "60 tuổi", "31/03/1949"]),
    ("past_retirement_age", {"ngay_sinh": "31/03/1954"}, {}, "tinh_trang", ["Đang làm việc", "55 tuổi"]),
    ("id_number_format", {"so_cmnd": "1234567"}, {}, "so_cmnd", ["1234567", "9", "12"]),
    ("id_number_format", {"so_cmnd": "32012345X"}, {}, "so_cmnd", ["32012345X"]),
    # typed as text, 8 digits lost nothing: not padded (failed on the old code, which padded any 8 digits)
    ("id_number_format", {"so_cmnd": "12345678"}, {}, "so_cmnd", ["12345678"]),
    ("cccd_mismatch", {"so_cmnd": "083075001234"}, {}, "so_cmnd", ["083075001234", "chữ số thứ 4 là 0, đúng ra là 1"]),
    ("cccd_mismatch", {"so_cmnd": "083176001234"}, {}, "so_cmnd", ["083176001234", "chữ số thứ 5-6 là 76, đúng ra là 75"]),
    ("cccd_mismatch", {"so_cmnd": "083375001234"}, {}, "so_cmnd", ["083375001234"]),  # 2000s female
    ("step_out_of_range", {"bac_luong": "11", "he_so_luong": "5,20"}, {}, "bac_luong", ["11", "15a.202", "1 đến 10"]),
    ("step_out_of_range", {"bac_luong": "0"}, {}, "bac_luong", ["Bậc lương 0"]),
    ("step_out_of_range", {"ma_ngach": "99.999", "bac_luong": "13"}, {}, "bac_luong", ["13", "1 đến 12"]),
    ("coefficient_mismatch", {"he_so_luong": "3,20"}, {}, "he_so_luong",
     ["Hệ số lương 3,20 không khớp ngạch 15a.202 bậc 4 (đúng: 3,03)"]),
    ("coefficient_mismatch", {"ma_ngach": "15.113", "bac_luong": "1", "he_so_luong": "2,10", "trinh_do": "Đại học"}, {},
     "he_so_luong", ["2,10", "15.113", "2,34"]),
    ("qualification_below_grade", {"trinh_do": "Trung cấp"}, {}, "trinh_do", ["Trung cấp", "15a.202", "Cao đẳng"]),
    ("unit_unknown", {"ma_don_vi": "PGD09-TH99"}, {}, "ma_don_vi", ["PGD09-TH99"]),
    ("unit_other_reporting_unit", {"ma_don_vi": "PGD01-TH01"}, {}, "ma_don_vi", ["PGD01-TH01", "PGD01", "PGD02"]),
    ("photo_missing", {"anh": "anh/BT0001.jpg"}, {}, "anh", ["anh/BT0001.jpg", "BT0001"]),
]

# (rule, overrides, frame kwargs): near misses that must not raise the rule
PASS_CASES = [
    ("required", {}, {}),
    ("required", {"chuc_vu": "Nhân viên", "mon_day": None}, {}),  # not a teaching post
    ("required", {"dang_vien": "Không", "ngay_vao_dang": None}, {}),
    ("required", {"dang_vien": "Có", "ngay_vao_dang": "03/02/2000"}, {}),
    ("invalid_value", {"ngay_sinh": "29/02/1976", "bac_luong": "4.0", "he_so_luong": "3.03"}, {}),
    ("invalid_value", {"ngay_sinh": "27526"}, {}),  # an Excel serial day
    ("not_in_catalog", {"dan_toc": "H'Mông", "ton_giao": "Hoà Hảo", "gioi_tinh": "NỮ", "ma_ngach": "15A.202"}, {}),
    ("not_in_catalog", {"tin_hoc": None, "ly_luan_ct": "Trung cấp"}, {}),
    ("ma_cb_format", {"ma_cb": "bt-01.2"}, {}),  # stored upper case
    ("ma_cb_format", {"ma_cb": "B" * 20}, {}),
    ("year_only_date", {"ngay_tuyen_dung": "01/01/1997"}, {}),
    ("date_after_quarter", {"ngay_vao_nganh": "31/03/2009", "ngay_tuyen_dung": "31/03/2009"}, {}),
    ("birth_year_implausible", {"ngay_sinh": "31/03/1991", "ngay_tuyen_dung": "01/04/2009", "ngay_vao_nganh": "01/04/2009"}, {}),
    ("birth_year_implausible", {"ngay_sinh": "01/04/1934", "tinh_trang": "Nghỉ hưu"}, {}),  # 74 at the quarter's end
    ("recruited_under_18", {"ngay_tuyen_dung": "12/05/1993"}, {}),  # the 18th birthday
    ("recruited_under_18", {"ngay_tuyen_dung": "1993"}, {}),  # a bare year counts as 31 December
    ("recruited_under_18", {"ngay_sinh": "1975", "ngay_tuyen_dung": "01/01/1993"}, {}),
    ("sector_entry_under_18", {"ngay_vao_nganh": "12/05/1993"}, {}),
    ("party_entry_under_18", {"dang_vien": "Có", "ngay_vao_dang": "12/05/1993"}, {}),
    ("past_retirement_age", {"gioi_tinh": "Nam", "ngay_sinh": "01/04/1949"}, {}),  # 59 at the quarter's end
    ("past_retirement_age", {"ngay_sinh": "01/04/1954"}, {}),
    ("past_retirement_age", {"gioi_tinh": "Nam", "ngay_sinh": "01/04/1940", "tinh_trang": "Nghỉ hưu"}, {}),
    ("id_number_format", {"so_cmnd": "083175001234"}, {}),
    ("id_number_format", {"so_cmnd": 12345678}, {}),  # typed as a number: the leading zero is restored
    ("id_number_format", {"so_cmnd": "０１２３４５６７８"}, {}),  # full-width digits are read as ASCII
    ("cccd_mismatch", {"so_cmnd": "083175001234"}, {}),
    ("cccd_mismatch", {"so_cmnd": "083075001234", "gioi_tinh": "Nam"}, {}),
    ("cccd_mismatch", {"so_cmnd": "083075001234", "gioi_tinh": "Trai"}, {}),  # sex unknown: 0 or 1 for the 1900s
    ("step_out_of_range", {"bac_luong": "10", "he_so_luong": "4,89"}, {}),
    ("step_out_of_range", {"ma_ngach": "15.114", "bac_luong": "12", "he_so_luong": "4,06", "trinh_do": "Trung cấp"}, {}),
    ("coefficient_mismatch", {"he_so_luong": "3.03"}, {}),
    ("coefficient_mismatch", {"ma_ngach": "01.009", "chuc_vu": "Nhân viên", "bac_luong": "3", "he_so_luong": "1,36",
                              "trinh_do": "Chưa qua đào tạo"}, {}),
    ("qualification_below_grade", {"trinh_do": "Thạc sĩ"}, {}),
    ("qualification_below_grade", {"ma_ngach": "15c.208", "bac_luong": "1", "he_so_luong": "1,86",
                                   "trinh_do": "Trung cấp"}, {}),  # no minimum for 15c.*
    ("unit_unknown", {"ma_don_vi": "pgd02-cs01"}, {}),
    ("unit_other_reporting_unit", {"ma_don_vi": "PGD02"}, {}),
    ("photo_missing", {"anh": "BT0001.jpg"}, {"has_photo": True}),
    ("photo_missing", {"anh": None}, {}),  # no photo and an empty cell: coverage, not an issue
]


def _case_id(case) -> str:
    return f"{case[0]}:{','.join(f'{k}={v}' for k, v in case[1].items())}"


def test_every_rule_has_a_failing_and_a_passing_case():
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert {c[0] for c in FAIL_CASES} == set(ids)
    assert {c[0] for c in PASS_CASES} == set(ids)


def test_registry_is_documented():
    for rule in RULES:
        assert rule.severity in ("error", "warning")
        assert rule.description and rule.message_vi
        assert rule.field is None or rule.field in schema.FIELD_BY_KEY
        assert unicodedata.is_normalized("NFC", rule.message_vi)


@pytest.mark.parametrize("case", FAIL_CASES, ids=_case_id)
def test_rule_catches_a_bad_record(case):
    rule_id, overrides, frame_kwargs, field, texts = case
    issues = issues_of(clean(**overrides), **frame_kwargs)
    hits = issues.filter((pl.col("rule") == rule_id) & (pl.col("field") == field))
    assert hits.height == 1, issues.select("field", "rule", "message")
    hit = hits.row(0, named=True)
    rule = RULE_BY_ID[rule_id]
    assert hit["severity"] == rule.severity
    assert rule.field in (None, field)
    for text in texts:
        assert text in hit["message"], hit["message"]
    assert "{" not in hit["message"] and "}" not in hit["message"]
    assert unicodedata.is_normalized("NFC", hit["message"])
    assert hit["ma_cb"] is not None and hit["reporting_unit"] == frame_kwargs.get("reporting_unit", "PGD02")
    assert (hit["quarter"], hit["submission_id"], hit["row_number"]) == (Q, "sub-1", 2)
    raw = _cell(overrides.get(field, clean().get(field)))
    assert hit["value"] == raw  # the value as received


@pytest.mark.parametrize("case", PASS_CASES, ids=_case_id)
def test_rule_passes_a_good_record(case):
    rule_id, overrides, frame_kwargs = case
    issues = issues_of(clean(**overrides), **frame_kwargs)
    assert issues.filter(pl.col("rule") == rule_id).height == 0, issues.select("field", "rule", "message")


@pytest.mark.parametrize(
    "record",
    [
        clean(),
        clean(chuc_vu="Nhân viên", mon_day=None, ma_ngach="01.009", bac_luong=3, he_so_luong="1,36", trinh_do="Chưa qua đào tạo"),
        clean(gioi_tinh="Nam", so_cmnd="083075001234", dang_vien="Có", ngay_vao_dang="03/02/2000", ly_luan_ct="Trung cấp"),
        clean(anh="anh/BT0001.jpg", ma_don_vi="PGD02", chuc_vu="Chuyên viên", mon_day=None, ma_ngach="01.003",
              bac_luong=5, he_so_luong="3,66", trinh_do="Đại học"),
    ],
)
def test_a_clean_record_has_no_issue(record):
    issues = issues_of(record, has_photo=True)
    assert issues.height == 0, issues.select("field", "rule", "message")


def test_output_schema_and_order():
    records = [clean(ma_cb="BT1", dan_toc="Kihn", he_so_luong="3,20"), clean(ma_cb="BT2"), clean(ma_cb="BT3", que_quan=None)]
    issues = issues_of(*records)
    assert issues.schema == pl.Schema(ISSUE_SCHEMA)
    assert issues.select("row_number", "field", "rule").rows() == [
        (2, "dan_toc", "not_in_catalog"),
        (2, "he_so_luong", "coefficient_mismatch"),
        (4, "que_quan", "required"),
    ]
    assert issues["ma_cb"].to_list() == ["BT1", "BT1", "BT3"]
    assert issues["ma_don_vi"].to_list() == ["PGD02-CS01"] * 3


def test_empty_staff_gives_an_empty_frame():
    empty = staff_frame([clean()]).head(0)
    issues = record_issues(empty, Q, UNITS, RULES_CONFIG)
    assert issues.height == 0 and issues.schema == pl.Schema(ISSUE_SCHEMA)


def test_configured_ages_apply():
    young = clean(ngay_tuyen_dung="12/05/1992")  # 17
    assert issues_of(young).filter(pl.col("rule") == "recruited_under_18").height == 1
    relaxed = {**RULES_CONFIG, "min_working_age": 17}
    assert issues_of(young, config=relaxed).filter(pl.col("rule") == "recruited_under_18").height == 0
    older = clean(ngay_sinh="31/03/1952")  # 57, female
    assert issues_of(older).filter(pl.col("rule") == "past_retirement_age").height == 1
    later = {**RULES_CONFIG, "retirement_age_female": 60}
    assert issues_of(older, config=later).filter(pl.col("rule") == "past_retirement_age").height == 0


def test_raw_value_is_kept_in_value_and_clean_text_in_message():
    issues = issues_of(clean(dan_toc="  kihn "))
    hit = issues.filter(pl.col("rule") == "not_in_catalog").row(0, named=True)
    assert hit["value"] == "  kihn "
    assert '"kihn"' in hit["message"] and '"Kinh"' in hit["message"]


def test_later_quarter_moves_the_reference_date():
    # 60 on 01/06/2009: not yet at the end of Q1, past it at the end of Q2
    record = clean(gioi_tinh="Nam", ngay_sinh="01/06/1949")
    assert issues_of(record).filter(pl.col("rule") == "past_retirement_age").height == 0
    frame = staff_frame([record]).with_columns(pl.lit("2009-Q2").alias("quarter"))
    q2 = record_issues(frame, "2009-Q2", UNITS, RULES_CONFIG)
    assert q2.filter(pl.col("rule") == "past_retirement_age")["quarter"].to_list() == ["2009-Q2"]


@pytest.mark.parametrize(
    ("unit", "overrides", "expected"),
    [
        ("PGD02-CS01", {"trinh_do": "Cao đẳng"}, "Đạt chuẩn"),
        ("PGD02-CS01", {"trinh_do": "Đại học"}, "Trên chuẩn"),
        ("PGD02-CS01", {"trinh_do": "Trung cấp"}, "Chưa đạt chuẩn"),
        ("PGD01-TH01", {"trinh_do": "Trung cấp", "ma_ngach": "15.114"}, "Đạt chuẩn"),
        ("PGD01-MN01", {"trinh_do": "Sơ cấp", "ma_ngach": "15c.210"}, "Chưa đạt chuẩn"),
        ("PGD01-MN01", {"trinh_do": "Cao đẳng", "ma_ngach": "15a.206"}, "Trên chuẩn"),
        ("THPT01", {"trinh_do": "Đại học", "ma_ngach": "15.113"}, "Đạt chuẩn"),
        ("THPT01", {"trinh_do": "Thạc sĩ", "ma_ngach": "15.113"}, "Trên chuẩn"),
        ("THPT01", {"trinh_do": "Cao đẳng", "ma_ngach": "15c.207"}, "Chưa đạt chuẩn"),
        # a principal on a teacher grade is measured; GDTX falls back on the grade's level (THPT)
        ("THPT01", {"chuc_vu": "Hiệu trưởng", "mon_day": None, "trinh_do": "Đại học", "ma_ngach": "15.113"}, "Đạt chuẩn"),
        ("GDTX01", {"trinh_do": "Cao đẳng", "ma_ngach": "15.113"}, "Chưa đạt chuẩn"),
        # non-teachers, unknown qualification: no standard
        ("PGD02-CS01", {"chuc_vu": "Kế toán", "mon_day": None, "ma_ngach": "06.031", "trinh_do": "Đại học"}, None),
        ("PGD02-CS01", {"trinh_do": "Kỹ sư phần mềm"}, None),
    ],
)
def test_qualification_standard(unit, overrides, expected):
    frame = staff_frame([person("BT1", unit, **overrides)])
    result = qualification_standard(frame, UNITS)
    assert isinstance(result, pl.Series) and result.len() == 1
    assert result[0] == expected


def test_twenty_thousand_rows_each_get_their_own_issues():
    """Vectorised rules keep every row's issues apart (speed: bench/validation_bench.py)."""
    base = staff_frame([clean(), clean(dan_toc="Kihn"), clean(he_so_luong="3,20", anh="x.jpg"), clean(ngay_sinh="1940")])
    big = pl.concat([base] * 5_000).with_columns(pl.int_range(pl.len(), dtype=pl.Int32).alias("row_number"))
    issues = record_issues(big, Q, UNITS, RULES_CONFIG)
    catalog = issues.filter(pl.col("rule") == "not_in_catalog")
    assert catalog.height == 5_000
    assert catalog["row_number"].to_list() == list(range(1, 20_000, 4))
    assert qualification_standard(big, UNITS).len() == big.height


def test_quarter_end_is_a_date():
    from pmis_pipeline.quarters import Quarter

    assert Quarter.parse_key(Q).end == date(2009, 3, 31)

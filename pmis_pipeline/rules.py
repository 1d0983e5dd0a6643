"""Per-record data-quality rules: one quarter's ``staff`` rows -> ``record_issues``.

Every rule looks at one record at a time (cross-record rules: duplicated
persons, lost records, identity drift, are SQL in the warehouse layer). The
rules are vectorised polars expressions over the typed staff frame (see
``normalize.py``): a value that could not be typed leaves its typed column
null while ``raw.<key>`` keeps the text as received, so *missing* (raw blank)
and *unreadable* (raw present, typed null) are told apart.

:data:`RULES` is the registry (README and tests iterate over it). Each
:class:`Rule` carries its Vietnamese message template; the messages are built
from those templates by :func:`_render`, column by column, never row by row.

Which ``field`` an issue names follows the contract
(reference-and-warehouse.md, "Which field an issue names"): the field the
unit must correct.

Ages are computed exactly (birthday-aware) from the typed dates. A birth date
given as a bare year is stored as 1 January (``normalize``) and used as such:
1 January is the earliest possible birthday, so the person is taken at the
oldest they can be, and an "under 18" or "too young" error is raised only if
it holds for every day of that year. For the same reason a bare-year
recruitment, sector-entry or party-entry date is compared as 31 December of
its year (the latest it can be). A bare year also gets its own
``year_only_date`` warning.
"""

from __future__ import annotations

import difflib
import re
import string
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Literal

import polars as pl

from pmis_pipeline import schema
from pmis_pipeline.quarters import Quarter
from pmis_pipeline.reference import (
    QUALIFICATION_ORDER,
    catalog_lookup,
    catalog_values,
    grades,
    qualification_standards,
    salary_groups,
)
from pmis_pipeline.textnorm import is_blank_expr, value_key

Severity = Literal["error", "warning"]

ISSUE_SCHEMA: dict[str, pl.DataType] = {
    "quarter": pl.Utf8(),
    "submission_id": pl.Utf8(),
    "row_number": pl.Int32(),
    "ma_cb": pl.Utf8(),
    "reporting_unit": pl.Utf8(),
    "ma_don_vi": pl.Utf8(),
    "field": pl.Utf8(),
    "rule": pl.Utf8(),
    "severity": pl.Utf8(),
    "message": pl.Utf8(),
    "value": pl.Utf8(),
}

#: Format rules of single fields (the contract's HoSo table).
FORMAT_PATTERNS: dict[str, str] = {
    "ma_cb": r"^[A-Z0-9.\-]{1,20}$",
    "so_cmnd": r"^(?:[0-9]{9}|[0-9]{12})$",  # ASCII digits (other digits are mapped to ASCII when cleaned)
}
#: Allowed ranges of numeric fields: a salary step runs from 1 to the largest group's steps
#: (the per-grade bound is the ``step_out_of_range`` rule).
VALUE_RANGES: dict[str, tuple[int, int]] = {
    "bac_luong": (1, max(g.steps for g in salary_groups().values())),
}
#: Fields typed as numbers or dates whose unreadable text is an ``invalid_value``
#: error. ``row_no`` (STT) is informative and never checked.
INFORMATIVE_KEYS: tuple[str, ...] = ("row_no",)
TYPED_KINDS: tuple[str, ...] = ("date", "int", "decimal")
#: Catalogs short enough to list in full in a message; longer ones get a suggestion.
LIST_IN_MESSAGE_MAX = 7
#: Qualification a teacher needs to be "Đạt chuẩn" at each school level (domain.md,
#: Education Law 2005, [unverified]); a higher one is "Trên chuẩn", a lower one
#: "Chưa đạt chuẩn". Levels not in this table (GDTX, ...) fall back on the level
#: of the teacher's grade (grades.csv cap_hoc), else give no standard.
QUALIFICATION_STANDARD: dict[str, str] = qualification_standards()
STANDARD_MET = "Đạt chuẩn"
STANDARD_ABOVE = "Trên chuẩn"
STANDARD_BELOW = "Chưa đạt chuẩn"

ACTIVE_STATUS = "Đang làm việc"
MALE, FEMALE = catalog_values("gioi_tinh")[:2]  # Nam, Nữ


@dataclass(frozen=True)
class Rule:
    """One per-record rule. ``field`` is the HoSo key the issue names, or None when
    the rule applies to several fields (each issue then names its own)."""

    id: str
    field: str | None
    severity: Severity
    description: str  # English, for the README
    message_vi: str  # template; ``{name}`` placeholders are filled per record

    @property
    def label_vi(self) -> str:
        """The rule's name for a clerk (feedback workbooks, reports)."""
        return RULE_LABELS_VI[self.id]

    def placeholders(self) -> tuple[str, ...]:
        return tuple(name for _, name, _, _ in string.Formatter().parse(self.message_vi) if name)


RULES: tuple[Rule, ...] = (
    Rule("required", None, "error",
         "A required field is empty (Môn dạy only for teaching posts, Ngày vào Đảng only for party members).",
         "Thiếu {label}: {reason}."),
    Rule("invalid_value", None, "error",
         "A date or number is filled in but cannot be read (e.g. 31/02/1980, a step of 4,5).",
         '{label} "{value}" {problem}; cần ghi {expected}.'),
    Rule("not_in_catalog", None, "error",
         "A value-list field (or the grade code) holds a value that is not in the catalog; "
         "never corrected silently, the message may suggest the nearest accepted value.",
         '{label} "{value}" không có trong danh mục; {hint}'),
    Rule("ma_cb_format", "ma_cb", "error",
         "The staff code is not 1-20 characters of A-Z, 0-9, '.' and '-'.",
         '{label} "{value}" sai dạng: chỉ gồm chữ in hoa không dấu (A-Z), chữ số, dấu chấm, '
         "dấu gạch ngang, tối đa 20 ký tự."),
    Rule("year_only_date", None, "warning",
         "A date is given as a bare year (stored as 1 January of that year).",
         "{label} chỉ ghi năm {year}; đã tạm lưu là 01/01/{year}, cần ghi đủ ngày/tháng/năm."),
    Rule("date_after_quarter", None, "error",
         "A date falls after the last day of the reporting quarter.",
         "{label} {date} muộn hơn ngày cuối kỳ báo cáo ({quarter_end}); kiểm tra lại ngày, tháng, năm."),
    Rule("birth_year_implausible", "ngay_sinh", "error",
         "Birth year before min_birth_year, or age at the quarter's end above max_age_at_quarter_end "
         "or below min_working_age.",
         "{label} {date} không hợp lý: {age} tuổi vào cuối kỳ báo cáo, trong khi tuổi hợp lệ là từ "
         "{min_age} đến {max_age} (sinh từ năm {min_year} trở đi)."),
    Rule("recruited_under_18", "ngay_tuyen_dung", "error",
         "Recruited before reaching min_working_age (exact age from the dates).",
         "{label} {date}: khi đó mới {age} tuổi (sinh {birth}), chưa đủ {min_age} tuổi; "
         "kiểm tra lại {label_lc} hoặc ngày sinh."),
    Rule("sector_entry_under_18", "ngay_vao_nganh", "error",
         "Entered the education sector before reaching min_working_age (exact age from the dates).",
         "{label} {date}: khi đó mới {age} tuổi (sinh {birth}), chưa đủ {min_age} tuổi; "
         "kiểm tra lại {label_lc} hoặc ngày sinh."),
    Rule("party_entry_under_18", "ngay_vao_dang", "error",
         "Joined the Party before reaching min_working_age (exact age from the dates).",
         "{label} {date}: khi đó mới {age} tuổi (sinh {birth}), chưa đủ {min_age} tuổi; "
         "kiểm tra lại {label_lc} hoặc ngày sinh."),
    Rule("past_retirement_age", "tinh_trang", "warning",
         "Still 'Đang làm việc' at or past the retirement age of their sex at the quarter's end.",
         'Đã {age} tuổi (sinh {birth}), đủ tuổi nghỉ hưu của {sex} ({retirement_age} tuổi) nhưng '
         'tình trạng vẫn là "{value}"; cập nhật tình trạng hoặc kiểm tra lại ngày sinh.'),
    Rule("id_number_format", "so_cmnd", "error",
         "The identity number is not 9 (CMND) or 12 (CCCD) digits.",
         '{label} "{value}" sai dạng: phải gồm đúng 9 chữ số (CMND) hoặc 12 chữ số (CCCD).'),
    Rule("cccd_mismatch", "so_cmnd", "error",
         "A 12-digit CCCD whose 4th digit (century and sex) or 5th-6th digits (birth year) "
         "disagree with the record's sex or birth date.",
         "Số CCCD {value} không khớp hồ sơ ({profile}): {detail}."),
    Rule("step_out_of_range", "bac_luong", "error",
         "Salary step below 1 or above the number of steps of the grade's salary group "
         "(of the largest group, 12, when the grade is unknown).",
         "{label} {value} không hợp lệ: {expected}."),
    Rule("coefficient_mismatch", "he_so_luong", "error",
         "Salary coefficient differs from step-1 coefficient + step size x (step - 1) of the grade's "
         "group (Decree 204/2004), for a known grade and a valid step.",
         "{label} {value} không khớp ngạch {ma_ngach} bậc {step} (đúng: {expected})."),
    Rule("qualification_below_grade", "trinh_do", "error",
         "Professional qualification below the minimum of the grade (grades.csv min_trinh_do).",
         '{label} "{value}" thấp hơn yêu cầu của ngạch {ma_ngach} ({grade_name}): tối thiểu {minimum}.'),
    Rule("unit_unknown", "ma_don_vi", "error",
         "The unit code is not in the Department's unit catalog.",
         '{label} "{value}" không có trong danh mục đơn vị của Sở; kiểm tra lại mã đơn vị '
         "(đơn vị mới phải đề nghị Sở bổ sung danh mục)."),
    Rule("unit_other_reporting_unit", "ma_don_vi", "error",
         "The unit is in the catalog but belongs to another reporting unit than the one that sent the record.",
         "Đơn vị {value} ({unit_name}) thuộc đơn vị báo cáo {owner}, không thuộc {reporting_unit}; "
         "kiểm tra lại mã đơn vị."),
    Rule("photo_missing", "anh", "warning",
         "The Ảnh cell names a photo but no valid photo of the person was received "
         "(a person with no photo and an empty cell gets no issue: photos are measured by coverage).",
         '{label} ghi "{value}" nhưng không nhận được tệp ảnh hợp lệ của cán bộ {ma_cb} '
         "(cần tệp anh/{ma_cb}.jpg, .jpeg hoặc .png trong tệp nén)."),
)
#: Vietnamese name of every rule that can produce an issue: the per-record
#: rules above, the rules across records (crosscheck.py) and the formats the
#: Great Expectations suite checks (quality.py).
RULE_LABELS_VI: dict[str, str] = {
    "required": "Thiếu thông tin bắt buộc",
    "invalid_value": "Ngày hoặc số không đọc được",
    "not_in_catalog": "Giá trị không có trong danh mục",
    "ma_cb_format": "Mã cán bộ sai dạng",
    "year_only_date": "Ngày chỉ ghi năm",
    "date_after_quarter": "Ngày sau kỳ báo cáo",
    "birth_year_implausible": "Năm sinh không hợp lý",
    "recruited_under_18": "Tuyển dụng khi chưa đủ tuổi",
    "sector_entry_under_18": "Vào ngành khi chưa đủ tuổi",
    "party_entry_under_18": "Vào Đảng khi chưa đủ tuổi",
    "past_retirement_age": "Quá tuổi nghỉ hưu nhưng còn đang làm việc",
    "id_number_format": "Số CMND/CCCD sai dạng",
    "cccd_mismatch": "Số CCCD không khớp giới tính hoặc năm sinh",
    "step_out_of_range": "Bậc lương ngoài khung của ngạch",
    "coefficient_mismatch": "Hệ số lương không khớp ngạch và bậc",
    "qualification_below_grade": "Trình độ thấp hơn yêu cầu của ngạch",
    "unit_unknown": "Mã đơn vị không có trong danh mục",
    "unit_other_reporting_unit": "Đơn vị thuộc đơn vị báo cáo khác",
    "photo_missing": "Thiếu ảnh",
    "duplicate_ma_cb": "Mã cán bộ trùng trong đơn vị",
    "duplicate_across_units": "Mã cán bộ trùng giữa các đơn vị",
    "identity_drift": "Thông tin nhân thân khác quý trước",
    "format": "Giá trị sai định dạng",
}
RULE_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}
_RULE_ORDER: dict[str, int] = {r.id: i for i, r in enumerate(RULES)}
_FIELD_ORDER: dict[str, int] = {k: i for i, k in enumerate(schema.KEYS)}


# ---------------------------------------------------------------- expression helpers


def _raw(key: str) -> pl.Expr:
    return pl.col("raw").struct.field(key)


def _blank(key: str) -> pl.Expr:
    """Missing: the value as received is blank after cleaning (whitespace,
    invisible characters, lone apostrophes: :func:`textnorm.is_blank_expr`,
    the one definition of blank)."""
    return is_blank_expr(_raw(key))


def _label(key: str) -> str:
    return schema.FIELD_BY_KEY[key].header


def _fmt_date(expr: pl.Expr) -> pl.Expr:
    return expr.dt.strftime("%d/%m/%Y")


def _fmt_cents(cents: pl.Expr) -> pl.Expr:
    """Integer hundredths -> ``3,03`` (Vietnamese decimal comma)."""
    return pl.concat_str(
        (cents // 100).cast(pl.Utf8), pl.lit(","), (cents % 100).cast(pl.Utf8).str.zfill(2)
    )


def _cents(expr: pl.Expr) -> pl.Expr:
    return (expr.cast(pl.Float64) * 100).round(0).cast(pl.Int64)


def _age(birth: pl.Expr, at: pl.Expr) -> pl.Expr:
    """Whole years from ``birth`` to ``at``, birthday-aware."""
    md_at = at.dt.month().cast(pl.Int32) * 100 + at.dt.day().cast(pl.Int32)
    md_birth = birth.dt.month().cast(pl.Int32) * 100 + birth.dt.day().cast(pl.Int32)
    return at.dt.year().cast(pl.Int32) - birth.dt.year().cast(pl.Int32) - (md_at < md_birth).cast(pl.Int32)


def _fmt_day(key: str) -> pl.Expr:
    """A date for a message: ``12/05/1975``, or ``năm 1958`` when only the year was given."""
    d = pl.col(key)
    return pl.when(pl.col(f"{key}_year_only")).then(pl.concat_str(pl.lit("năm "), d.dt.year().cast(pl.Utf8))).otherwise(_fmt_date(d))


def _latest_day(key: str) -> pl.Expr:
    """An event date; a bare year counts as 31 December (the latest it can be)."""
    d = pl.col(key)
    return pl.when(pl.col(f"{key}_year_only")).then(pl.date(d.dt.year(), 12, 31)).otherwise(d)


def _as_expr(part: pl.Expr | str | int) -> pl.Expr:
    return part.cast(pl.Utf8) if isinstance(part, pl.Expr) else pl.lit(str(part))


def _render(rule: Rule, **parts: pl.Expr | str | int) -> pl.Expr:
    """The rule's template filled column-wise: literals and expressions concatenated."""
    pieces: list[pl.Expr] = []
    for literal, name, _, _ in string.Formatter().parse(rule.message_vi):
        if literal:
            pieces.append(pl.lit(literal))
        if name:
            pieces.append(_as_expr(parts[name]).fill_null(""))
    return pl.concat_str(pieces).str.normalize("NFC")


# ---------------------------------------------------------------- reference lookups


@cache
def _grade_table() -> pl.DataFrame:
    """Grades with their group's figures in integer hundredths and the minimum qualification's rank."""
    g = grades()
    step1 = {r["ma_ngach"]: int(Decimal(r["step1"]) * 100) for r in g.iter_rows(named=True)}
    size = {r["ma_ngach"]: int(Decimal(r["step_size"]) * 100) for r in g.iter_rows(named=True)}
    rank = {q: i for i, q in enumerate(QUALIFICATION_ORDER)}
    return g.select(
        pl.col("ma_ngach"),
        pl.lit(True).alias("_g_known"),
        pl.col("ten_ngach").alias("_g_name"),
        pl.col("salary_group").alias("_g_group"),
        pl.col("steps").alias("_g_steps"),
        pl.col("ma_ngach").replace_strict(step1, return_dtype=pl.Int64).alias("_g_step1"),
        pl.col("ma_ngach").replace_strict(size, return_dtype=pl.Int64).alias("_g_size"),
        pl.col("min_trinh_do").alias("_g_min"),
        pl.col("min_trinh_do").replace_strict(rank, default=None, return_dtype=pl.Int32).alias("_g_min_rank"),
        pl.col("cap_hoc").alias("_g_cap_hoc"),
        pl.col("is_teacher").alias("_g_teacher"),
    )


def _qualification_rank(expr: pl.Expr) -> pl.Expr:
    rank = {q: i for i, q in enumerate(QUALIFICATION_ORDER)}
    return expr.replace_strict(rank, default=None, return_dtype=pl.Int32)


def _suggestions(values: list[str], catalog: str | None) -> dict[str, str]:
    """Nearest accepted value for each distinct unknown value: difflib over value keys for a
    catalog; for grade codes only the code that differs by punctuation (``15a202`` -> ``15a.202``),
    as similar-looking codes are different grades."""
    if catalog is None:
        codes = {re.sub(r"[^0-9a-z]", "", c.lower()): c for c in grades()["ma_ngach"].to_list()}
        return {v: codes[k] for v in values if (k := re.sub(r"[^0-9a-z]", "", v.lower())) in codes}
    lookup = catalog_lookup(catalog)
    keyed = {v: value_key(v) for v in values}
    out: dict[str, str] = {}
    for v, k in keyed.items():
        match = difflib.get_close_matches(k, lookup.keys(), n=1, cutoff=0.6)
        if match:
            out[v] = lookup[match[0]]
    return out


def _prepare(staff: pl.DataFrame, quarter_end: date, units: pl.DataFrame) -> pl.DataFrame:
    """The staff rows with grade and unit facts joined, and the age at the quarter's end."""
    frame = staff
    if "has_photo" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Boolean).alias("has_photo"))
    unit_facts = units.select(
        pl.col("ma_don_vi"),
        pl.lit(True).alias("_u_known"),
        pl.col("ten_don_vi").alias("_u_name"),
        pl.col("ma_don_vi_bao_cao").alias("_u_owner"),
        pl.col("cap_hoc").alias("_u_cap_hoc"),
    ).unique("ma_don_vi", keep="first")
    frame = (
        frame.join(_grade_table(), on="ma_ngach", how="left", maintain_order="left")
        .join(unit_facts, on="ma_don_vi", how="left", maintain_order="left")
        .with_columns(
            pl.col("_g_known").fill_null(False),
            pl.col("_u_known").fill_null(False),
            _age(pl.col("ngay_sinh"), pl.lit(quarter_end)).alias("_age"),
            _qualification_rank(pl.col("trinh_do")).alias("_td_rank"),
        )
    )
    return frame


# ---------------------------------------------------------------- the rules


@dataclass(frozen=True)
class _Check:
    rule: Rule
    field: str
    when: pl.Expr  # rows with the issue (null counts as no issue)
    message: pl.Expr  # value: always raw.<field>, the text as received


def _required_checks() -> list[_Check]:
    rule = RULE_BY_ID["required"]
    checks = []
    for f in schema.FIELDS:
        if f.required == "yes":
            applies, reason = pl.lit(True), pl.lit("đây là thông tin bắt buộc")
        elif f.required == "teaching":
            applies = pl.col("chuc_vu").is_in(list(schema.TEACHING_POSTS))
            reason = pl.concat_str(pl.lit("bắt buộc với chức vụ "), pl.col("chuc_vu"))
        elif f.required == "party":
            applies = pl.col("dang_vien") == schema.PARTY_MEMBER
            reason = pl.lit("bắt buộc với đảng viên")
        else:
            continue
        checks.append(_Check(rule, f.key, applies & _blank(f.key), _render(rule, label=f.header, reason=reason)))
    return checks


_UNREADABLE = {
    "date": ("không phải là ngày có thật", "ngày/tháng/năm, ví dụ 12/05/1975 (hoặc chỉ năm, ví dụ 1958)"),
    "int": ("không phải là số nguyên", "một số nguyên, ví dụ 4"),
    "decimal": ("không phải là số", "số có hai chữ số thập phân, ví dụ 2,34"),
}


def _invalid_value_checks() -> list[_Check]:
    rule = RULE_BY_ID["invalid_value"]
    checks = []
    for f in schema.FIELDS:
        if f.kind not in TYPED_KINDS or f.key in INFORMATIVE_KEYS:
            continue
        problem, expected = _UNREADABLE[f.kind]
        when = ~_blank(f.key) & pl.col(f.key).is_null()
        message = _render(rule, label=f.header, value=_raw(f.key).str.strip_chars(), problem=problem, expected=expected)
        checks.append(_Check(rule, f.key, when, message))
    return checks


def _catalog_checks(frame: pl.DataFrame) -> list[_Check]:
    rule = RULE_BY_ID["not_in_catalog"]
    checks = []
    for f in schema.FIELDS:
        if f.catalog:
            accepted: list[str] = list(catalog_values(f.catalog))
            catalog: str | None = f.catalog
        elif f.kind == "grade":
            accepted, catalog = grades()["ma_ngach"].to_list(), None
        else:
            continue
        bad = pl.col(f.key).is_not_null() & ~pl.col(f.key).is_in(accepted)
        if catalog is not None and len(accepted) <= LIST_IN_MESSAGE_MAX:
            hint: pl.Expr = pl.lit("giá trị hợp lệ: " + ", ".join(accepted) + ".")
        else:
            unknown = frame.filter(bad).get_column(f.key).unique().to_list()
            suggestion = _suggestions(unknown, catalog)
            fallback = "ghi đúng tên trong danh mục." if catalog else "ghi mã ngạch theo Nghị định 204/2004, ví dụ 15a.202."
            near = pl.col(f.key).replace_strict(suggestion, default=None, return_dtype=pl.Utf8) if suggestion else pl.lit(None, pl.Utf8)
            hint = pl.when(near.is_not_null()).then(pl.concat_str(pl.lit('có phải là "'), near, pl.lit('"?'))).otherwise(pl.lit(fallback))
        checks.append(_Check(rule, f.key, bad, _render(rule, label=f.header, value=pl.col(f.key), hint=hint)))
    return checks


def _format_checks() -> list[_Check]:
    out = []
    for rule_id, key in (("ma_cb_format", "ma_cb"), ("id_number_format", "so_cmnd")):
        rule = RULE_BY_ID[rule_id]
        when = pl.col(key).is_not_null() & ~pl.col(key).str.contains(FORMAT_PATTERNS[key])
        out.append(_Check(rule, key, when, _render(rule, label=_label(key), value=pl.col(key))))
    return out


def _date_checks(quarter_end: date) -> list[_Check]:
    year_only, after = RULE_BY_ID["year_only_date"], RULE_BY_ID["date_after_quarter"]
    out = []
    for key in schema.DATE_KEYS:
        label = _label(key)
        out.append(
            _Check(year_only, key, pl.col(f"{key}_year_only") & pl.col(key).is_not_null(),
                   _render(year_only, label=label, year=pl.col(key).dt.year()))
        )
        out.append(
            _Check(after, key, pl.col(key) > pl.lit(quarter_end),
                   _render(after, label=label, date=_fmt_day(key), quarter_end=quarter_end.strftime("%d/%m/%Y")))
        )
    return out


def _age_checks(cfg: dict) -> list[_Check]:
    min_age = int(cfg["min_working_age"])
    max_age = int(cfg["max_age_at_quarter_end"])
    min_year = int(cfg["min_birth_year"])
    birth = pl.col("ngay_sinh")
    rule = RULE_BY_ID["birth_year_implausible"]
    out = [
        _Check(
            rule, "ngay_sinh",
            (birth.dt.year() < min_year) | (pl.col("_age") > max_age) | (pl.col("_age") < min_age),
            _render(rule, label=_label("ngay_sinh"), date=_fmt_day("ngay_sinh"), age=pl.col("_age"),
                    min_age=min_age, max_age=max_age, min_year=min_year),
        )
    ]
    for rule_id, key in (
        ("recruited_under_18", "ngay_tuyen_dung"),
        ("sector_entry_under_18", "ngay_vao_nganh"),
        ("party_entry_under_18", "ngay_vao_dang"),
    ):
        rule = RULE_BY_ID[rule_id]
        age = _age(birth, _latest_day(key))
        label = _label(key)
        out.append(
            _Check(rule, key, age < min_age,
                   _render(rule, label=label, label_lc=label[0].lower() + label[1:], date=_fmt_day(key),
                           age=age, birth=_fmt_day("ngay_sinh"), min_age=min_age))
        )
    rule = RULE_BY_ID["past_retirement_age"]
    retirement = (
        pl.when(pl.col("gioi_tinh") == MALE).then(pl.lit(int(cfg["retirement_age_male"])))
        .when(pl.col("gioi_tinh") == FEMALE).then(pl.lit(int(cfg["retirement_age_female"])))
    )
    out.append(
        _Check(rule, "tinh_trang", (pl.col("tinh_trang") == ACTIVE_STATUS) & (pl.col("_age") >= retirement),
               _render(rule, age=pl.col("_age"), birth=_fmt_day("ngay_sinh"), sex=pl.col("gioi_tinh").str.to_lowercase(),
                       retirement_age=retirement, value=pl.col("tinh_trang")))
    )
    return out


def _cccd_check() -> _Check:
    rule = RULE_BY_ID["cccd_mismatch"]
    cccd = pl.col("so_cmnd")
    is_cccd = cccd.str.contains(r"^\d{12}$")
    d4 = cccd.str.slice(3, 1).cast(pl.Int32, strict=False)
    d56 = cccd.str.slice(4, 2)
    year = pl.col("ngay_sinh").dt.year()
    century = pl.when(year.is_between(1900, 1999)).then(pl.lit(0)).when(year.is_between(2000, 2099)).then(pl.lit(2))
    sex = pl.when(pl.col("gioi_tinh") == MALE).then(pl.lit(0)).when(pl.col("gioi_tinh") == FEMALE).then(pl.lit(1))
    # The 4th digit: century + sex when both are known; either of the century's two when the sex
    # is unknown; the parity (even male, odd female) when the birth date is unknown.
    d4_wrong = (
        pl.when(century.is_not_null() & sex.is_not_null()).then(d4 != century + sex)
        .when(century.is_not_null()).then((d4 != century) & (d4 != century + 1))
        .when(sex.is_not_null()).then(d4 % 2 != sex)
    )
    d4_expected = (
        pl.when(century.is_not_null() & sex.is_not_null()).then((century + sex).cast(pl.Utf8))
        .when(century.is_not_null()).then(pl.concat_str(century.cast(pl.Utf8), pl.lit(" hoặc "), (century + 1).cast(pl.Utf8)))
        .when(sex == 0).then(pl.lit("số chẵn"))
        .otherwise(pl.lit("số lẻ"))
    )
    yy = (year % 100).cast(pl.Utf8).str.zfill(2)
    yy_wrong = year.is_not_null() & (d56 != yy)
    detail = pl.concat_str(
        pl.when(d4_wrong).then(pl.concat_str(pl.lit("chữ số thứ 4 là "), d4.cast(pl.Utf8), pl.lit(", đúng ra là "), d4_expected)),
        pl.when(yy_wrong).then(pl.concat_str(pl.lit("chữ số thứ 5-6 là "), d56, pl.lit(", đúng ra là "), yy)),
        separator="; ",
        ignore_nulls=True,
    )
    profile = pl.concat_str(
        pl.when(sex.is_not_null()).then(pl.concat_str(pl.lit("giới tính "), pl.col("gioi_tinh"))),
        pl.when(year.is_not_null()).then(pl.concat_str(pl.lit("sinh năm "), year.cast(pl.Utf8))),
        separator=", ",
        ignore_nulls=True,
    )
    when = is_cccd & (d4_wrong.fill_null(False) | yy_wrong.fill_null(False))
    return _Check(rule, "so_cmnd", when, _render(rule, value=cccd, profile=profile, detail=detail))


def _salary_checks() -> list[_Check]:
    step = pl.col("bac_luong")
    steps = pl.col("_g_steps")
    low, high = VALUE_RANGES["bac_luong"]
    rule = RULE_BY_ID["step_out_of_range"]
    expected = (
        pl.when(pl.col("_g_known"))
        .then(pl.concat_str(pl.lit("ngạch "), pl.col("ma_ngach"), pl.lit(" (nhóm "), pl.col("_g_group"),
                            pl.lit(") chỉ có bậc 1 đến "), steps.cast(pl.Utf8)))
        .otherwise(pl.lit(f"bậc lương từ {low} đến {high}"))
    )
    # A known grade bounds the step by its group; an unknown or missing grade by the largest group.
    out = [
        _Check(rule, "bac_luong", (step < low) | (step > pl.when(pl.col("_g_known")).then(steps).otherwise(high)),
               _render(rule, label=_label("bac_luong"), value=step, expected=expected))
    ]
    rule = RULE_BY_ID["coefficient_mismatch"]
    right = pl.col("_g_step1") + pl.col("_g_size") * (step.cast(pl.Int64) - 1)
    given = _cents(pl.col("he_so_luong"))
    out.append(
        _Check(rule, "he_so_luong", pl.col("_g_known") & step.is_between(1, steps) & (given != right),
               _render(rule, label=_label("he_so_luong"), value=_fmt_cents(given), ma_ngach=pl.col("ma_ngach"),
                       step=step, expected=_fmt_cents(right)))
    )
    rule = RULE_BY_ID["qualification_below_grade"]
    out.append(
        _Check(rule, "trinh_do", pl.col("_td_rank") < pl.col("_g_min_rank"),
               _render(rule, label=_label("trinh_do"), value=pl.col("trinh_do"), ma_ngach=pl.col("ma_ngach"),
                       grade_name=pl.col("_g_name"), minimum=pl.col("_g_min")))
    )
    return out


def _unit_checks() -> list[_Check]:
    unknown, other = RULE_BY_ID["unit_unknown"], RULE_BY_ID["unit_other_reporting_unit"]
    unit = pl.col("ma_don_vi")
    return [
        _Check(unknown, "ma_don_vi", unit.is_not_null() & ~pl.col("_u_known"),
               _render(unknown, label=_label("ma_don_vi"), value=unit)),
        _Check(other, "ma_don_vi", pl.col("_u_known") & (pl.col("_u_owner") != pl.col("reporting_unit")),
               _render(other, value=unit, unit_name=pl.col("_u_name"), owner=pl.col("_u_owner"),
                       reporting_unit=pl.col("reporting_unit"))),
    ]


def _photo_check() -> _Check:
    rule = RULE_BY_ID["photo_missing"]
    return _Check(rule, "anh", ~_blank("anh") & ~pl.col("has_photo"),
                  _render(rule, label=_label("anh"), value=_raw("anh").str.strip_chars(), ma_cb=pl.col("ma_cb")))


def _checks(frame: pl.DataFrame, quarter_end: date, cfg: dict) -> list[_Check]:
    return [
        *_required_checks(),
        *_invalid_value_checks(),
        *_catalog_checks(frame),
        *_format_checks(),
        *_date_checks(quarter_end),
        *_age_checks(cfg),
        _cccd_check(),
        *_salary_checks(),
        *_unit_checks(),
        _photo_check(),
    ]


def empty_issues() -> pl.DataFrame:
    return pl.DataFrame(schema=ISSUE_SCHEMA)


def record_issues(staff: pl.DataFrame, quarter: str, units: pl.DataFrame, rules_config: dict) -> pl.DataFrame:
    """Issues of every per-record rule over one quarter's staff rows (columns :data:`ISSUE_SCHEMA`),
    ordered by submission, row, rule (registry order) and field (schema order)."""
    if staff.height == 0:
        return empty_issues()
    quarter_end = Quarter.parse_key(quarter).end
    frame = _prepare(staff, quarter_end, units)
    lazy = frame.lazy()
    parts = []
    for check in _checks(frame, quarter_end, rules_config):
        parts.append(
            lazy.filter(check.when.fill_null(False)).select(
                pl.lit(quarter).alias("quarter"),
                pl.col("submission_id").cast(pl.Utf8),
                pl.col("row_number").cast(pl.Int32),
                pl.col("ma_cb"),
                pl.col("reporting_unit"),
                pl.col("ma_don_vi"),
                pl.lit(check.field).alias("field"),
                pl.lit(check.rule.id).alias("rule"),
                pl.lit(check.rule.severity).alias("severity"),
                check.message.alias("message"),
                _raw(check.field).cast(pl.Utf8).alias("value"),
                pl.lit(_RULE_ORDER[check.rule.id]).alias("_rule_order"),
                pl.lit(_FIELD_ORDER[check.field]).alias("_field_order"),
            )
        )
    issues = pl.concat(parts).collect()
    return (
        issues.sort(["submission_id", "row_number", "_rule_order", "_field_order"], maintain_order=True)
        .drop("_rule_order", "_field_order")
        .cast(ISSUE_SCHEMA)  # type: ignore[arg-type]
    )


def qualification_standard(staff: pl.DataFrame, units: pl.DataFrame) -> pl.Series:
    """Teachers' qualification against the standard of their school level (domain.md):
    "Đạt chuẩn", "Trên chuẩn" or "Chưa đạt chuẩn"; None for non-teachers and where the
    level or the qualification is unknown.

    A teacher holds a teaching post (schema.TEACHING_POSTS) or a teacher grade
    (grades.csv is_teacher: principals on a 15.* grade count). The level is the
    unit's cap_hoc (catalog) when the table has it, else the grade's cap_hoc.
    """
    levels = {value_key(k): k for k in QUALIFICATION_STANDARD}
    unit_level = units.select(
        pl.col("ma_don_vi"),
        pl.col("cap_hoc")
        .map_elements(lambda v: levels.get(value_key(v)), return_dtype=pl.Utf8)  # a few catalog rows
        .alias("_u_level"),
    ).unique("ma_don_vi", keep="first")
    frame = (
        staff.select("ma_don_vi", "ma_ngach", "chuc_vu", "trinh_do")
        .join(_grade_table().select("ma_ngach", "_g_cap_hoc", "_g_teacher"), on="ma_ngach", how="left", maintain_order="left")
        .join(unit_level, on="ma_don_vi", how="left", maintain_order="left")
    )
    threshold = {level: QUALIFICATION_ORDER.index(q) for level, q in QUALIFICATION_STANDARD.items()}
    known = list(threshold)
    level = pl.coalesce(pl.col("_u_level"), pl.when(pl.col("_g_cap_hoc").is_in(known)).then(pl.col("_g_cap_hoc")))
    need = level.replace_strict(threshold, default=None, return_dtype=pl.Int32)
    rank = _qualification_rank(pl.col("trinh_do"))
    teacher = pl.col("chuc_vu").is_in(list(schema.TEACHING_POSTS)) | pl.col("_g_teacher").fill_null(False)
    result = (
        pl.when(~teacher | need.is_null() | rank.is_null()).then(pl.lit(None, pl.Utf8))
        .when(rank > need).then(pl.lit(STANDARD_ABOVE))
        .when(rank == need).then(pl.lit(STANDARD_MET))
        .otherwise(pl.lit(STANDARD_BELOW))
    )
    return frame.select(result.alias("qualification_standard")).to_series()

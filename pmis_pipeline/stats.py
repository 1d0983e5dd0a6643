"""Statistical reports (báo cáo thống kê) of a quarter: warehouse views and their reader.

The numbers live in DuckDB views, created with the rest of the DDL in the
build database and therefore copied into the analysts' published file; the
quarterly workbook (:mod:`pmis_pipeline.documents.statistics`) prints
exactly what the views return, so analysts and the printed report agree.

Views (see ``docs/warehouse.md`` for every column):

* reference data: ``value_lists`` (the catalogs of ``reference/catalogs.csv``)
  and ``grades`` (``reference/grades.csv`` with the salary groups), over the
  tables ``core.ref_catalogs`` / ``core.ref_grades``, rebuilt by the DDL from
  the package's reference files (so the published file carries them and an
  edited file applies from the next run);
* the person history of :mod:`pmis_pipeline.history` (``quarters``,
  ``person_quarters``, ``person_history``);
* ``stat_staff``: one row per ``staff`` row with its reporting dimensions
  (district, school level, labelled catalog values, age band, grade, ...);
* ``stat_by_unit``: staff per district, reporting unit and school level;
* ``stat_by_attribute``: staff per value of one attribute (sex, ethnic
  group, religion, qualification, political theory, party membership, age
  band, grade, salary group, ...), by sex; every attribute of a quarter
  sums to the quarter's ``staff`` rows;
* ``stat_qualification_standard``: teachers per school level and
  qualification standard;
* ``stat_quality_by_unit``: photo coverage, completeness and accuracy per
  reporting unit (every reporting unit of the quarter, submitted or not);
* ``stat_changes``: per reporting unit, persons of the previous quarter,
  joined, moved in, moved out, left (by the status last reported) and
  persons now; ``previous + joined + moved_in - moved_out - left = now``.

Only constants of this module and of the schema are formatted into SQL; the
quarter is always a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pmis_pipeline import history, schema
from pmis_pipeline.reference import catalogs, grades

#: Labels of values that are not a catalog value (Vietnamese: printed as such).
MISSING = "Chưa nhập"
INVALID = "Không đúng danh mục"
UNKNOWN = "Không xác định"
NONE_THEORY = "Chưa qua đào tạo / chưa nhập"

KINH = "Kinh"
MINORITY = "Dân tộc thiểu số"

#: Age bands at the quarter's last day: (label, lowest age, highest age).
AGE_BANDS: tuple[tuple[str, int | None, int | None], ...] = (
    ("Dưới 30", None, 29),
    ("30-39", 30, 39),
    ("40-49", 40, 49),
    ("50-54", 50, 54),
    ("Từ 55 trở lên", 55, None),
)

#: Management posts (cán bộ quản lý).
LEADER_POSTS: tuple[str, ...] = (
    "Hiệu trưởng", "Phó hiệu trưởng", "Giám đốc", "Phó giám đốc", "Trưởng phòng", "Phó trưởng phòng",
)
ROLE_GROUPS: tuple[str, ...] = ("Cán bộ quản lý", "Giáo viên", "Nhân viên")

#: Statuses of departure (tình trạng other than "Đang làm việc"), in catalog order.
DEPARTURE_STATUSES: tuple[str, ...] = ("Nghỉ hưu", "Chuyển công tác", "Thôi việc", "Từ trần")
DEPARTURE_KEYS: tuple[str, ...] = ("nghi_huu", "chuyen_cong_tac", "thoi_viec", "tu_tran")
WORKING = "Đang làm việc"

#: Attributes of ``stat_by_attribute``: (key, Vietnamese title, catalog or None).
ATTRIBUTES: tuple[tuple[str, str, str | None], ...] = (
    ("gioi_tinh", "Giới tính", "gioi_tinh"),
    ("nhom_dan_toc", "Dân tộc (nhóm)", None),
    ("dan_toc", "Dân tộc", "dan_toc"),
    ("ton_giao", "Tôn giáo", "ton_giao"),
    ("nhom_chuc_vu", "Nhóm chức vụ", None),
    ("chuc_vu", "Chức vụ", "chuc_vu"),
    ("hinh_thuc", "Hình thức tuyển dụng", "hinh_thuc"),
    ("trinh_do", "Trình độ chuyên môn", "trinh_do"),
    ("ly_luan_ct", "Lý luận chính trị", "ly_luan_ct"),
    ("dang_vien", "Đảng viên", "dang_vien"),
    ("tinh_trang", "Tình trạng", "tinh_trang"),
    ("nhom_tuoi", "Độ tuổi", None),
    ("ma_ngach", "Ngạch", None),
    ("nhom_luong", "Nhóm ngạch lương", None),
)
ATTRIBUTE_KEYS: tuple[str, ...] = tuple(a for a, _, _ in ATTRIBUTES)

#: Order of school levels in the tables; others follow alphabetically, unknown last.
LEVEL_ORDER: tuple[str, ...] = ("Phòng GD&ĐT", "Mầm non", "Tiểu học", "THCS", "THPT", "GDTX")


def _lit(text: str) -> str:
    """A constant of this module as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _in_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(_lit(v) for v in values) + ")"


def _values_sql(rows: list[tuple], types: tuple[str, ...]) -> str:
    """Reference rows as a typed ``VALUES`` list (constants of the package's reference
    files, quoted as SQL literals; no submitted data ever reaches this)."""
    def lit(value, sql_type: str) -> str:
        if value is None or value == "":
            return f"CAST(NULL AS {sql_type})"
        if sql_type == "VARCHAR":
            return _lit(str(value))
        return f"CAST({_lit(str(value))} AS {sql_type})"

    return ",\n    ".join("(" + ", ".join(lit(v, t) for v, t in zip(row, types)) + ")" for row in rows)


def reference_ddl() -> str:
    """Tables ``core.ref_catalogs`` and ``core.ref_grades``: the package's reference files
    (``catalogs.csv``, ``grades.csv`` with ``salary_groups.csv``) rebuilt from
    constant rows (cheaper to bind than a file read on every connection), so the
    published file carries them; and their public views ``value_lists`` and ``grades``."""
    cats = catalogs()
    cat_rows = [(*r, i) for i, r in enumerate(cats.select("catalog", "code", "value", "variants").iter_rows(), start=1)]
    g = grades()
    order = g.with_columns(pl.col("step1").cast(pl.Float64).alias("_s1")).sort(
        ["_s1", "ma_ngach"], descending=[True, False], nulls_last=True
    )
    grade_ord = {code: i for i, code in enumerate(order["ma_ngach"].to_list(), start=1)}
    group_ord = {grp: i for i, grp in enumerate(dict.fromkeys(order["salary_group"].to_list()), start=1)}
    grade_rows = [
        (r["ma_ngach"], r["ten_ngach"], r["salary_group"], r["min_trinh_do"], r["cap_hoc"], r["is_teacher"],
         r["verified"], r["steps"], r["step1"], r["step_size"], grade_ord[r["ma_ngach"]], group_ord[r["salary_group"]])
        for r in g.iter_rows(named=True)
    ]
    return f"""
CREATE SCHEMA IF NOT EXISTS core;
CREATE OR REPLACE TABLE core.ref_catalogs AS
SELECT * FROM (VALUES
    {_values_sql(cat_rows, ("VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "INTEGER"))}
) t(catalog, code, value, variants, ord);

CREATE OR REPLACE TABLE core.ref_grades AS
SELECT * FROM (VALUES
    {_values_sql(grade_rows, ("VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "BOOLEAN", "BOOLEAN", "INTEGER",
                              "DECIMAL(5, 2)", "DECIMAL(5, 2)", "INTEGER", "INTEGER"))}
) t(ma_ngach, ten_ngach, salary_group, min_trinh_do, cap_hoc, is_teacher, verified, steps, step1, step_size, ord,
    group_ord);

CREATE OR REPLACE VIEW value_lists AS
SELECT catalog, code, value, variants, ord FROM core.ref_catalogs;

CREATE OR REPLACE VIEW grades AS
SELECT ma_ngach, ten_ngach, salary_group, min_trinh_do, cap_hoc, is_teacher, verified, steps, step1, step_size
FROM core.ref_grades;
"""


def _label(col: str, catalog: str, missing: str = MISSING) -> str:
    return (
        f"CASE WHEN s.{col} IS NULL THEN {_lit(missing)} "
        f"WHEN s.{col} IN (SELECT value FROM core.ref_catalogs WHERE catalog = {_lit(catalog)}) THEN s.{col} "
        f"ELSE {_lit(INVALID)} END"
    )


def _age_band_sql(age: str) -> str:
    whens = []
    for label, low, high in AGE_BANDS:
        cond = " AND ".join(c for c in (f"{age} >= {low}" if low is not None else "", f"{age} <= {high}" if high is not None else "") if c)
        whens.append(f"WHEN {cond} THEN {_lit(label)}")
    return f"CASE WHEN {age} IS NULL THEN {_lit(UNKNOWN)} " + " ".join(whens) + " END"


def _sort_key_sql() -> str:
    """Order of a value within its attribute (catalog order, band order, grade
    group order); the labels of missing, invalid and unknown values last."""
    fixed = {
        "nhom_dan_toc": (KINH, MINORITY),
        "nhom_chuc_vu": ROLE_GROUPS,
        "nhom_tuoi": tuple(b for b, _, _ in AGE_BANDS),
    }
    cases = [
        f"WHEN a.attribute = {_lit(attr)} AND a.value = {_lit(v)} THEN {i}"
        for attr, values in fixed.items()
        for i, v in enumerate(values, start=1)
    ]
    return f"""CASE
        WHEN a.value = {_lit(UNKNOWN)} THEN 900
        WHEN a.value = {_lit(INVALID)} THEN 901
        WHEN a.value IN ({_lit(MISSING)}, {_lit(NONE_THEORY)}) THEN 902
        {" ".join(cases)}
        WHEN a.attribute = 'ma_ngach' THEN (SELECT min(g.ord) FROM core.ref_grades g WHERE g.ma_ngach = a.value)
        WHEN a.attribute = 'nhom_luong' THEN (SELECT min(g.group_ord) FROM core.ref_grades g WHERE g.salary_group = a.value)
        ELSE (SELECT min(c.ord) FROM core.ref_catalogs c WHERE c.catalog = a.attribute AND c.value = a.value)
    END"""


def _attribute_list_sql() -> str:
    return "[" + ", ".join(f"{{'attribute': {_lit(a)}, 'value': {a}}}" for a in ATTRIBUTE_KEYS) + "]"


def stats_views_ddl() -> str:
    """The ``stat_*`` views (need the reference tables and the history views)."""
    teaching = _in_list(schema.TEACHING_POSTS)
    leaders = _in_list(LEADER_POSTS)
    left_here = "e.event = 'left' AND e.reporting_unit = ru.reporting_unit"
    departures = ",\n           ".join(
        f"count(*) FILTER (WHERE {left_here} AND e.tinh_trang = {_lit(st)}) AS n_left_{key}"
        for st, key in zip(DEPARTURE_STATUSES, DEPARTURE_KEYS)
    )
    return f"""
CREATE OR REPLACE VIEW stat_staff AS
WITH base AS (
    SELECT s.*, q.quarter_end,
           g.ma_ngach IS NOT NULL AS grade_known, g.ten_ngach, g.salary_group, g.is_teacher AS grade_is_teacher,
           u.ma_don_vi IS NOT NULL AS unit_known, u.ten_don_vi, u.huyen AS unit_huyen, u.cap_hoc AS unit_cap_hoc,
           ru.ten_don_vi AS reporting_unit_name, ru.loai, ru.huyen AS reporting_unit_huyen
    FROM staff s
    LEFT JOIN quarters q ON q.quarter = s.quarter
    LEFT JOIN core.ref_grades g ON g.ma_ngach = s.ma_ngach
    LEFT JOIN units u ON u.ma_don_vi = s.ma_don_vi
    LEFT JOIN units ru ON ru.ma_don_vi = s.reporting_unit
)
SELECT s.quarter, s.ma_cb, s.ho_ten, s.reporting_unit, s.reporting_unit_name, s.loai, s.reporting_unit_huyen,
       s.ma_don_vi, s.ten_don_vi,
       coalesce(s.unit_huyen, s.reporting_unit_huyen) AS huyen,
       CASE WHEN s.unit_known THEN coalesce(s.unit_cap_hoc, {_lit(UNKNOWN)}) ELSE {_lit(UNKNOWN)} END AS cap_hoc,
       {_label("gioi_tinh", "gioi_tinh")} AS gioi_tinh,
       {_label("dan_toc", "dan_toc")} AS dan_toc,
       CASE WHEN s.dan_toc = {_lit(KINH)} THEN {_lit(KINH)}
            WHEN s.dan_toc IN (SELECT value FROM core.ref_catalogs WHERE catalog = 'dan_toc') THEN {_lit(MINORITY)}
            ELSE {_lit(UNKNOWN)} END AS nhom_dan_toc,
       {_label("ton_giao", "ton_giao")} AS ton_giao,
       {_label("chuc_vu", "chuc_vu")} AS chuc_vu,
       coalesce(s.chuc_vu IN {teaching}, FALSE) OR coalesce(s.grade_is_teacher, FALSE) AS is_teacher,
       CASE WHEN s.chuc_vu IN {leaders} THEN {_lit(ROLE_GROUPS[0])}
            WHEN coalesce(s.chuc_vu IN {teaching}, FALSE) OR coalesce(s.grade_is_teacher, FALSE) THEN {_lit(ROLE_GROUPS[1])}
            ELSE {_lit(ROLE_GROUPS[2])} END AS nhom_chuc_vu,
       {_label("hinh_thuc", "hinh_thuc")} AS hinh_thuc,
       {_label("trinh_do", "trinh_do")} AS trinh_do,
       s.qualification_standard,
       {_label("ly_luan_ct", "ly_luan_ct", NONE_THEORY)} AS ly_luan_ct,
       {_label("dang_vien", "dang_vien")} AS dang_vien,
       coalesce(s.dang_vien = {_lit(schema.PARTY_MEMBER)}, FALSE) AS is_party_member,
       {_label("tinh_trang", "tinh_trang")} AS tinh_trang,
       s.ngay_sinh,
       CASE WHEN s.ngay_sinh <= s.quarter_end THEN date_sub('year', s.ngay_sinh, s.quarter_end) END AS age,
       {_age_band_sql("CASE WHEN s.ngay_sinh <= s.quarter_end THEN date_sub('year', s.ngay_sinh, s.quarter_end) END")} AS nhom_tuoi,
       CASE WHEN s.ma_ngach IS NULL THEN {_lit(MISSING)} WHEN s.grade_known THEN s.ma_ngach ELSE {_lit(INVALID)} END AS ma_ngach,
       s.ten_ngach,
       coalesce(s.salary_group, {_lit(UNKNOWN)}) AS nhom_luong,
       s.bac_luong, s.he_so_luong,
       s.has_photo, s.is_complete, s.is_valid
FROM base s;

CREATE OR REPLACE VIEW stat_by_unit AS
SELECT quarter, reporting_unit_huyen AS huyen, reporting_unit, reporting_unit_name, loai, cap_hoc,
       count(*) AS n_staff,
       count(*) FILTER (WHERE gioi_tinh = 'Nữ') AS n_female,
       count(*) FILTER (WHERE nhom_chuc_vu = {_lit(ROLE_GROUPS[0])}) AS n_managers,
       count(*) FILTER (WHERE nhom_chuc_vu = {_lit(ROLE_GROUPS[1])}) AS n_teachers,
       count(*) FILTER (WHERE nhom_chuc_vu = {_lit(ROLE_GROUPS[2])}) AS n_support,
       count(*) FILTER (WHERE is_party_member) AS n_party
FROM stat_staff
GROUP BY ALL;

CREATE OR REPLACE VIEW stat_by_attribute AS
WITH long AS (
    SELECT quarter, gioi_tinh AS sex, is_party_member, unnest({_attribute_list_sql()}, recursive := true)
    FROM stat_staff
), a AS (
    SELECT quarter, attribute, value,
           count(*) AS n_staff,
           count(*) FILTER (WHERE sex = 'Nam') AS n_male,
           count(*) FILTER (WHERE sex = 'Nữ') AS n_female,
           count(*) FILTER (WHERE is_party_member) AS n_party
    FROM long GROUP BY ALL
)
SELECT a.quarter, a.attribute, a.value,
       CASE WHEN a.attribute = 'ma_ngach' THEN coalesce(a.value || ' - ' || (
                SELECT min(g.ten_ngach) FROM core.ref_grades g WHERE g.ma_ngach = a.value), a.value)
            ELSE a.value END AS label,
       CAST({_sort_key_sql()} AS INTEGER) AS sort_key,
       a.n_staff, a.n_male, a.n_female, a.n_party
FROM a;

CREATE OR REPLACE VIEW stat_qualification_standard AS
SELECT quarter, cap_hoc, coalesce(qualification_standard, {_lit(UNKNOWN)}) AS qualification_standard,
       count(*) AS n_teachers,
       count(*) FILTER (WHERE gioi_tinh = 'Nữ') AS n_female
FROM stat_staff
WHERE is_teacher
GROUP BY ALL;

CREATE OR REPLACE VIEW stat_quality_by_unit AS
WITH a AS (
    SELECT quarter, reporting_unit,
           count(*) AS n_staff,
           count(*) FILTER (WHERE has_photo) AS n_with_photo,
           count(*) FILTER (WHERE is_complete) AS n_complete,
           count(*) FILTER (WHERE is_valid) AS n_valid
    FROM staff GROUP BY ALL
)
SELECT c.quarter, c.reporting_unit, coalesce(c.ten_don_vi, u.ten_don_vi) AS ten_don_vi, c.loai, u.huyen,
       c.submitted,
       coalesce(a.n_staff, 0) AS n_staff,
       coalesce(a.n_with_photo, 0) AS n_with_photo, c.photo_pct,
       coalesce(a.n_complete, 0) AS n_complete, c.completeness_pct,
       coalesce(a.n_valid, 0) AS n_valid, c.accuracy_pct
FROM unit_compliance c
LEFT JOIN a USING (quarter, reporting_unit)
LEFT JOIN units u ON u.ma_don_vi = c.reporting_unit;

CREATE OR REPLACE VIEW stat_changes AS
WITH q AS (
    SELECT quarter, previous_quarter FROM quarters WHERE previous_loaded
), ru AS (
    SELECT q.quarter, q.previous_quarter, c.reporting_unit
    FROM q JOIN unit_compliance c USING (quarter)
), before AS (
    SELECT q.quarter, p.reporting_unit, count(*) AS n
    FROM q JOIN person_quarters p ON p.quarter = q.previous_quarter GROUP BY ALL
), now AS (
    SELECT quarter, reporting_unit, count(*) AS n FROM person_quarters GROUP BY ALL
), e AS (
    SELECT h.* FROM person_history h JOIN q USING (quarter)
    WHERE h.event IN ('joined', 'left')
       OR (h.event = 'moved' AND h.previous_quarter = q.previous_quarter)
), per_unit AS (
    SELECT ru.quarter, ru.reporting_unit,
           count(*) FILTER (WHERE e.event = 'joined' AND e.reporting_unit = ru.reporting_unit) AS n_joined,
           count(*) FILTER (WHERE e.event = 'moved' AND e.reporting_unit = ru.reporting_unit
                            AND e.from_reporting_unit <> ru.reporting_unit) AS n_moved_in,
           count(*) FILTER (WHERE e.event = 'moved' AND e.from_reporting_unit = ru.reporting_unit
                            AND e.reporting_unit <> ru.reporting_unit) AS n_moved_out,
           count(*) FILTER (WHERE e.event = 'moved' AND e.from_reporting_unit = ru.reporting_unit
                            AND e.reporting_unit = ru.reporting_unit) AS n_moved_within,
           count(*) FILTER (WHERE {left_here}) AS n_left,
           {departures},
           count(*) FILTER (WHERE {left_here}
                            AND coalesce(e.tinh_trang, '') NOT IN {_in_list(DEPARTURE_STATUSES)}) AS n_left_unannounced
    FROM ru LEFT JOIN e ON e.quarter = ru.quarter
                       AND (e.reporting_unit = ru.reporting_unit OR e.from_reporting_unit = ru.reporting_unit)
    GROUP BY ALL
)
SELECT ru.quarter, ru.previous_quarter, ru.reporting_unit, un.ten_don_vi, un.loai, un.huyen,
       coalesce(b.n, 0) AS n_previous,
       p.n_joined, p.n_moved_in, p.n_moved_out, p.n_moved_within, p.n_left,
       p.n_left_nghi_huu, p.n_left_chuyen_cong_tac, p.n_left_thoi_viec, p.n_left_tu_tran, p.n_left_unannounced,
       coalesce(n.n, 0) AS n_now
FROM ru
JOIN per_unit p USING (quarter, reporting_unit)
LEFT JOIN before b USING (quarter, reporting_unit)
LEFT JOIN now n USING (quarter, reporting_unit)
LEFT JOIN units un ON un.ma_don_vi = ru.reporting_unit;
"""


def views_ddl() -> str:
    """Everything this issue adds to the warehouse: reference tables, the person
    history and the statistics views (idempotent; append after the contract's views)."""
    return reference_ddl() + history.views_ddl() + stats_views_ddl()


# --------------------------------------------------------------------------
# Reading a quarter's statistics (what the workbook prints)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class QuarterStatistics:
    """A quarter's statistics, read from the views (one frame per view, the quarter's rows)."""

    quarter: str
    quarter_end: date
    previous_quarter: str | None  # None when the previous quarter is not loaded
    n_staff: int  # staff rows of the quarter
    n_persons: int  # distinct staff codes (persons followed by the history)
    by_unit: pl.DataFrame  # stat_by_unit
    attributes: pl.DataFrame  # stat_by_attribute
    standards: pl.DataFrame  # stat_qualification_standard
    quality: pl.DataFrame  # stat_quality_by_unit
    changes: pl.DataFrame  # stat_changes (empty without a loaded previous quarter)
    movers: pl.DataFrame  # person_history moves between reporting units, joins and departures

    def attribute(self, key: str) -> pl.DataFrame:
        """The rows of one attribute of ``stat_by_attribute``, in print order."""
        return self.attributes.filter(pl.col("attribute") == key).sort("sort_key", "value")


def _frame(con: duckdb.DuckDBPyConnection, sql: str, quarter: str) -> pl.DataFrame:
    con.complete()  # finish any result left open on this connection
    return con.sql(sql, params={"q": quarter}).pl()


def quarter_statistics(con: duckdb.DuckDBPyConnection, quarter: str) -> QuarterStatistics:
    """Read ``quarter``'s statistics from the warehouse views (build or published database)."""
    con.complete()
    row = con.execute(
        "SELECT quarter_end, CASE WHEN previous_loaded THEN previous_quarter END FROM quarters WHERE quarter = ?",
        [quarter],
    ).fetchone()
    if row is None:
        raise ValueError(f"quarter {quarter} is not loaded in the warehouse")
    quarter_end, previous = row
    n_staff, n_persons = con.execute(
        "SELECT count(*), count(DISTINCT ma_cb) FROM staff WHERE quarter = ?", [quarter]
    ).fetchone()
    return QuarterStatistics(
        quarter=quarter,
        quarter_end=quarter_end,
        previous_quarter=previous,
        n_staff=n_staff,
        n_persons=n_persons,
        by_unit=_frame(con, "SELECT * FROM stat_by_unit WHERE quarter = $q ORDER BY huyen, reporting_unit, cap_hoc", quarter),
        attributes=_frame(con, "SELECT * FROM stat_by_attribute WHERE quarter = $q ORDER BY attribute, sort_key, value", quarter),
        standards=_frame(con, "SELECT * FROM stat_qualification_standard WHERE quarter = $q", quarter),
        quality=_frame(con, "SELECT * FROM stat_quality_by_unit WHERE quarter = $q ORDER BY loai, reporting_unit", quarter),
        changes=_frame(con, "SELECT * FROM stat_changes WHERE quarter = $q ORDER BY loai, reporting_unit", quarter),
        movers=_frame(
            con,
            """
            SELECT event, ma_cb, ho_ten, from_reporting_unit, from_ma_don_vi, from_huyen,
                   reporting_unit, ma_don_vi, huyen, tinh_trang, previous_quarter
            FROM person_history
            WHERE quarter = $q AND event = 'moved' AND from_reporting_unit <> reporting_unit
            ORDER BY from_reporting_unit, reporting_unit, ma_cb
            """,
            quarter,
        ),
    )


def write_quarter_statistics(con: duckdb.DuckDBPyConnection, quarter: str, reports_dir: Path) -> Path:
    """Write ``<reports_dir>/<quarter>/thong-ke-<quarter>.xlsx`` from the views; returns its path."""
    from pmis_pipeline.documents.statistics import write_statistics

    out = Path(reports_dir) / quarter / f"thong-ke-{quarter}.xlsx"
    return write_statistics(out, quarter_statistics(con, quarter))


def reconciliation_problems(stats: QuarterStatistics) -> list[str]:
    """What does not add up in a quarter's statistics (empty: every table reconciles
    with ``staff``); for an asset check on the statistical report."""
    problems = []
    n = stats.n_staff
    if int(stats.by_unit["n_staff"].sum() or 0) != n:
        problems.append(f"stat_by_unit: {stats.by_unit['n_staff'].sum()} staff, staff has {n}")
    roles = stats.by_unit.select(pl.sum_horizontal("n_managers", "n_teachers", "n_support").sum()).item() if stats.by_unit.height else 0
    if int(roles or 0) != n:
        problems.append(f"stat_by_unit: managers + teachers + support = {roles}, staff has {n}")
    for key in ATTRIBUTE_KEYS:
        total = int(stats.attribute(key)["n_staff"].sum() or 0)
        if total != n:
            problems.append(f"stat_by_attribute {key}: {total}, staff has {n}")
    if int(stats.quality["n_staff"].sum() or 0) != n:
        problems.append(f"stat_quality_by_unit: {stats.quality['n_staff'].sum()} staff, staff has {n}")
    c = stats.changes
    if c.height:
        balance = c["n_previous"] + c["n_joined"] + c["n_moved_in"] - c["n_moved_out"] - c["n_left"]
        for unit in c.filter(balance != c["n_now"])["reporting_unit"].to_list():
            problems.append(f"stat_changes {unit}: previous + joined + moved in - moved out - left != now")
        if int(c["n_now"].sum()) != stats.n_persons:
            problems.append(f"stat_changes: {c['n_now'].sum()} persons now, staff has {stats.n_persons}")
    return problems

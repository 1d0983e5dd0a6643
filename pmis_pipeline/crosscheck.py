"""Rules across records, set-based in DuckDB SQL (plus polars where Vietnamese
text must be compared by its matching key).

* ``duplicate_ma_cb``: a staff code twice in one reporting unit's resolved
  data (error on every copy);
* ``duplicate_across_units``: the same staff code sent by two reporting units:
  an error on every copy, except the unit that alone carried the person last
  quarter, which gets a warning (a unit that copies another's staff codes
  cannot cost that unit its accuracy);
* lost records: a person working in a unit last quarter who appears nowhere
  in the province now (``core.lost_records``);
* ``identity_drift``: name, birth date, sex or identity number differ from
  the previous quarter (a warning with old and new values);
* catalog proposals: schools declared in ``DonVi`` or used in records but
  absent from the catalog, and catalog names that disagree with what units
  send.
"""

from __future__ import annotations

import re

import duckdb
import polars as pl

from pmis_pipeline.quarters import Quarter
from pmis_pipeline.reference import grades
from pmis_pipeline.textnorm import value_key
from pmis_pipeline.warehouse import fetch_frame

_ISSUE_COLS = (
    "quarter, submission_id, row_number, ma_cb, reporting_unit, ma_don_vi, field, rule, severity, message, value"
)


def duplicate_issues(con: duckdb.DuckDBPyConnection, quarter: str) -> pl.DataFrame:
    """Both duplicate rules for a quarter's resolved staff.

    Set-based with GROUP BY (the codes sent twice, the codes sent by two units
    and their units), then joined back to the rows: a window of distinct
    lists over every row of a national quarter takes more memory than the
    machine has."""
    previous = Quarter.parse_key(quarter).previous().key
    return fetch_frame(
        con,
        f"""
        WITH s AS (
            SELECT quarter, submission_id, row_number, ma_cb, reporting_unit, ma_don_vi, raw.ma_cb AS raw_ma_cb
            FROM core.staff_rows WHERE quarter = $q AND ma_cb IS NOT NULL
        ),
        prev AS (SELECT DISTINCT reporting_unit, ma_cb FROM core.staff_rows WHERE quarter = $p AND ma_cb IS NOT NULL),
        within AS (
            SELECT reporting_unit, ma_cb, count(*) AS n FROM s GROUP BY reporting_unit, ma_cb HAVING count(*) > 1
        ),
        pairs AS (  -- each (staff code, reporting unit that sent it)
            SELECT DISTINCT s.ma_cb, s.reporting_unit FROM s
        ),
        shared AS (SELECT ma_cb FROM pairs GROUP BY ma_cb HAVING count(*) > 1),
        unit_flags AS (
            SELECT p.ma_cb, p.reporting_unit, prev.ma_cb IS NOT NULL AS carried
            FROM pairs p JOIN shared USING (ma_cb) LEFT JOIN prev USING (reporting_unit, ma_cb)
        ),
        across AS (
            SELECT ma_cb, count(*) AS n_units, count(*) FILTER (WHERE carried) AS n_carried,
                   array_to_string(list_sort(list(reporting_unit)), ', ') AS units,
                   array_to_string(list_sort(list(reporting_unit) FILTER (WHERE carried)), ', ') AS owners
            FROM unit_flags GROUP BY ma_cb
        ),
        across_rows AS (
            SELECT s.*, f.carried, a.n_units, a.n_carried, a.units, a.owners
            FROM s JOIN across a USING (ma_cb) JOIN unit_flags f USING (ma_cb, reporting_unit)
        )
        SELECT {_ISSUE_COLS} FROM (
            SELECT quarter, submission_id, row_number, ma_cb, reporting_unit, ma_don_vi,
                   'ma_cb' AS field, 'duplicate_ma_cb' AS rule, 'error' AS severity,
                   'Mã cán bộ ' || ma_cb || ' xuất hiện ' || n || ' lần trong dữ liệu của đơn vị; mỗi người chỉ một dòng'
                       AS message,
                   raw_ma_cb AS value
            FROM s JOIN within USING (reporting_unit, ma_cb)
            UNION ALL
            SELECT quarter, submission_id, row_number, ma_cb, reporting_unit, ma_don_vi,
                   'ma_cb', 'duplicate_across_units',
                   CASE WHEN carried AND n_carried = 1 THEN 'warning' ELSE 'error' END,
                   CASE
                       WHEN carried AND n_carried = 1 THEN
                           'Mã cán bộ ' || ma_cb || ' của đơn vị cũng được đơn vị khác gửi quý này (' || units
                           || '); nếu người này đã chuyển đi, ghi Tình trạng "Chuyển công tác" hoặc bỏ khỏi danh sách'
                       WHEN n_carried = 1 THEN
                           'Mã cán bộ ' || ma_cb || ' thuộc đơn vị ' || owners || ' từ quý trước và đơn vị đó vẫn gửi; '
                           || 'nếu người này mới chuyển đến, đề nghị đơn vị ' || owners || ' cập nhật; nếu nhập nhầm mã, sửa lại'
                       ELSE
                           'Mã cán bộ ' || ma_cb || ' được ' || n_units || ' đơn vị báo cáo cùng gửi (' || units
                           || '); người này chỉ thuộc một đơn vị'
                   END,
                   raw_ma_cb
            FROM across_rows
        )
        ORDER BY reporting_unit, ma_cb, row_number
        """,
        {"q": quarter, "p": previous},
    )


def lost_records(con: duckdb.DuckDBPyConnection, quarter: str) -> pl.DataFrame:
    """Persons "Đang làm việc" in a unit's resolved data last quarter who appear
    nowhere in the province now. Empty in the first quarter and for units that
    did not submit in this quarter or the previous one."""
    previous = Quarter.parse_key(quarter).previous().key
    return fetch_frame(
        con,
        """
        WITH submitted AS (
            SELECT quarter, reporting_unit FROM core.submission_files
            WHERE readable AND quarter IN ($q, $p) GROUP BY ALL
        )
        SELECT $q AS quarter, prev.reporting_unit, prev.ma_cb, any_value(prev.ho_ten) AS ho_ten,
               any_value(prev.ma_don_vi) AS ma_don_vi, $p AS last_quarter
        FROM core.staff_rows prev
        WHERE prev.quarter = $p AND prev.tinh_trang = 'Đang làm việc' AND prev.ma_cb IS NOT NULL
          AND EXISTS (SELECT 1 FROM submitted s WHERE s.quarter = $q AND s.reporting_unit = prev.reporting_unit)
          AND EXISTS (SELECT 1 FROM submitted s WHERE s.quarter = $p AND s.reporting_unit = prev.reporting_unit)
          AND NOT EXISTS (SELECT 1 FROM core.staff_rows cur WHERE cur.quarter = $q AND cur.ma_cb = prev.ma_cb)
        GROUP BY prev.reporting_unit, prev.ma_cb
        ORDER BY prev.reporting_unit, prev.ma_cb
        """,
        {"q": quarter, "p": previous},
    )


_DRIFT_FIELDS = {
    "ho_ten": "Họ và tên",
    "ngay_sinh": "Ngày sinh",
    "gioi_tinh": "Giới tính",
    "so_cmnd": "Số CMND",
}


def identity_drift(con: duckdb.DuckDBPyConnection, quarter: str) -> pl.DataFrame:
    """A warning per field whose value changed since the previous quarter.

    Names compare by their matching key (case, spacing and tone placement do
    not count: ``Hoà`` = ``Hòa``); dates, sex and identity numbers exactly.
    Only values present in both quarters are compared."""
    previous = Quarter.parse_key(quarter).previous().key
    pairs = fetch_frame(
        con,
        """
        WITH prev AS (
            SELECT ma_cb, any_value(ho_ten) AS ho_ten, any_value(ngay_sinh) AS ngay_sinh,
                   any_value(gioi_tinh) AS gioi_tinh, any_value(so_cmnd) AS so_cmnd
            FROM core.staff_rows WHERE quarter = $p AND ma_cb IS NOT NULL GROUP BY ma_cb
            HAVING count(*) = 1
        )
        SELECT c.quarter, c.submission_id, c.row_number, c.ma_cb, c.reporting_unit, c.ma_don_vi,
               c.ho_ten, c.ngay_sinh, c.gioi_tinh, c.so_cmnd,
               p.ho_ten AS old_ho_ten, p.ngay_sinh AS old_ngay_sinh, p.gioi_tinh AS old_gioi_tinh,
               p.so_cmnd AS old_so_cmnd
        FROM core.staff_rows c JOIN prev p USING (ma_cb)
        WHERE c.quarter = $q
        """,
        {"q": quarter, "p": previous},
    )
    if pairs.height == 0:
        return pl.DataFrame(schema=issue_schema())
    names = pl.concat([pairs["ho_ten"], pairs["old_ho_ten"]]).drop_nulls().unique()
    keys = {n: value_key(n) for n in names.to_list()}
    pairs = pairs.with_columns(
        pl.col("ho_ten").replace_strict(keys, default=None).alias("key_new"),
        pl.col("old_ho_ten").replace_strict(keys, default=None).alias("key_old"),
    )
    frames = []
    for field, header in _DRIFT_FIELDS.items():
        if field == "ho_ten":
            changed = pl.col("key_new") != pl.col("key_old")
        else:
            changed = pl.col(field) != pl.col(f"old_{field}")
        old = pl.col(f"old_{field}").cast(pl.Utf8)
        new = pl.col(field).cast(pl.Utf8)
        if field == "ngay_sinh":
            old = pl.col(f"old_{field}").dt.strftime("%d/%m/%Y")
            new = pl.col(field).dt.strftime("%d/%m/%Y")
        frames.append(
            pairs.filter(changed.fill_null(False)).select(
                "quarter", "submission_id", "row_number", "ma_cb", "reporting_unit", "ma_don_vi",
                pl.lit(field).alias("field"),
                pl.lit("identity_drift").alias("rule"),
                pl.lit("warning").alias("severity"),
                pl.concat_str(
                    pl.lit(f"{header} khác quý {previous}: trước '"), old, pl.lit("', nay '"), new,
                    pl.lit("' — sửa lỗi gõ hay nhầm hai người? Đề nghị kiểm tra"),
                ).alias("message"),
                new.alias("value"),
            )
        )
    return pl.concat(frames).cast(issue_schema())


def issue_schema() -> dict[str, pl.DataType]:
    schema: dict[str, pl.DataType] = {c.strip(): pl.Utf8 for c in _ISSUE_COLS.split(",")}
    schema["row_number"] = pl.Int32
    return schema


def catalog_proposals(con: duckdb.DuckDBPyConnection, quarter: str) -> pl.DataFrame:
    """Schools to add to, or names to review in, the catalog (nothing is changed).

    Names compare by their matching key, so ``Hoà`` and ``Hòa`` are no proposal."""
    frame = fetch_frame(
        con,
        """
        WITH declared AS (
            SELECT d.reporting_unit, d.ma_don_vi, any_value(d.ten_don_vi) AS ten_don_vi,
                   any_value(d.cap_hoc) AS cap_hoc, count(*) AS n
            FROM core.declared_units d
            JOIN core.submission_status st USING (quarter, submission_id)
            WHERE d.quarter = $q AND st.status <> 'rejected'
            GROUP BY ALL
        ), earlier AS (
            -- what a unit declared for the school in this or an earlier quarter (latest first)
            SELECT d.ma_don_vi, arg_max(d.ten_don_vi, d.quarter) AS ten_don_vi,
                   arg_max(d.cap_hoc, d.quarter) FILTER (WHERE d.cap_hoc IS NOT NULL) AS cap_hoc
            FROM core.declared_units d
            JOIN core.submission_status st USING (quarter, submission_id)
            WHERE d.quarter <= $q AND st.status <> 'rejected' AND d.ten_don_vi IS NOT NULL
            GROUP BY d.ma_don_vi
        ), used AS (
            SELECT reporting_unit, ma_don_vi, count(*) AS n_records
            FROM core.staff_rows WHERE quarter = $q AND ma_don_vi IS NOT NULL GROUP BY ALL
        )
        SELECT $q AS quarter, 'add_unit' AS proposal, d.reporting_unit, d.ma_don_vi,
               d.ten_don_vi AS name_sent, NULL AS name_in_catalog, d.cap_hoc,
               coalesce(u.n_records, 0) AS n_records,
               'Đơn vị khai trong sheet DonVi chưa có trong danh mục' AS reason
        FROM declared d
        LEFT JOIN core.units c ON c.ma_don_vi = d.ma_don_vi
        LEFT JOIN used u ON u.reporting_unit = d.reporting_unit AND u.ma_don_vi = d.ma_don_vi
        WHERE c.ma_don_vi IS NULL
        UNION ALL
        SELECT $q, 'add_unit', u.reporting_unit, u.ma_don_vi, e.ten_don_vi, NULL, e.cap_hoc, u.n_records,
               'Mã đơn vị dùng trong hồ sơ nhưng chưa có trong danh mục'
        FROM used u
        LEFT JOIN earlier e ON e.ma_don_vi = u.ma_don_vi
        LEFT JOIN core.units c ON c.ma_don_vi = u.ma_don_vi
        LEFT JOIN declared d ON d.reporting_unit = u.reporting_unit AND d.ma_don_vi = u.ma_don_vi
        WHERE c.ma_don_vi IS NULL AND d.ma_don_vi IS NULL
        UNION ALL
        SELECT $q, 'review_name', d.reporting_unit, d.ma_don_vi, d.ten_don_vi, c.ten_don_vi, d.cap_hoc,
               coalesce(u.n_records, 0),
               'Tên đơn vị gửi lên khác tên trong danh mục'
        FROM declared d
        JOIN core.units c ON c.ma_don_vi = d.ma_don_vi
        LEFT JOIN used u ON u.reporting_unit = d.reporting_unit AND u.ma_don_vi = d.ma_don_vi
        WHERE lower(nfc_normalize(trim(d.ten_don_vi))) <> lower(nfc_normalize(trim(c.ten_don_vi)))
        ORDER BY 3, 4
        """,
        {"q": quarter},
    )
    same_name = pl.col("name_sent").map_elements(value_key, return_dtype=pl.Utf8) == pl.col(
        "name_in_catalog"
    ).map_elements(value_key, return_dtype=pl.Utf8)
    frame = frame.filter(~((pl.col("proposal") == "review_name") & same_name.fill_null(False)))
    return _fill_cap_hoc(con, quarter, frame)


def _code_pattern(code: str) -> str:
    """``PGD02-MN999`` -> ``PGD-MN``: a catalog code without its numbers."""
    return re.sub(r"\d+", "", code or "")


def _fill_cap_hoc(con: duckdb.DuckDBPyConnection, quarter: str, proposals: pl.DataFrame) -> pl.DataFrame:
    """``cap_hoc`` where no unit declared it: the level every catalog school
    with the same code pattern has (``PGD02-MN999`` like ``PGD02-MN001``:
    Mầm non), else the school level of the teachers' grades in its records
    (grades.csv ``cap_hoc``, the most frequent)."""
    missing = proposals.filter(pl.col("cap_hoc").is_null())
    if missing.height == 0:
        return proposals
    grade_level = {g: c for g, c in grades().select("ma_ngach", "cap_hoc").iter_rows() if c}
    staff = fetch_frame(
        con,
        "SELECT reporting_unit, ma_don_vi, ma_ngach FROM core.staff_rows WHERE quarter = $q AND ma_ngach IS NOT NULL",
        {"q": quarter},
    )
    by_grade: dict[tuple[str, str], str] = {}
    levels = staff.with_columns(pl.col("ma_ngach").replace_strict(grade_level, default=None).alias("lvl")).drop_nulls("lvl")
    for (unit, school), group in levels.group_by("reporting_unit", "ma_don_vi"):
        counts = group["lvl"].value_counts(sort=True)
        by_grade[(unit, school)] = counts["lvl"][0]
    catalog = fetch_frame(con, "SELECT ma_don_vi, cap_hoc FROM core.units WHERE cap_hoc IS NOT NULL")
    by_pattern: dict[str, set[str]] = {}
    for code, level in catalog.iter_rows():
        by_pattern.setdefault(_code_pattern(code), set()).add(level)
    filled = []
    for rec in proposals.iter_rows(named=True):
        if rec["cap_hoc"] is None:
            same = by_pattern.get(_code_pattern(rec["ma_don_vi"]), set())
            level = next(iter(same)) if len(same) == 1 else by_grade.get((rec["reporting_unit"], rec["ma_don_vi"]))
            rec["cap_hoc"] = level
        filled.append(rec)
    return pl.DataFrame(filled, schema=proposals.schema)

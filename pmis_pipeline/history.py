"""Person history: each person followed across the loaded quarters (DuckDB views).

Views (created in the build database with the rest of the DDL, so they are
copied into the analysts' published file):

* ``quarters``: one row per loaded quarter, with its last day and its
  neighbours (is the previous / next quarter loaded too?).
* ``person_quarters``: one row per person (``ma_cb``) and quarter: the
  person's record of the quarter. A person sent twice in a quarter (a
  ``duplicate_ma_cb`` or ``duplicate_across_units`` error) is counted once,
  from the first copy by (reporting unit, school, file, row); ``n_copies``
  says how many rows ``staff`` holds. Rows without a staff code cannot be
  followed and are left out.
* ``person_history``: one row per event of a person in a quarter:

  - ``first_seen``: the person's first quarter in the warehouse, the
    quarter before it not being loaded (the start of the data, not a hire);
  - ``joined``: in this quarter's data, not in the previous quarter's
    (which is loaded): a new hire, or a return (``previous_quarter`` then
    says when the person was last seen, ``from_*`` where);
  - ``left``: in the previous quarter's data, not in this quarter's;
    ``tinh_trang`` is the status last reported (``Nghỉ hưu``, ``Chuyển công
    tác``, ... or ``Đang làm việc`` for a departure nobody announced);
  - ``moved``: the school (``ma_don_vi``) differs from the person's
    previous record (``field`` = ``ma_don_vi``; ``from_*`` the old school,
    reporting unit and district, the plain columns the new ones);
  - ``changed``: one row per field whose value differs from the person's
    previous record (``field``, ``old_value``, ``new_value`` as text).

  ``previous_quarter`` is the quarter of the record compared with (the
  person's last appearance before ``quarter``; for ``left`` the quarter the
  person was last seen). ``both_submitted`` (joined and left only) is false
  when the reporting unit concerned did not submit in one of the two
  quarters: the event then probably reflects a missing file, not a person.

Quarter keys ``YYYY-Qn`` sort as text, so ``ORDER BY quarter`` is
chronological. Only identifiers and constants of the schema module are
formatted into the SQL below.
"""

from __future__ import annotations

from pmis_pipeline import schema

#: Fields whose changes ``person_history`` reports (``ma_don_vi`` is a ``moved`` event).
TRACKED_FIELDS: tuple[str, ...] = tuple(k for k in schema.KEYS if k not in ("row_no", "ma_cb", "ma_don_vi", "anh"))

EVENTS: tuple[str, ...] = ("first_seen", "joined", "left", "moved", "changed")


def _previous_quarter_sql(col: str) -> str:
    return (
        f"CASE WHEN right({col}, 1) = '1' THEN (CAST(left({col}, 4) AS INTEGER) - 1)::VARCHAR || '-Q4' "
        f"ELSE left({col}, 6) || (CAST(right({col}, 1) AS INTEGER) - 1)::VARCHAR END"
    )


def _next_quarter_sql(col: str) -> str:
    return (
        f"CASE WHEN right({col}, 1) = '4' THEN (CAST(left({col}, 4) AS INTEGER) + 1)::VARCHAR || '-Q1' "
        f"ELSE left({col}, 6) || (CAST(right({col}, 1) AS INTEGER) + 1)::VARCHAR END"
    )


def _changes_list_sql() -> str:
    items = [
        f"{{'field': '{k}', 'old_value': CAST(p.{k} AS VARCHAR), 'new_value': CAST(c.{k} AS VARCHAR)}}"
        for k in TRACKED_FIELDS
    ]
    return "[" + ",\n                ".join(items) + "]"


def views_ddl() -> str:
    """DDL of ``quarters``, ``person_quarters`` and ``person_history`` (idempotent;
    needs the contract's ``staff``, ``units`` and ``unit_compliance`` views)."""
    return f"""
CREATE OR REPLACE VIEW quarters AS
WITH q AS (
    SELECT quarter FROM staff UNION SELECT quarter FROM unit_compliance
)
SELECT quarter,
       last_day(make_date(CAST(left(quarter, 4) AS INTEGER), 3 * CAST(right(quarter, 1) AS INTEGER), 1)) AS quarter_end,
       {_previous_quarter_sql("quarter")} AS previous_quarter,
       {_previous_quarter_sql("quarter")} IN (SELECT quarter FROM q) AS previous_loaded,
       {_next_quarter_sql("quarter")} AS next_quarter,
       {_next_quarter_sql("quarter")} IN (SELECT quarter FROM q) AS next_loaded
FROM q;

CREATE OR REPLACE VIEW person_quarters AS
WITH ranked AS (
    SELECT s.*,
           count(*) OVER (PARTITION BY s.quarter, s.ma_cb) AS n_copies,
           row_number() OVER (
               PARTITION BY s.quarter, s.ma_cb
               ORDER BY s.reporting_unit, s.ma_don_vi NULLS LAST, s.submission_id, s.row_number
           ) AS copy_no
    FROM staff s
    WHERE s.ma_cb IS NOT NULL
)
SELECT r.* EXCLUDE (copy_no, raw, extras, row_no),
       u.ten_don_vi,
       coalesce(u.huyen, ru.huyen) AS huyen,
       lag(r.quarter) OVER (PARTITION BY r.ma_cb ORDER BY r.quarter) AS previous_seen,
       lead(r.quarter) OVER (PARTITION BY r.ma_cb ORDER BY r.quarter) AS next_seen
FROM ranked r
LEFT JOIN units u ON u.ma_don_vi = r.ma_don_vi
LEFT JOIN units ru ON ru.ma_don_vi = r.reporting_unit
WHERE r.copy_no = 1;

CREATE OR REPLACE VIEW person_history AS
WITH submitted AS (
    SELECT quarter, reporting_unit, submitted FROM unit_compliance
),
pairs AS (  -- each record with the person's previous record
    SELECT c.quarter, c.ma_cb, c.previous_seen AS previous_quarter,
           c.ho_ten, c.ma_don_vi, c.reporting_unit, c.huyen, c.tinh_trang,
           p.ma_don_vi AS from_ma_don_vi, p.reporting_unit AS from_reporting_unit, p.huyen AS from_huyen,
           {_changes_list_sql()} AS changes
    FROM person_quarters c
    JOIN person_quarters p ON p.ma_cb = c.ma_cb AND p.quarter = c.previous_seen
),
first_seen AS (
    SELECT c.quarter, c.ma_cb, 'first_seen' AS event, c.ho_ten, c.ma_don_vi, c.reporting_unit, c.huyen,
           c.tinh_trang
    FROM person_quarters c JOIN quarters q USING (quarter)
    WHERE NOT q.previous_loaded AND c.previous_seen IS NULL
),
joined AS (
    SELECT c.quarter, c.ma_cb, 'joined' AS event, c.previous_seen AS previous_quarter,
           c.ho_ten, c.ma_don_vi, c.reporting_unit, c.huyen, c.tinh_trang,
           p.ma_don_vi AS from_ma_don_vi, p.reporting_unit AS from_reporting_unit, p.huyen AS from_huyen,
           coalesce(s_now.submitted AND s_before.submitted, FALSE) AS both_submitted
    FROM person_quarters c
    JOIN quarters q USING (quarter)
    LEFT JOIN person_quarters p ON p.ma_cb = c.ma_cb AND p.quarter = c.previous_seen
    LEFT JOIN submitted s_now ON s_now.quarter = c.quarter AND s_now.reporting_unit = c.reporting_unit
    LEFT JOIN submitted s_before ON s_before.quarter = q.previous_quarter AND s_before.reporting_unit = c.reporting_unit
    WHERE q.previous_loaded AND c.previous_seen IS DISTINCT FROM q.previous_quarter
),
departed AS (
    SELECT q.next_quarter AS quarter, p.ma_cb, 'left' AS event, p.quarter AS previous_quarter,
           p.ho_ten, p.ma_don_vi, p.reporting_unit, p.huyen, p.tinh_trang,
           p.ma_don_vi AS from_ma_don_vi, p.reporting_unit AS from_reporting_unit, p.huyen AS from_huyen,
           coalesce(s_now.submitted AND s_before.submitted, FALSE) AS both_submitted
    FROM person_quarters p
    JOIN quarters q USING (quarter)
    LEFT JOIN submitted s_now ON s_now.quarter = q.next_quarter AND s_now.reporting_unit = p.reporting_unit
    LEFT JOIN submitted s_before ON s_before.quarter = p.quarter AND s_before.reporting_unit = p.reporting_unit
    WHERE q.next_loaded AND p.next_seen IS DISTINCT FROM q.next_quarter
),
moved AS (
    SELECT quarter, ma_cb, 'moved' AS event, 'ma_don_vi' AS field,
           from_ma_don_vi AS old_value, ma_don_vi AS new_value, previous_quarter,
           ho_ten, ma_don_vi, reporting_unit, huyen, tinh_trang, from_ma_don_vi, from_reporting_unit, from_huyen
    FROM pairs
    WHERE ma_don_vi IS DISTINCT FROM from_ma_don_vi OR reporting_unit <> from_reporting_unit
),
changed AS (
    SELECT quarter, ma_cb, 'changed' AS event, ch.field, ch.old_value, ch.new_value, previous_quarter,
           ho_ten, ma_don_vi, reporting_unit, huyen, tinh_trang, from_ma_don_vi, from_reporting_unit, from_huyen
    FROM (SELECT * EXCLUDE (changes), unnest(changes) AS ch FROM pairs)
    WHERE ch.old_value IS DISTINCT FROM ch.new_value
),
events AS (
    SELECT * FROM first_seen
    UNION ALL BY NAME SELECT * FROM joined
    UNION ALL BY NAME SELECT * FROM departed
    UNION ALL BY NAME SELECT * FROM moved
    UNION ALL BY NAME SELECT * FROM changed
)
SELECT quarter, ma_cb, ho_ten, event, field, old_value, new_value, previous_quarter,
       ma_don_vi, reporting_unit, huyen, from_ma_don_vi, from_reporting_unit, from_huyen,
       tinh_trang, both_submitted
FROM events;
"""

"""The contract's forms as clerks type them (issue 8), through real workbooks.

Each test failed on the old code: ``Quý`` typed 2/2009 (a date) was
refused; a name of one apostrophe was valid and paid; template rows became
records full of errors; identity numbers typed as text were zero-padded;
invisible characters stayed in names; duplicate_across_units listed the
units in no fixed order.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from pmis_pipeline import warehouse
from pmis_pipeline.crosscheck import duplicate_issues
from pmis_pipeline.textnorm import blank_sql, clean_text
from tests.conftest import materialize_quarter, query
from tests.workbooks import info_rows, person, write_catalog, write_xls, write_xlsx

Q = "2009-Q1"


def test_quarter_typed_as_a_date_is_read(data_dir):
    """``2/2009`` in a General cell: Excel stores 1 February 2009."""
    write_catalog(data_dir)
    info = info_rows("THPT01", "x")
    info[2][1] = datetime(2009, 1, 1)  # "1/2009" as Excel keeps it
    write_xlsx(data_dir / "inbox" / Q / "a.xlsx", info, [person("BT1", "THPT01")])
    q2 = info_rows("GDTX01", "x")
    q2[2][1] = datetime(2009, 2, 1)  # "2/2009": the second quarter, not this folder's
    write_xlsx(data_dir / "inbox" / Q / "b.xlsx", q2, [person("BT2", "GDTX01")])
    materialize_quarter(data_dir, Q)
    rows = dict(query(data_dir, "SELECT file_name, coalesce(error, status) FROM submissions"))
    assert rows["a.xlsx"] == "accepted"
    assert "2009-Q2" in rows["b.xlsx"] and "khác thư mục nhận 2009-Q1" in rows["b.xlsx"]


def test_blank_names_template_rows_ids_and_invisible_characters(data_dir):
    write_catalog(data_dir)
    records = [
        person("BT1", "THPT01", ho_ten="'"),  # only an apostrophe: blank
        person("BT2", "THPT01", ho_ten="Trần\u200b Văn\u202e An\x07", so_cmnd="12345678"),  # text, 8 digits
        person("BT3", "THPT01", so_cmnd=12345678),  # a number: lost its zero
        person("BT4", "THPT01", so_cmnd="０１２３４５６７８"),  # full-width digits
    ]
    template = [{"row_no": n} for n in range(5, 45)] + [{"row_no": 45, "ma_don_vi": "THPT01"}]
    write_xls(data_dir / "inbox" / Q / "thpt01.xls", info_rows("THPT01", Q), records + template)
    materialize_quarter(data_dir, Q)
    staff = {r[0]: r[1:] for r in query(data_dir, "SELECT ma_cb, ho_ten, so_cmnd, is_valid FROM staff")}
    assert staff == {
        "BT1": (None, "320123456", False),
        "BT2": ("Trần Văn An", "12345678", False),
        "BT3": ("Nguyễn Thị Hoa", "012345678", True),
        "BT4": ("Nguyễn Thị Hoa", "012345678", True),
    }
    issues = set(query(data_dir, "SELECT ma_cb, field, rule FROM record_issues WHERE severity = 'error'"))
    assert issues == {("BT1", "ho_ten", "required"), ("BT2", "so_cmnd", "id_number_format")}
    (n_records, warnings), = query(data_dir, "SELECT n_records, warnings FROM submissions")
    assert n_records == 4
    text = " | ".join(warnings)
    assert "bỏ qua 41 dòng không có thông tin cán bộ" in text and "dòng 6-46" in text
    assert "ký tự ẩn hoặc ký tự điều khiển" in text and "Họ và tên 1" in text
    assert query(data_dir, "SELECT count(*) FROM payments WHERE n_records > 0 AND payee = 'THPT01'") == [(1,)]
    assert query(data_dir, "SELECT n_records FROM payments WHERE payee = 'THPT01'") == [(2,)]  # BT3, BT4


def test_blank_sql_agrees_with_the_python_definition():
    import duckdb

    values = [None, "", " ", "'", "’", "\u200b", "\u202e\u200f", "\u00a0\u3000", "\x0b", "'012", " x ", "a\u0085b", "' '"]
    con = duckdb.connect()
    for v in values:
        assert con.execute(f"SELECT {blank_sql('$v::VARCHAR')}", {"v": v}).fetchone()[0] == (clean_text(v) is None), repr(v)


def test_duplicate_across_units_lists_the_units_in_order(tmp_path):
    units = [f"U{i:02d}" for i in range(25, 0, -1)]
    with warehouse.connect(tmp_path / "build.duckdb") as con:
        for i, unit in enumerate(units):
            con.execute(
                "INSERT INTO core.staff_rows (quarter, submission_id, row_number, reporting_unit, ma_cb, ma_don_vi) "
                "VALUES (?, ?, ?, ?, 'BT1', ?)",
                [Q, f"s{i}", i + 2, unit, unit],
            )
        first = duplicate_issues(con, Q).filter(pl.col("rule") == "duplicate_across_units")
        second = duplicate_issues(con, Q).filter(pl.col("rule") == "duplicate_across_units")
    expected = f"Mã cán bộ BT1 được 25 đơn vị báo cáo cùng gửi ({', '.join(sorted(units))}); người này chỉ thuộc một đơn vị"
    assert set(first["message"]) == {expected}
    assert first.equals(second)

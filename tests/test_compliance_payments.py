"""Ranking and payments on a hand-built province, every figure computed by hand.

Catalog (tests/workbooks.write_catalog): district offices PGD01, PGD02; direct
units THPT01, GDTX01. Deadlines: 2009-Q1 2009-04-20, 2009-Q2 2009-05-15.
"""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import materialize_quarter, query
from tests.workbooks import info_rows, person, write_catalog, write_xlsx

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def drop(data, quarter: str, name: str, unit: str, records: list[dict], received: str) -> None:
    path = write_xlsx(data / "inbox" / quarter / name, info_rows(unit, quarter, prepared_by=f"Cán bộ {unit}"), records)
    t = datetime.fromisoformat(received).replace(tzinfo=TZ).timestamp()
    os.utime(path, (t, t))


@pytest.fixture
def province(data_dir):
    write_catalog(data_dir)
    q1, q2 = "2009-Q1", "2009-Q2"
    pgd01 = [
        person("BT101", "PGD01-TH01"),
        person("BT102", "PGD01-TH01"),
        person("BT103", "PGD01-MN01"),
        person("BT104", "PGD01-MN01", dan_toc="Kinhh"),  # an error in Q1, fixed in Q2
    ]
    pgd02 = [person("BT201", "PGD02-TH01"), person("BT202", "PGD02-CS01")]
    # Q1: PGD01 on time; PGD02 copied in early but handed over 3 days late (receipts.csv);
    # THPT01 and GDTX01 tie on score, THPT01 received first.
    drop(data_dir, q1, "pgd01.xlsx", "PGD01", pgd01, "2009-04-15 08:00")
    drop(data_dir, q1, "pgd02.xlsx", "PGD02", pgd02, "2009-04-10 08:00")
    (data_dir / "inbox" / q1 / "receipts.csv").write_text("file,received_at\npgd02.xlsx,2009-04-23 10:00\n")
    drop(data_dir, q1, "thpt01.xlsx", "THPT01", [person("BT301", "THPT01"), person("BT302", "THPT01")], "2009-04-16 08:00")
    drop(data_dir, q1, "gdtx01.xlsx", "GDTX01", [person("BT401", "GDTX01"), person("BT402", "GDTX01")], "2009-04-18 08:00")
    # Q2: PGD01 fixes BT104; PGD02 loses BT202; THPT01 resends; GDTX01 sends nothing.
    fixed = pgd01[:3] + [person("BT104", "PGD01-MN01")]
    drop(data_dir, q2, "pgd01.xlsx", "PGD01", fixed, "2009-05-12 08:00")
    drop(data_dir, q2, "pgd02.xlsx", "PGD02", pgd02[:1], "2009-05-10 08:00")
    drop(data_dir, q2, "thpt01.xlsx", "THPT01", [person("BT301", "THPT01"), person("BT302", "THPT01")], "2009-05-14 08:00")
    materialize_quarter(data_dir, q1)
    materialize_quarter(data_dir, q2)
    return data_dir


COMPLIANCE = """
    SELECT reporting_unit, submitted, days_late, n_records, completeness_pct, accuracy_pct, lost_records, score, rank
    FROM unit_compliance WHERE quarter = ? ORDER BY loai, rank
"""


def test_q1_ranking_on_time_late_and_tie_break(province):
    assert query(province, COMPLIANCE, ["2009-Q1"]) == [
        # PGD02: 3 days late -> timeliness 85: 0.4*85 + 0.3*100 + 0.3*100 = 94.0
        ("PGD02", True, 3, 2, 100.0, 100.0, 0, 94.0, 1),
        # PGD01: on time, 3 of 4 records without error: 40 + 30 + 0.3*75 = 92.5
        ("PGD01", True, 0, 4, 100.0, 75.0, 0, 92.5, 2),
        # equal scores: the earlier first receipt ranks first
        ("THPT01", True, 0, 2, 100.0, 100.0, 0, 100.0, 1),
        ("GDTX01", True, 0, 2, 100.0, 100.0, 0, 100.0, 2),
    ]


def test_q2_missing_unit_ranks_last_and_lost_record_counted(province):
    assert query(province, COMPLIANCE, ["2009-Q2"]) == [
        ("PGD02", True, 0, 1, 100.0, 100.0, 1, 100.0, 1),  # received 10/05, before PGD01
        ("PGD01", True, 0, 4, 100.0, 100.0, 0, 100.0, 2),
        ("THPT01", True, 0, 2, 100.0, 100.0, 0, 100.0, 1),
        ("GDTX01", False, None, 0, 0.0, 0.0, 0, 0.0, 2),  # sent nothing: no lost records counted
    ]
    assert query(province, "SELECT reporting_unit, ma_cb FROM lost_records WHERE quarter = '2009-Q2'") == [
        ("PGD02", "BT202")
    ]


PAYMENTS = "SELECT payee, payee_type, item, n_records, rate_vnd, amount_vnd FROM payments WHERE quarter = ?"


def test_q1_payments(province):
    assert sorted(query(province, PAYMENTS, ["2009-Q1"])) == sorted(
        [
            ("PGD01", "phong", "nhap_lieu", 3, 1000, 3000),  # BT104 has an error: not paid
            ("PGD01", "phong", "tong_hop_kiem_tra", 3, 1000, 3000),
            ("PGD02", "phong", "nhap_lieu", 2, 1000, 2000),
            ("PGD02", "phong", "tong_hop_kiem_tra", 2, 1000, 2000),
            ("THPT01", "truc_thuoc", "nhap_lieu", 2, 1000, 2000),
            ("GDTX01", "truc_thuoc", "nhap_lieu", 2, 1000, 2000),
            ("SO", "so", "tong_hop_phong", 5, 1000, 5000),
            ("SO", "so", "tong_hop_truc_thuoc", 4, 2000, 8000),
        ]
    )


def test_q2_pays_only_the_record_fixed_since_q1(province):
    assert sorted(query(province, PAYMENTS, ["2009-Q2"])) == sorted(
        [
            ("PGD01", "phong", "nhap_lieu", 1, 1000, 1000),
            ("PGD01", "phong", "tong_hop_kiem_tra", 1, 1000, 1000),
            ("SO", "so", "tong_hop_phong", 1, 1000, 1000),
            ("SO", "so", "tong_hop_truc_thuoc", 0, 2000, 0),
        ]
    )
    paid_twice = query(
        province,
        "SELECT ma_cb FROM core.paid_records WHERE quarter LIKE '2009-%' GROUP BY 1 HAVING count(*) > 1",
    )
    assert paid_twice == []


def test_payment_documents_written_with_amounts_in_words(province):
    from pmis_pipeline.documents.money import amount_in_words

    folder = province / "warehouse" / "reports" / "2009-Q1" / "thanh-toan"
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "danh-sach-ky-nhan-2009-Q1.xlsx",
        "hop-dong-thanh-ly-2009-Q1.xlsx",
        "tong-hop-kinh-phi-2009-Q1.xlsx",
    ]
    import openpyxl

    summary = openpyxl.load_workbook(folder / "tong-hop-kinh-phi-2009-Q1.xlsx")
    texts = [str(c.value) for ws in summary for row in ws.iter_rows() for c in row if c.value is not None]
    assert any(amount_in_words(27000) in t for t in texts)  # 6000 + 4000 + 4000 + 13000


# ------------------------------------------------------- exact rounding of the score


def test_score_on_an_exact_half_cent_rounds_up_and_keeps_the_tie_break(tmp_path):
    """THPT01: 74 records, one with an error: accuracy 73/74 = 98.6486... -> 98.65; the
    score 0.4 x 100 + 0.3 x 100 + 0.3 x 98.65 is exactly 99.595 -> 99.60 (binary floats
    give 99.59). GDTX01: 75 records, one error: 98.67 -> 99.601 -> 99.60. Equal scores:
    THPT01, received first, ranks first (with the float score it ranked second)."""
    from datetime import date

    from pmis_pipeline import warehouse
    from pmis_pipeline.catalog import read_units
    from pmis_pipeline.compliance import unit_compliance
    from tests.workbooks import write_catalog

    write_catalog(tmp_path)
    scoring = {"weight_timeliness": 0.4, "weight_completeness": 0.3, "weight_accuracy": 0.3, "penalty_per_day_late": 5}
    q = "2009-Q1"
    with warehouse.connect(tmp_path / "build.duckdb") as con:
        warehouse.replace_units(con, read_units(tmp_path / "catalog" / "units.csv"))
        for sid, unit, n, received in (("s1", "THPT01", 74, "2009-04-10 08:00"), ("s2", "GDTX01", 75, "2009-04-11 08:00")):
            con.execute(
                "INSERT INTO core.submission_files (quarter, submission_id, file_name, sha256, received_at, seq, "
                "reporting_unit, readable) VALUES (?, ?, ?, ?, ?, 1, ?, TRUE)",
                [q, sid, f"{unit}.xlsx", sid, received, unit],
            )
            for row in range(1, n + 1):
                con.execute(
                    "INSERT INTO core.staff_rows (quarter, submission_id, row_number, reporting_unit, ma_cb, has_photo, "
                    "filled_required, required_cells) VALUES (?, ?, ?, ?, ?, FALSE, 20, 20)",
                    [q, sid, row, unit, f"{unit}-{row}"],
                )
            con.execute(
                "INSERT INTO core.record_issues (quarter, submission_id, row_number, ma_cb, reporting_unit, rule, severity) "
                "VALUES (?, ?, 1, ?, ?, 'required', 'error')",
                [q, sid, f"{unit}-1", unit],
            )
        frame = unit_compliance(con, q, date(2009, 4, 20), scoring)
    direct = frame.filter(frame["loai"] == "truc_thuoc").select("reporting_unit", "accuracy_pct", "score", "rank")
    assert direct.rows() == [("THPT01", 98.65, 99.6, 1), ("GDTX01", 98.67, 99.6, 2)]

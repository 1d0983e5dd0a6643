"""Intake end to end on hand-made files: statuses, latest-wins, archive, idempotence."""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.conftest import materialize_quarter, query
from tests.workbooks import info_rows, jpeg_bytes, person, write_catalog, write_xlsx, write_zip

Q = "2009-Q1"


def stamp(path, when: str) -> None:
    """Set a file's modification time to a local (Vietnam) time."""
    t = datetime.fromisoformat(when).replace(tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")).timestamp()
    os.utime(path, (t, t))


def test_one_bad_file_never_stops_the_others(data_dir):
    write_catalog(data_dir)
    inbox = data_dir / "inbox" / Q
    write_xlsx(inbox / "pgd01.xlsx", info_rows("PGD01", Q), [person("BT1", "PGD01-TH01"), person("BT2", "PGD01-MN01")])
    write_xlsx(inbox / "unknown.xlsx", info_rows("PGD99", Q), [person("BT3", "PGD01-TH01")])
    write_xlsx(inbox / "wrong-quarter.xlsx", info_rows("PGD02", "Q2/2009"), [person("BT4", "PGD02-TH01")])
    write_xlsx(inbox / "bad-quarter.xlsx", info_rows("PGD02", "mùa xuân"), [person("BT4", "PGD02-TH01")])
    (inbox / "corrupt.xlsx").write_bytes(b"this is not a workbook")
    write_xlsx(inbox / "thpt01.xlsx", info_rows("THPT01", "Quý 1 năm 2009"), [person("BT5", "THPT01")])
    materialize_quarter(data_dir, Q)
    rows = dict(
        (name, (status, error))
        for name, status, error in query(data_dir, "SELECT file_name, status, error FROM submissions")
    )
    assert rows["pgd01.xlsx"] == ("accepted", None)
    assert rows["thpt01.xlsx"] == ("accepted", None)
    assert rows["unknown.xlsx"][0] == "rejected" and "PGD99" in rows["unknown.xlsx"][1]
    assert rows["wrong-quarter.xlsx"][0] == "rejected" and "2009-Q2" in rows["wrong-quarter.xlsx"][1]
    assert rows["bad-quarter.xlsx"][0] == "rejected" and "mùa xuân" in rows["bad-quarter.xlsx"][1]
    assert rows["corrupt.xlsx"][0] == "rejected" and rows["corrupt.xlsx"][1].startswith("corrupt.xlsx")
    staff = query(data_dir, "SELECT reporting_unit, count(*) FROM staff WHERE quarter = ? GROUP BY 1 ORDER BY 1", [Q])
    assert staff == [("PGD01", 2), ("THPT01", 1)]


def test_latest_received_file_wins_per_school(data_dir):
    write_catalog(data_dir)
    inbox = data_dir / "inbox" / Q
    first = write_xlsx(
        inbox / "pgd01-lan1.xlsx", info_rows("PGD01", Q),
        [person("BT1", "PGD01-TH01", ho_ten="Cũ Một"), person("BT2", "PGD01-MN01", ho_ten="Cũ Hai")],
    )
    second = write_xlsx(inbox / "pgd01-lan2.xlsx", info_rows("PGD01", Q), [person("BT1", "PGD01-TH01", ho_ten="Mới Một")])
    only_old = write_xlsx(inbox / "thpt01-a.xlsx", info_rows("THPT01", Q), [person("BT9", "THPT01", ho_ten="Bản Đầu")])
    newer = write_xlsx(inbox / "thpt01-b.xlsx", info_rows("THPT01", Q), [person("BT9", "THPT01", ho_ten="Bản Sau")])
    stamp(first, "2009-04-10 08:00")
    stamp(second, "2009-04-12 08:00")
    stamp(only_old, "2009-04-05 08:00")
    stamp(newer, "2009-04-01 08:00")  # older on disk, but the clerk records the real hand-over:
    (inbox / "receipts.csv").write_text("file,received_at\nthpt01-b.xlsx,2009-04-18 09:30\n", encoding="utf-8")
    materialize_quarter(data_dir, Q)
    status = dict(query(data_dir, "SELECT file_name, status FROM submissions"))
    assert status == {
        "pgd01-lan1.xlsx": "accepted",  # still the latest for PGD01-MN01
        "pgd01-lan2.xlsx": "accepted",
        "thpt01-a.xlsx": "superseded",
        "thpt01-b.xlsx": "accepted",
    }
    names = dict(query(data_dir, "SELECT ma_cb, ho_ten FROM staff"))
    assert names == {"BT1": "Mới Một", "BT2": "Cũ Hai", "BT9": "Bản Sau"}
    received = dict(query(data_dir, "SELECT file_name, strftime(received_at, '%Y-%m-%d %H:%M') FROM submissions"))
    assert received["thpt01-b.xlsx"] == "2009-04-18 09:30"
    assert received["pgd01-lan2.xlsx"] == "2009-04-12 08:00"


def test_archive_keeps_every_version_and_recognises_duplicates(data_dir):
    write_catalog(data_dir)
    inbox = data_dir / "inbox" / Q
    path = write_xlsx(inbox / "pgd01.xlsx", info_rows("PGD01", Q), [person("BT1", "PGD01-TH01", ho_ten="Bản Một")])
    stamp(path, "2009-04-01 08:00")
    (inbox / "pgd01-copy.xlsx").write_bytes(path.read_bytes())
    stamp(inbox / "pgd01-copy.xlsx", "2009-04-02 08:00")
    materialize_quarter(data_dir, Q)
    # the unit overwrites its file in the inbox with a corrected one
    write_xlsx(path, info_rows("PGD01", Q), [person("BT1", "PGD01-TH01", ho_ten="Bản Hai")])
    stamp(path, "2009-04-03 08:00")
    materialize_quarter(data_dir, Q)
    objects = [p for p in (data_dir / "warehouse" / "archive" / "objects").rglob("*") if p.is_file()]
    assert len(objects) == 2  # two distinct contents, the duplicate stored once
    rows = query(
        data_dir,
        "SELECT file_name, status, duplicate_of IS NOT NULL FROM submissions ORDER BY received_at",
    )
    assert rows == [
        ("pgd01.xlsx", "superseded", False),
        ("pgd01-copy.xlsx", "superseded", True),
        ("pgd01.xlsx", "accepted", False),
    ]
    assert query(data_dir, "SELECT ho_ten FROM staff") == [("Bản Hai",)]


def test_rematerializing_replaces_the_quarter(data_dir):
    write_catalog(data_dir)
    inbox = data_dir / "inbox" / Q
    write_xlsx(inbox / "pgd02.xlsx", info_rows("PGD02", Q), [person(f"BT{i}", "PGD02-TH01") for i in range(5)])
    materialize_quarter(data_dir, Q)
    first = query(data_dir, "SELECT count(*) FROM staff")
    materialize_quarter(data_dir, Q)
    assert query(data_dir, "SELECT count(*) FROM staff") == first == [(5,)]
    assert query(data_dir, "SELECT count(*) FROM submissions") == [(1,)]


def test_photos_count_only_real_images_and_stay_with_the_person(data_dir):
    write_catalog(data_dir)
    book = write_xlsx(data_dir / "tmp" / "hoso.xlsx", info_rows("THPT01", Q), [person("BT1", "THPT01"), person("BT2", "THPT01")])
    write_zip(data_dir / "inbox" / Q / "thpt01.zip", book, {"anh/BT1.jpg": jpeg_bytes(), "anh/BT2.jpg": b"broken"})
    materialize_quarter(data_dir, Q)
    assert dict(query(data_dir, "SELECT ma_cb, has_photo FROM staff")) == {"BT1": True, "BT2": False}
    q2 = "2009-Q2"
    write_xlsx(data_dir / "inbox" / q2 / "thpt01.xlsx", info_rows("THPT01", q2), [person("BT1", "THPT01")])
    materialize_quarter(data_dir, q2)
    assert query(data_dir, "SELECT has_photo FROM staff WHERE quarter = ?", [q2]) == [(True,)]


def test_an_analyst_holding_the_published_file_never_blocks_a_run(data_dir):
    import duckdb

    write_catalog(data_dir)
    inbox = data_dir / "inbox" / Q
    write_xlsx(inbox / "a.xlsx", info_rows("THPT01", Q), [person("BT1", "THPT01")])
    materialize_quarter(data_dir, Q)
    analyst = duckdb.connect(str(data_dir / "warehouse" / "pmis.duckdb"), read_only=True)
    try:
        write_xlsx(inbox / "b.xlsx", info_rows("GDTX01", Q), [person("BT2", "GDTX01")])
        materialize_quarter(data_dir, Q)  # would fail on the lock if it wrote the analysts' file
        assert analyst.execute("SELECT count(*) FROM staff").fetchall() == [(1,)]  # a consistent old snapshot
    finally:
        analyst.close()
    assert query(data_dir, "SELECT count(*) FROM staff") == [(2,)]


def test_a_quarter_with_no_files_materializes_to_an_empty_quarter(data_dir):
    write_catalog(data_dir)
    materialize_quarter(data_dir, "2010-Q1")
    assert query(data_dir, "SELECT count(*) FROM staff WHERE quarter = '2010-Q1'") == [(0,)]
    # every reporting unit is there, none submitted, all ranked
    assert query(
        data_dir, "SELECT count(*), count(*) FILTER (WHERE NOT submitted), max(rank) FROM unit_compliance WHERE quarter = '2010-Q1'"
    ) == [(4, 4, 2)]
    assert query(data_dir, "SELECT item, amount_vnd FROM payments WHERE quarter = '2010-Q1' ORDER BY 1") == [
        ("tong_hop_phong", 0),
        ("tong_hop_truc_thuoc", 0),
    ]

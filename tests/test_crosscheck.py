"""Rules across records (duplicates, identity drift, lost records, catalog
proposals) and the configuration overrides, on hand-made files."""

from __future__ import annotations

from tests.conftest import FAST_CONFIG, materialize_quarter, query
from tests.workbooks import info_rows, person, write_catalog, write_xlsx

Q1, Q2 = "2009-Q1", "2009-Q2"


def issues(data, rule: str, quarter: str = Q1) -> list[tuple]:
    return query(
        data,
        "SELECT reporting_unit, ma_cb, field, severity FROM record_issues WHERE rule = ? AND quarter = ? ORDER BY 1, 2",
        [rule, quarter],
    )


def test_duplicates_within_and_across_units_flag_every_copy(data_dir):
    write_catalog(data_dir)
    inbox = data_dir / "inbox" / Q1
    write_xlsx(inbox / "a.xlsx", info_rows("PGD01", Q1), [person("BT1", "PGD01-TH01"), person("BT1", "PGD01-MN01"), person("BT2", "PGD01-TH01")])
    write_xlsx(inbox / "b.xlsx", info_rows("PGD02", Q1), [person("BT2", "PGD02-TH01"), person("BT3", "PGD02-TH01")])
    materialize_quarter(data_dir, Q1)
    assert issues(data_dir, "duplicate_ma_cb") == [("PGD01", "BT1", "ma_cb", "error")] * 2
    assert issues(data_dir, "duplicate_across_units") == [("PGD01", "BT2", "ma_cb", "error"), ("PGD02", "BT2", "ma_cb", "error")]
    # nothing dropped: every copy stays in staff, none valid
    assert query(data_dir, "SELECT ma_cb, count(*), bool_or(is_valid) FROM staff WHERE ma_cb IN ('BT1', 'BT2') GROUP BY 1 ORDER BY 1") == [
        ("BT1", 2, False),
        ("BT2", 2, False),
    ]
    assert query(data_dir, "SELECT is_valid FROM staff WHERE ma_cb = 'BT3'") == [(True,)]


def test_identity_drift_warns_with_old_and_new_values_but_not_for_tone_placement(data_dir):
    write_catalog(data_dir)
    write_xlsx(
        data_dir / "inbox" / Q1 / "a.xlsx", info_rows("THPT01", Q1),
        [person("BT1", "THPT01", ho_ten="Nguyễn Thị Hoà"), person("BT2", "THPT01", ngay_sinh="01/02/1970"), person("BT3", "THPT01")],
    )
    write_xlsx(
        data_dir / "inbox" / Q2 / "a.xlsx", info_rows("THPT01", Q2),
        [person("BT1", "THPT01", ho_ten="NGUYỄN THỊ HÒA"), person("BT2", "THPT01", ngay_sinh="02/01/1970"), person("BT3", "THPT01", so_cmnd="320999999")],
    )
    materialize_quarter(data_dir, Q1)
    materialize_quarter(data_dir, Q2)
    drift = query(data_dir, "SELECT ma_cb, field, severity, message FROM record_issues WHERE rule = 'identity_drift' ORDER BY 1")
    assert [(m, f, s) for m, f, s, _ in drift] == [("BT2", "ngay_sinh", "warning"), ("BT3", "so_cmnd", "warning")]
    assert "01/02/1970" in drift[0][3] and "02/01/1970" in drift[0][3]
    assert "320123456" in drift[1][3] and "320999999" in drift[1][3]


def test_lost_record_is_listed_by_name_and_a_move_is_not_lost(data_dir):
    write_catalog(data_dir)
    write_xlsx(
        data_dir / "inbox" / Q1 / "p1.xlsx", info_rows("PGD01", Q1),
        [person("BT1", "PGD01-TH01", ho_ten="Trần Văn Mất"), person("BT2", "PGD01-TH01"),
         person("BT3", "PGD01-TH01", tinh_trang="Nghỉ hưu")],
    )
    write_xlsx(data_dir / "inbox" / Q1 / "p2.xlsx", info_rows("PGD02", Q1), [person("BT9", "PGD02-TH01")])
    # Q2: BT1 vanished, BT2 moved to PGD02, BT3 retired last quarter (announced, not lost)
    write_xlsx(data_dir / "inbox" / Q2 / "p1.xlsx", info_rows("PGD01", Q2), [person("BT4", "PGD01-TH01")])
    write_xlsx(data_dir / "inbox" / Q2 / "p2.xlsx", info_rows("PGD02", Q2), [person("BT9", "PGD02-TH01"), person("BT2", "PGD02-TH01")])
    materialize_quarter(data_dir, Q1)
    materialize_quarter(data_dir, Q2)
    assert query(data_dir, "SELECT reporting_unit, ma_cb, ho_ten, last_quarter FROM lost_records") == [
        ("PGD01", "BT1", "Trần Văn Mất", Q1)
    ]
    assert query(data_dir, "SELECT reporting_unit, lost_records FROM unit_compliance WHERE quarter = ? AND lost_records > 0", [Q2]) == [
        ("PGD01", 1)
    ]


def test_catalog_proposals(data_dir):
    write_catalog(data_dir)
    write_xlsx(
        data_dir / "inbox" / Q1 / "a.xlsx", info_rows("PGD01", Q1),
        [person("BT1", "PGD01-TH01"), person("BT2", "PGD01-TH99")],
        units=[
            ("PGD01-TH01", "Trường TH Tân Thạch", "Tiểu học", "Tân Thạch"),  # name differs from the catalog
            ("PGD01-MN01", "Trường mầm non TÂN THẠCH", "Mầm non", ""),  # only case differs: no proposal
            ("PGD01-TH77", "Trường Tiểu học Mới", "Tiểu học", ""),  # declared, not in the catalog
        ],
    )
    materialize_quarter(data_dir, Q1)
    rows = query(data_dir, "SELECT proposal, ma_don_vi, name_sent, name_in_catalog FROM catalog_proposals ORDER BY 2")
    assert rows == [
        ("review_name", "PGD01-TH01", "Trường TH Tân Thạch", "Trường Tiểu học Tân Thạch"),
        ("add_unit", "PGD01-TH77", "Trường Tiểu học Mới", None),
        ("add_unit", "PGD01-TH99", None, None),  # used in a record only
    ]
    assert query(data_dir, "SELECT count(*) FROM units WHERE ma_don_vi IN ('PGD01-TH77', 'PGD01-TH99')") == [(0,)]
    # the level of a school used but not declared: the catalog's for codes of the same pattern (PGD01-TH..)
    assert query(data_dir, "SELECT cap_hoc FROM catalog_proposals WHERE ma_don_vi = 'PGD01-TH99'") == [("Tiểu học",)]


def test_catalog_proposals_take_the_name_a_unit_declared_earlier(data_dir):
    write_catalog(data_dir)
    write_xlsx(
        data_dir / "inbox" / Q1 / "a.xlsx", info_rows("PGD01", Q1), [person("BT1", "PGD01-TH01")],
        units=[("PGD01-TH77", "Trường Tiểu học Mới", "Tiểu học", "")],
    )
    write_xlsx(data_dir / "inbox" / Q2 / "a.xlsx", info_rows("PGD01", Q2), [person("BT1", "PGD01-TH01"), person("BT2", "PGD01-TH77")])
    materialize_quarter(data_dir, Q1)
    materialize_quarter(data_dir, Q2)
    rows = query(data_dir, "SELECT proposal, name_sent, cap_hoc, reason FROM catalog_proposals WHERE quarter = ? AND ma_don_vi = 'PGD01-TH77'", [Q2])
    assert rows == [("add_unit", "Trường Tiểu học Mới", "Tiểu học", "Mã đơn vị dùng trong hồ sơ nhưng chưa có trong danh mục")]


def test_config_and_deadline_overrides(data_dir):
    write_catalog(data_dir)
    (data_dir / "config.toml").write_text(FAST_CONFIG + "[payments]\ntruc_thuoc_nhap_lieu = 1500\n\n[scoring]\npenalty_per_day_late = 10\n")
    (data_dir / "catalog" / "deadlines.csv").write_text("quarter,deadline\n2009-Q1,2009-04-10\n")
    path = write_xlsx(data_dir / "inbox" / Q1 / "a.xlsx", info_rows("THPT01", Q1), [person("BT1", "THPT01"), person("BT2", "THPT01")])
    (data_dir / "inbox" / Q1 / "receipts.csv").write_text(f"file,received_at\n{path.name},2009-04-12 23:59\n")
    materialize_quarter(data_dir, Q1)
    assert query(data_dir, "SELECT deadline::VARCHAR, days_late, timeliness, score FROM unit_compliance WHERE reporting_unit = 'THPT01'") == [
        ("2009-04-10", 2, 80.0, 92.0)  # 0.4 x (100 - 2 x 10) + 30 + 30
    ]
    assert query(data_dir, "SELECT n_records, rate_vnd, amount_vnd FROM payments WHERE payee = 'THPT01'") == [(2, 1500, 3000)]

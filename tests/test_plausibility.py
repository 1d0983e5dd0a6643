"""One unit cannot move another's results: codes copied from another unit cost
the copier, not the owner; an implausible record count is flagged and its
payment held until the Department confirms it."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import FAST_CONFIG, materialize_quarter, query
from tests.workbooks import info_rows, person, write_catalog, write_xlsx

Q1, Q2 = "2009-Q1", "2009-Q2"


def staff_list(prefix: str, unit: str, n: int) -> list[dict]:
    return [person(f"{prefix}{i:04d}", unit, ho_ten=f"Nguyễn Văn Số {i}") for i in range(1, n + 1)]


def test_codes_copied_from_another_unit_cost_the_copier_not_the_owner(data_dir: Path):
    write_catalog(data_dir)
    owners = staff_list("BT", "THPT01", 50)
    for q in (Q1, Q2):
        write_xlsx(data_dir / "inbox" / q / "thpt01.xlsx", info_rows("THPT01", q), owners)
    copied = [person(p["ma_cb"], "GDTX01", ho_ten=p["ho_ten"]) for p in owners]
    write_xlsx(data_dir / "inbox" / Q2 / "gdtx01.xlsx", info_rows("GDTX01", Q2, name="Trung tâm GDTX tỉnh"), copied)
    materialize_quarter(data_dir, Q1)
    materialize_quarter(data_dir, Q2)
    got = query(
        data_dir,
        """SELECT reporting_unit, severity, count(*) FROM record_issues
           WHERE quarter = ? AND rule = 'duplicate_across_units' GROUP BY ALL ORDER BY 1""",
        [Q2],
    )
    assert got == [("GDTX01", "error", 50), ("THPT01", "warning", 50)]
    accuracy = dict(query(data_dir, "SELECT reporting_unit, accuracy_pct FROM unit_compliance WHERE quarter = ?", [Q2]))
    assert accuracy["THPT01"] == 100.0 and accuracy["GDTX01"] == 0.0
    message = query(
        data_dir, "SELECT message FROM record_issues WHERE quarter = ? AND reporting_unit = 'GDTX01' LIMIT 1", [Q2]
    )[0][0]
    assert "THPT01" in message  # the copier is told whose person it is


def test_a_code_sent_by_two_units_new_to_both_is_an_error_in_both(data_dir: Path):
    write_catalog(data_dir)
    write_xlsx(data_dir / "inbox" / Q1 / "a.xlsx", info_rows("THPT01", Q1), [person("BT0001", "THPT01")])
    write_xlsx(data_dir / "inbox" / Q1 / "b.xlsx", info_rows("GDTX01", Q1), [person("BT0001", "GDTX01")])
    materialize_quarter(data_dir, Q1)
    assert query(data_dir, "SELECT reporting_unit, severity FROM record_issues WHERE rule = 'duplicate_across_units' ORDER BY 1") == [
        ("GDTX01", "error"), ("THPT01", "error"),
    ]


def test_an_implausible_count_is_held_until_the_department_confirms_it(data_dir: Path):
    write_catalog(data_dir)
    (data_dir / "config.toml").write_text(
        FAST_CONFIG + "[plausibility]\nmax_growth_pct = 50\nmin_growth_records = 10\nmax_records_per_school = 100\n",
        encoding="utf-8",
    )
    write_xlsx(data_dir / "inbox" / Q1 / "gdtx.xlsx", info_rows("GDTX01", Q1), staff_list("GD", "GDTX01", 20))
    write_xlsx(data_dir / "inbox" / Q1 / "thpt.xlsx", info_rows("THPT01", Q1), staff_list("BT", "THPT01", 5))
    write_xlsx(data_dir / "inbox" / Q2 / "gdtx.xlsx", info_rows("GDTX01", Q2), staff_list("GD", "GDTX01", 21))
    write_xlsx(data_dir / "inbox" / Q2 / "thpt.xlsx", info_rows("THPT01", Q2), staff_list("BT", "THPT01", 150))  # invented
    materialize_quarter(data_dir, Q1)
    materialize_quarter(data_dir, Q2)
    holds = query(data_dir, "SELECT reporting_unit, n_records, previous_records, confirmed FROM payment_holds WHERE quarter = ?", [Q2])
    assert holds == [("THPT01", 150, 5, False)]
    paid = dict(query(data_dir, "SELECT payee, n_records FROM payments WHERE quarter = ? AND item = 'nhap_lieu'", [Q2]))
    assert "THPT01" not in paid and paid["GDTX01"] == 1  # the other unit's new person is paid as usual
    assert query(data_dir, "SELECT n_records FROM payments WHERE quarter = ? AND item = 'tong_hop_truc_thuoc'", [Q2]) == [(1,)]

    # The Department checks and confirms: the held records are paid in Q2 (those new in 2009).
    (data_dir / "catalog" / "payment_confirmations.csv").write_text(
        "quarter,reporting_unit,confirmed_by,note\n2009-Q2,THPT01,Nguyễn Văn An,đã kiểm tra danh sách\n", encoding="utf-8"
    )
    materialize_quarter(data_dir, Q2)
    paid = dict(query(data_dir, "SELECT payee, n_records FROM payments WHERE quarter = ? AND item = 'nhap_lieu'", [Q2]))
    assert paid["THPT01"] == 145  # 150 minus the 5 already paid in Q1
    assert query(data_dir, "SELECT confirmed, confirmed_by FROM payment_holds WHERE quarter = ?", [Q2]) == [(True, "Nguyễn Văn An")]


def test_a_first_quarter_beyond_what_the_schools_could_employ_is_held(data_dir: Path):
    write_catalog(data_dir)
    (data_dir / "config.toml").write_text(FAST_CONFIG + "[plausibility]\nmax_growth_pct = 50\nmin_growth_records = 10\nmax_records_per_school = 30\n", encoding="utf-8")
    write_xlsx(data_dir / "inbox" / Q1 / "thpt.xlsx", info_rows("THPT01", Q1), staff_list("BT", "THPT01", 31))
    materialize_quarter(data_dir, Q1)
    reason = query(data_dir, "SELECT reason FROM payment_holds WHERE quarter = ? AND reporting_unit = 'THPT01'", [Q1])[0][0]
    assert "31" in reason and "30" in reason
    assert query(data_dir, "SELECT count(*) FROM payments WHERE payee = 'THPT01'") == [(0,)]


def test_a_failed_error_check_is_visible_on_the_run(data_dir: Path):
    """Not only a small red number in the lineage: the run carries a tag naming the
    failed error-severity checks, and logs each at error level in Vietnamese."""
    import dagster as dg

    from assets.resources import PmisResource
    from pmis_pipeline.definitions import ALL_ASSETS

    write_catalog(data_dir)
    write_xlsx(data_dir / "inbox" / Q1 / "a.xlsx", info_rows("THPT01", Q1), [person("BT0001", "THPT01")] * 2)
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            ALL_ASSETS, instance=instance, partition_key=Q1, resources={"pmis": PmisResource(data_dir=str(data_dir))}
        )
        run = instance.get_run_by_id(result.run_id)
        errors = [
            e.message for e in instance.all_logs(result.run_id)
            if e.level >= 40 and "không đạt" in (e.message or "")
        ]
    assert run.tags.get("pmis/kiem_tra_loi") == "duplicates"
    assert any("duplicates" in m and "mã cán bộ bị trùng" in m for m in errors)

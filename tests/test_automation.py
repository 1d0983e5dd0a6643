"""Quarters over time, through Dagster itself: the ``quarters_sensor`` observes
the inputs, Dagster's staleness says which quarters are behind, and the runs
the sensor requests are executed as real Dagster runs on one instance."""

from __future__ import annotations

import os
import time
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from assets.resources import PmisResource
from pmis_pipeline.definitions import ALL_ASSETS, defs
from tests.conftest import FAST_CONFIG, query
from tests.workbooks import info_rows, person, write_catalog, write_xlsx

Q1, Q2 = "2009-Q1", "2009-Q2"
TWO_QUARTERS = FAST_CONFIG + '[partitions]\nfirst_quarter = "2009-Q1"\nlast_quarter = "2009-Q2"\n'


def tick(instance: dg.DagsterInstance, cursor: str | None):
    sensor = defs.get_sensor_def("quarters_sensor")
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, repository_def=defs.get_repository_def(), resources={"pmis": PmisResource()}
    )
    return sensor.evaluate_tick(context)


def settle(instance: dg.DagsterInstance, data: Path, cursor: str | None = None, max_ticks: int = 12):
    """Tick the sensor and execute what it requests until it has nothing to do.
    Returns (runs as (partition or 'publish', success), last skip message, cursor)."""
    runs: list[tuple[str, bool]] = []
    for _ in range(max_ticks):
        result = tick(instance, cursor)
        cursor = result.cursor
        if not result.run_requests:
            if "mọi quý đã cập nhật" in (result.skip_message or ""):
                return runs, result.skip_message, cursor
            if "đang thay đổi" in (result.skip_message or ""):
                continue  # the inbox changed since the last look: the next look reports it
            return runs, result.skip_message, cursor
        for request in result.run_requests:
            outcome = dg.materialize(
                ALL_ASSETS,
                instance=instance,
                partition_key=request.partition_key,
                selection=request.asset_selection,
                resources={"pmis": PmisResource(data_dir=str(data))},
                tags=request.tags,
                raise_on_error=False,
            )
            runs.append((request.partition_key or "publish", outcome.success))
    raise AssertionError(f"the sensor did not settle in {max_ticks} ticks: {runs}")


def paid(data: Path) -> dict[str, set[str]]:
    rows = query(data, "SELECT quarter, ma_cb FROM core.paid_records ORDER BY 1, 2")
    out: dict[str, set[str]] = {}
    for quarter, ma_cb in rows:
        out.setdefault(quarter, set()).add(ma_cb)
    return out


@pytest.fixture
def province(data_dir: Path) -> Path:
    write_catalog(data_dir)
    (data_dir / "config.toml").write_text(TWO_QUARTERS, encoding="utf-8")
    return data_dir


def send(data: Path, quarter: str, name: str, people: list[dict]) -> Path:
    return write_xlsx(data / "inbox" / quarter / name, info_rows("THPT01", quarter), people)


def test_a_corrected_earlier_quarter_brings_the_later_ones_up_to_date_in_order(province):
    a, c = person("BT0001", "THPT01"), person("BT0003", "THPT01", ho_ten="Lê Văn Cường")
    b_wrong = person("BT0002", "THPT01", ho_ten="Trần Thị Bé", so_cmnd="12")  # an error: not paid in Q1
    b_fixed = person("BT0002", "THPT01", ho_ten="Trần Thị Bé")
    d = person("BT0004", "THPT01", ho_ten="Phạm Thị Dung")
    send(province, Q1, "q1.xlsx", [a, b_wrong, c])
    send(province, Q2, "q2.xlsx", [a, b_fixed])
    with dg.instance_for_test() as instance:
        runs, message, cursor = settle(instance, province)
        assert runs == [(Q1, True), (Q2, True), ("publish", True)], runs
        assert paid(province) == {Q1: {"BT0001", "BT0003"}, Q2: {"BT0002"}}
        assert query(province, "SELECT quarter, ma_cb FROM lost_records") == [(Q2, "BT0003")]

        # The unit resends Q1: B corrected, C was a mistake, D was missing.
        time.sleep(1.1)  # a later hand-over time than the first file (times are kept to the second)
        send(province, Q1, "q1-sua.xlsx", [a, b_fixed, d])
        runs, message, cursor = settle(instance, province, cursor)
        assert runs == [(Q1, True), (Q2, True), ("publish", True)], runs
        assert "mọi quý đã cập nhật" in message

    assert paid(province) == {Q1: {"BT0001", "BT0002", "BT0004"}}  # B is no longer paid (again) in Q2
    assert query(province, "SELECT count(*) FROM payments WHERE quarter = ? AND payee_type <> 'so'", [Q2]) == [(0,)]
    assert query(province, "SELECT quarter, ma_cb FROM lost_records") == [(Q2, "BT0004")]  # compared with the new Q1
    twice = query(province, "SELECT ma_cb FROM core.paid_records WHERE quarter LIKE '2009-%' GROUP BY 1 HAVING count(*) > 1")
    assert twice == []


def test_a_new_file_marks_only_its_quarter_and_nothing_runs_while_it_is_still_changing(province):
    send(province, Q1, "q1.xlsx", [person("BT0001", "THPT01")])
    send(province, Q2, "q2.xlsx", [person("BT0001", "THPT01")])
    with dg.instance_for_test() as instance:
        runs, _, cursor = settle(instance, province)
        assert runs == [(Q1, True), (Q2, True), ("publish", True)]
        quiet = tick(instance, cursor)
        assert quiet.run_requests == [] and "mọi quý đã cập nhật" in quiet.skip_message

        send(province, Q2, "them.xlsx", [person("BT0009", "THPT01", ho_ten="Võ Văn Mới")])
        first_look = tick(instance, quiet.cursor)
        assert first_look.run_requests == [] and Q2 in first_look.skip_message  # seen once: wait for a second look
        second_look = tick(instance, first_look.cursor)
        assert [(r.partition_key, sorted(k.to_user_string() for k in r.asset_selection)[:2]) for r in second_look.run_requests] == [
            (Q2, ["announcement", "department_review"])
        ]


def test_editing_the_catalog_reruns_every_quarter_by_itself_and_touching_it_does_not(province):
    send(province, Q1, "q1.xlsx", [person("BT0001", "THPT01")])
    send(province, Q2, "q2.xlsx", [person("BT0001", "THPT01")])
    with dg.instance_for_test() as instance:
        runs, _, cursor = settle(instance, province)
        catalog = province / "catalog" / "units.csv"
        later = time.time() + 5
        os.utime(catalog, (later, later))  # touched, same content
        runs, message, cursor = settle(instance, province, cursor)
        assert runs == [] and "mọi quý đã cập nhật" in message

        with catalog.open("a", encoding="utf-8") as fh:  # the clerk accepts a proposed school
            fh.write("PGD01-CS09,Trường THCS Mới,truong,PGD01,THCS,Châu Thành\n")
        runs, message, cursor = settle(instance, province, cursor)
        assert runs == [(Q1, True), (Q2, True), ("publish", True)], runs
    assert query(province, "SELECT count(*) FROM units WHERE ma_don_vi = 'PGD01-CS09'") == [(1,)]
    # the units' templates follow the catalog: PGD01's lists its new school in DonVi
    import openpyxl

    book = openpyxl.load_workbook(province / "warehouse" / "templates" / "mau-pmis-PGD01.xlsx")
    schools = {row[0] for row in book["DonVi"].iter_rows(values_only=True)}
    assert {"PGD01-TH01", "PGD01-CS09"} <= schools


def test_a_quarter_whose_blocking_check_fails_gets_no_signable_document_and_is_not_published(province, monkeypatch):
    send(province, Q1, "q1.xlsx", [person("BT0001", "THPT01"), person("BT0002", "THPT01", ho_ten="Trần Thị Bé")])
    import pmis_pipeline.quarter as quarter_module

    honest = quarter_module.payment_lines

    def off_by_one_record(*args, **kwargs) -> pl.DataFrame:  # a fault planted on purpose
        lines = honest(*args, **kwargs)
        return lines.with_columns(
            pl.when(pl.col("payee") == "THPT01").then(pl.col("amount_vnd") + 1000).otherwise(pl.col("amount_vnd")).alias("amount_vnd")
        )

    monkeypatch.setattr(quarter_module, "payment_lines", off_by_one_record)
    with dg.instance_for_test() as instance:
        runs, message, cursor = settle(instance, province)
        assert runs[0] == (Q1, False), runs
        assert Q1 in message and "lượt chạy trước" in message  # the sensor stops at Q1 and says so
        record = instance.get_latest_asset_check_evaluation_record(dg.AssetCheckKey(dg.AssetKey("payments"), "payments_consistent"))
        assert (record.partition, record.event.asset_check_evaluation.passed) == (Q1, False)  # shown per quarter
    reports = province / "warehouse" / "reports" / Q1
    assert not list(reports.glob("thong-bao-ket-qua-*.xlsx"))
    assert not list(reports.glob("thanh-toan/*.xlsx"))
    assert not (province / "warehouse" / "pmis.duckdb").exists()  # nothing was ever published


def test_documents_of_a_quarter_that_later_fails_its_blocking_checks_are_withdrawn(province, monkeypatch):
    send(province, Q1, "q1.xlsx", [person("BT0001", "THPT01")])
    reports = province / "warehouse" / "reports" / Q1
    with dg.instance_for_test() as instance:
        runs, _, cursor = settle(instance, province)
        assert runs[0] == (Q1, True) and list(reports.glob("thanh-toan/*.xlsx"))
        published = query(province, "SELECT ma_cb FROM staff")

        import pmis_pipeline.quarter as quarter_module

        honest = quarter_module.payment_lines
        monkeypatch.setattr(
            quarter_module, "payment_lines",
            lambda *a, **k: honest(*a, **k).with_columns((pl.col("amount_vnd") + 1).alias("amount_vnd")),
        )
        time.sleep(1.1)
        send(province, Q1, "q1b.xlsx", [person("BT0002", "THPT01", ho_ten="Trần Thị Bé")])
        runs, message, cursor = settle(instance, province, cursor)
        assert runs[0] == (Q1, False)
        # publishing by hand now holds the failed quarter back: the analysts keep its last good version
        dg.materialize(ALL_ASSETS, instance=instance, selection="analyst_warehouse",
                       resources={"pmis": PmisResource(data_dir=str(province))})
    assert not list(reports.glob("thong-bao-ket-qua-*.xlsx")) and not list(reports.glob("thanh-toan/*.xlsx"))
    assert query(province, "SELECT ma_cb FROM staff") == published == [("BT0001",)]
    with duckdb.connect(str(province / "warehouse" / "build.duckdb"), read_only=True) as con:
        # the new file replaced the school's list in the build database; that version is not published
        assert con.execute("SELECT ma_cb FROM core.staff_rows").fetchall() == [("BT0002",)]


def test_a_new_warehouse_schema_rebuilds_every_quarter_from_the_archive(province, monkeypatch):
    """A schema change empties the build database and bumps the quarter assets'
    code version: Dagster marks every quarter stale and the sensor rebuilds
    them in order (from the archive: intake never reads the inbox directly)."""
    send(province, Q1, "q1.xlsx", [person("BT0001", "THPT01")])
    send(province, Q2, "q2.xlsx", [person("BT0001", "THPT01"), person("BT0002", "THPT01", ho_ten="Trần Thị Bé")])
    with dg.instance_for_test() as instance:
        runs, _, cursor = settle(instance, province)
        before = query(province, "SELECT quarter, ma_cb, ho_ten FROM staff ORDER BY ALL")
        from pmis_pipeline import warehouse

        monkeypatch.setattr(warehouse, "SCHEMA_VERSION", warehouse.SCHEMA_VERSION + 1)
        new_version = f"schema-{warehouse.SCHEMA_VERSION}"
        assets = [
            a.map_asset_specs(lambda spec: spec.replace_attributes(code_version=new_version))
            if isinstance(a, dg.AssetsDefinition) and a.is_executable and not a.is_observable else a
            for a in ALL_ASSETS
        ]
        upgraded = dg.Definitions(assets=assets, sensors=[defs.get_sensor_def("quarters_sensor")], resources={"pmis": PmisResource()})
        sensor = upgraded.get_sensor_def("quarters_sensor")
        done = []
        for _ in range(8):
            context = dg.build_sensor_context(
                instance=instance, cursor=cursor, repository_def=upgraded.get_repository_def(), resources={"pmis": PmisResource()}
            )
            result = sensor.evaluate_tick(context)
            cursor = result.cursor
            if not result.run_requests:
                break
            for request in result.run_requests:
                outcome = dg.materialize(
                    assets, instance=instance, partition_key=request.partition_key, selection=request.asset_selection,
                    resources={"pmis": PmisResource(data_dir=str(province))}, raise_on_error=False,
                )
                done.append((request.partition_key or "publish", outcome.success))
    assert done == [(Q1, True), (Q2, True), ("publish", True)]
    assert query(province, "SELECT quarter, ma_cb, ho_ten FROM staff ORDER BY ALL") == before

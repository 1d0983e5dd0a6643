"""The quarter step holds a batch, not the quarter: records are read,
normalised and loaded a batch of files at a time, and checked a chunk of
staff rows at a time (``[quarter] batch_records``). With a batch of a few
dozen records (one or two files a batch, a dozen chunks) the demo province
gives exactly the tables it gives in one batch, and the issues the
generator planted."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import duckdb
import polars as pl
import pytest

from checks.expectations import SuiteRunner, run_suite
from pmis_pipeline import quarter as quarter_build
from pmis_pipeline import warehouse
from pmis_pipeline.archive import Archive
from pmis_pipeline.catalog import read_units
from pmis_pipeline.demo import generate_demo
from pmis_pipeline.inputs import settled_inbox
from pmis_pipeline.intake import QuarterStream, ingest_quarter
from pmis_pipeline.isolation import IntakeLimits
from pmis_pipeline.quality import combine_summaries
from pmis_pipeline.settings import load_settings
from tests.test_rules import clean, staff_frame

QUARTERS = ("2009-Q1", "2009-Q2")
TINY = 40  # records a batch: most demo files hold more, so a batch is one file, a chunk one submission or two
VOLATILE = {"first_seen_at"}  # when a data folder first saw a file


class CountingSuite(SuiteRunner):
    def __init__(self) -> None:
        super().__init__()
        self.offsets: list[int] = []

    def __call__(self, staff, offset=0):
        self.offsets.append(offset)
        return super().__call__(staff, offset)


def build(data: Path, batch_records: int) -> dict[str, dict]:
    """Both quarters through the quarter step's functions, as the asset calls them."""
    (data / "config.toml").write_text(
        (data / "config.toml").read_text(encoding="utf-8") + f"\n[quarter]\nbatch_records = {batch_records}\n",
        encoding="utf-8",
    )
    settings = load_settings(data)
    assert settings.model.quarter.batch_records == batch_records
    seen = {}
    for quarter in QUARTERS:
        read = quarter_build.read_quarter(settings, quarter)
        suite = CountingSuite()
        with warehouse.connect(settings.paths.build_db) as con, warehouse.transaction(con):
            load = quarter_build.load_quarter(con, settings, read, gx=suite)
        seen[quarter] = {"batches": read.intake.n_batches, "offsets": suite.offsets, "load": load}
    return seen


def tables(data: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(data / "warehouse" / "build.duckdb"), read_only=True)
    try:
        out = {}
        for table in warehouse.PUBLISHED_TABLES:
            cols = [
                c for (c,) in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'core' AND table_name = ? ORDER BY column_index",
                    [table],
                ).fetchall()
                if c not in VOLATILE
            ]
            select = ", ".join(f'"{c}"::VARCHAR' for c in cols)
            out[table] = con.execute(f"SELECT {select} FROM core.{table} ORDER BY ALL").fetchall()
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    source = tmp_path_factory.mktemp("demo") / "data"
    generate_demo(source, scale=0.05, quarters=QUARTERS)
    (source / "config.toml").write_text("[inbox]\nsettle_seconds = 0\n", encoding="utf-8")
    small, whole = source.parent / "small", source.parent / "whole"
    shutil.copytree(source, small)
    shutil.copytree(source, whole)
    return {"small": (small, build(small, TINY)), "whole": (whole, build(whole, 10**9))}


def test_small_batches_are_exercised(built):
    _, small = built["small"]
    _, whole = built["whole"]
    for quarter in QUARTERS:
        assert whole[quarter]["batches"] == 1 and whole[quarter]["offsets"] == [0]
        records = small[quarter]["load"].resolution["staff"]
        assert small[quarter]["batches"] >= 5
        offsets = small[quarter]["offsets"]
        assert len(offsets) >= 5 and offsets[0] == 0 and offsets == sorted(offsets) and offsets[-1] < records


def test_small_batches_give_the_tables_one_batch_gives(built):
    small, _ = built["small"]
    whole, _ = built["whole"]
    got, expected = tables(small), tables(whole)
    for table in warehouse.PUBLISHED_TABLES:
        assert got[table] == expected[table], table
    assert len(got["records"]) > 500 and len(got["record_issues"]) > 50
    assert any(r for r in got["staff_rows"] if r[-1] is not None)  # qualification_standard written


def test_small_batches_give_the_issues_the_generator_planted(built):
    """The demo's truth (its own bookkeeping), as tests/test_pipeline_demo.py compares it."""
    small, _ = built["small"]
    key = ["quarter", "reporting_unit", "ma_don_vi", "ma_cb", "field", "rule", "severity"]
    expected = Counter(
        pl.read_csv(small / "demo-truth" / "issues.csv", infer_schema=False).fill_null("").select(key).iter_rows()
    )
    con = duckdb.connect(str(small / "warehouse" / "build.duckdb"), read_only=True)
    try:
        got = Counter(con.execute(
            "SELECT quarter, reporting_unit, ma_don_vi, ma_cb, coalesce(field, ''), rule, severity FROM core.record_issues"
        ).fetchall())
    finally:
        con.close()
    assert got == expected


def test_the_expectation_summary_adds_up_over_chunks(built):
    _, small = built["small"]
    _, whole = built["whole"]
    for quarter in QUARTERS:
        assert small[quarter]["load"].gx_summary == whole[quarter]["load"].gx_summary
        staff = small[quarter]["load"].resolution["staff"]
        assert all(s["element_count"] == staff for s in small[quarter]["load"].gx_summary)


def test_failures_of_a_chunk_are_numbered_from_its_offset():
    staff = staff_frame([clean(ma_cb="BT1"), clean(ma_cb="BT2", dan_toc="Kihn"), clean(ma_cb="BT3", que_quan="   ")])
    failures, summary = run_suite(staff, offset=1000)
    assert sorted(failures.select("row_key", "field").rows()) == [(1001, "dan_toc"), (1002, "que_quan")]
    first, second = run_suite(staff.head(2))[1], run_suite(staff.tail(1), offset=2)[1]
    combined = {(s["expectation"], s["column"]): s for s in combine_summaries([first, second])}
    whole = {(s["expectation"], s["column"]): s for s in summary}
    assert combined == whole
    assert whole[("expect_column_values_to_not_be_null", "que_quan")]["success"] is False
    assert whole[("expect_column_values_to_be_in_set", "dan_toc")]["unexpected_count"] == 1


def test_a_stream_stopped_early_leaves_the_reader_pool_usable(built):
    """A consumer that stops after the first batch (an error while loading)
    stops the read-ahead; the same reader pool then reads the quarter whole."""
    small, _ = built["small"]
    settings = load_settings(small)
    units = read_units(settings.paths.units_csv)
    archive = Archive(settings.paths.archive, settings.tz)
    archive.register(QUARTERS[0], settled_inbox(settings, QUARTERS[0], now_ns=2**62)[0], {})
    limits = IntakeLimits()  # reader processes, the shared pool
    stream = iter(QuarterStream(archive, QUARTERS[0], units, limits=limits, batch_records=1))
    first = next(stream)
    assert first.records.height > 0
    stream.close()
    again = ingest_quarter(archive, QUARTERS[0], units, limits=limits)
    inline = ingest_quarter(archive, QUARTERS[0], units, limits=IntakeLimits(isolate=False))
    assert again.records.height == inline.records.height > first.records.height
    assert again.records.sort("submission_id", "row_number").equals(inline.records.sort("submission_id", "row_number"))

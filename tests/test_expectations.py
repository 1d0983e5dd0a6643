"""The Great Expectations column suite: built from the schema, silent, failures mapped to rows."""

from __future__ import annotations

import polars as pl

from checks.expectations import build_suite, run_suite
from pmis_pipeline import schema
from pmis_pipeline.rules import FORMAT_PATTERNS, VALUE_RANGES, record_issues
from tests.test_rules import Q, RULES_CONFIG, UNITS, clean, staff_frame

NOT_NULL = "expect_column_values_to_not_be_null"
IN_SET = "expect_column_values_to_be_in_set"
REGEX = "expect_column_values_to_match_regex"
BETWEEN = "expect_column_values_to_be_between"
#: The per-record rule each expectation mirrors.
MIRRORS = {NOT_NULL: "required", IN_SET: "not_in_catalog", BETWEEN: "step_out_of_range"}
REGEX_MIRRORS = {"ma_cb": "ma_cb_format", "so_cmnd": "id_number_format"}


def test_suite_is_built_from_the_schema():
    suite = build_suite()
    by_type: dict[str, list[str]] = {}
    for exp in suite.expectations:
        by_type.setdefault(exp.expectation_type, []).append(exp.column)
    assert by_type[NOT_NULL] == [f"raw_{f.key}" for f in schema.FIELDS if f.required == "yes"]
    assert by_type[IN_SET] == [f.key for f in schema.FIELDS if f.catalog or f.kind == "grade"]
    assert by_type[REGEX] == [k for k in schema.KEYS if k in FORMAT_PATTERNS] == ["ma_cb", "so_cmnd"]
    assert by_type[BETWEEN] == ["bac_luong"] and VALUE_RANGES["bac_luong"] == (1, 12)
    between = next(e for e in suite.expectations if e.expectation_type == BETWEEN)
    assert (between.min_value, between.max_value) == (1, 12)


def test_clean_frame_passes_every_expectation():
    staff = staff_frame([clean(ma_cb="BT1"), clean(ma_cb="BT2", gioi_tinh="Nam", so_cmnd="083075001234"), clean(ma_cb="BT3")])
    failures, summary = run_suite(staff)
    assert failures.height == 0
    assert failures.columns == ["row_key", "field", "expectation", "value"]
    assert len(summary) == len(build_suite().expectations)
    for item in summary:
        assert set(item) == {"expectation", "column", "success", "unexpected_count", "element_count"}
        assert item["success"] is True and item["unexpected_count"] == 0 and item["element_count"] == 3
        assert item["column"] in schema.FIELD_BY_KEY


def test_failures_map_back_to_their_rows():
    staff = staff_frame([clean(ma_cb="BT1"), clean(ma_cb="BT2", dan_toc="Kihn"), clean(ma_cb="BT3", que_quan="   ")])
    failures, summary = run_suite(staff)
    assert sorted(failures.rows()) == [(1, "dan_toc", IN_SET, "Kihn"), (2, "que_quan", NOT_NULL, None)]
    keyed = staff.with_row_index("row_key").join(failures.with_columns(pl.col("row_key").cast(pl.UInt32)), on="row_key")
    assert sorted(keyed.select("ma_cb", "field").rows()) == [("BT2", "dan_toc"), ("BT3", "que_quan")]
    failed = {(s["expectation"], s["column"]): s for s in summary if not s["success"]}
    assert set(failed) == {(IN_SET, "dan_toc"), (NOT_NULL, "que_quan")}
    assert all(s["unexpected_count"] == 1 for s in failed.values())


def test_formats_and_step_range():
    staff = staff_frame(
        [clean(ma_cb="BT_1"), clean(ma_cb="BT2", so_cmnd="1234567"), clean(ma_cb="BT3", bac_luong="13"), clean(ma_cb="BT4")]
    )
    failures, _ = run_suite(staff)
    assert sorted(failures.rows()) == [
        (0, "ma_cb", REGEX, "BT_1"),
        (1, "so_cmnd", REGEX, "1234567"),
        (2, "bac_luong", BETWEEN, "13"),
    ]


def test_unreadable_value_is_not_missing():
    """Not-null reads the cell as received: an unreadable date is invalid_value, not required."""
    staff = staff_frame([clean(ngay_sinh="31/02/1980"), clean(ngay_sinh=" ")])
    failures, _ = run_suite(staff)
    assert failures.rows() == [(1, "ngay_sinh", NOT_NULL, None)]


def test_every_failure_mirrors_a_rule_issue():
    records = [
        clean(ma_cb="BT1", dan_toc="Kihn", gioi_tinh="Trai", ma_ngach="15a.299"),
        clean(ma_cb="BT 2!", so_cmnd="1234", bac_luong="0", que_quan=None, ngay_sinh=""),
        clean(ma_cb="BT3", ma_ngach="99.999", bac_luong="13", chuc_vu="Giáo viên chủ nhiệm", tinh_trang="Về hưu"),
        clean(ma_cb="BT4", ho_ten=None, ngay_tuyen_dung="1990", he_so_luong="3,20"),
    ]
    staff = staff_frame(records)
    failures, _ = run_suite(staff)
    assert failures.height >= 10
    issues = record_issues(staff, Q, UNITS, RULES_CONFIG)
    rows = staff.with_row_index("row_key").select(pl.col("row_key").cast(pl.Int64), "submission_id", "row_number")
    mirrored = failures.join(rows, on="row_key").with_columns(
        pl.when(pl.col("expectation") == REGEX)
        .then(pl.col("field").replace_strict(REGEX_MIRRORS))
        .otherwise(pl.col("expectation").replace_strict(MIRRORS))
        .alias("rule")
    )
    missing = mirrored.join(issues, on=["submission_id", "row_number", "field", "rule"], how="anti")
    assert missing.height == 0, missing


def test_gx_is_silent(capfd):
    run_suite(staff_frame([clean(), clean(dan_toc="Kihn")]))
    out, err = capfd.readouterr()
    assert out == "" and err == ""

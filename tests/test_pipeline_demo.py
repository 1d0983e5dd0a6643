"""The whole pipeline on the demo province (scale 0.05): two quarters
materialized for real, every view compared with what the generator wrote."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pmis_pipeline.demo import generate_demo
from tests.conftest import materialize_quarter, query

QUARTERS = ("2009-Q1", "2009-Q2")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("demo")
    generate_demo(data, scale=0.05, quarters=QUARTERS)
    mp = pytest.MonkeyPatch()
    mp.setenv("PMIS_DATA_DIR", str(data))
    for quarter in QUARTERS:
        materialize_quarter(data, quarter)
    yield data
    mp.undo()


def truth(data: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(data / "demo-truth" / f"{name}.csv", infer_schema=False)


def test_staff_counts_per_reporting_unit_equal_what_the_generator_wrote(demo):
    expected = truth(demo, "staff").group_by("quarter", "reporting_unit").len().sort("quarter", "reporting_unit")
    got = query(demo, "SELECT quarter, reporting_unit, count(*) FROM staff GROUP BY ALL ORDER BY 1, 2")
    assert got == [(q, u, n) for q, u, n in expected.iter_rows()]
    assert len(got) >= 8


def test_file_statuses_records_and_duplicates(demo):
    expected = {
        (r["quarter"], r["file_name"]): (r["expected_status"], int(r["n_records"]), bool(r["duplicate_of"]))
        for r in truth(demo, "files").iter_rows(named=True)
    }
    got = {
        (q, f): (s, n, d)
        for q, f, s, n, d in query(
            demo, "SELECT quarter, file_name, status, n_records, duplicate_of IS NOT NULL FROM submissions"
        )
    }
    assert got == expected
    rejected = query(demo, "SELECT file_name, error FROM submissions WHERE status = 'rejected'")
    assert rejected and all(error.startswith(name) for name, error in rejected)


def test_received_times_follow_receipts_and_mtimes(demo):
    expected = {(r["quarter"], r["file_name"]): r["received_at"] for r in truth(demo, "files").iter_rows(named=True)}
    got = dict(
        ((q, f), t) for q, f, t in query(demo, "SELECT quarter, file_name, strftime(received_at, '%Y-%m-%d %H:%M') FROM submissions")
    )
    assert got == expected


def test_values_read_through_every_mess(demo):
    """Names (title case, legacy encodings decoded), dates, identity numbers,
    coefficients and photos of every resolved record equal the truth."""
    cols = ["quarter", "ma_cb", "ho_ten", "ngay_sinh", "gioi_tinh", "so_cmnd", "he_so_luong", "has_photo"]
    expected = truth(demo, "staff").select(cols).with_columns(
        pl.col("he_so_luong").cast(pl.Float64).round(2), (pl.col("has_photo") == "1")
    )
    rows = query(
        demo,
        """SELECT quarter, ma_cb, ho_ten, CASE WHEN ngay_sinh_year_only THEN strftime(ngay_sinh, '%Y')
                  ELSE strftime(ngay_sinh, '%Y-%m-%d') END, gioi_tinh, so_cmnd, he_so_luong::DOUBLE, has_photo
           FROM staff""",
    )
    got = pl.DataFrame(rows, schema=expected.schema, orient="row")
    key = ["quarter", "ma_cb", "ho_ten"]
    diff = got.join(expected, on=cols, how="anti", nulls_equal=True)
    assert diff.sort(key).head(10).to_dicts() == []
    assert got.height == expected.height


def test_every_injected_defect_is_reported(demo):
    defects = truth(demo, "defects").filter(pl.col("quarter").is_in(QUARTERS))
    issues = pl.DataFrame(
        query(demo, "SELECT quarter, ma_cb, field, rule, severity FROM record_issues"),
        schema=["quarter", "ma_cb", "field", "rule", "severity"],
        orient="row",
    )
    lost = set(query(demo, "SELECT quarter, ma_cb FROM lost_records"))
    missing = []
    for d in defects.iter_rows(named=True):
        if d["rule"] == "lost_record":
            if (d["quarter"], d["ma_cb"]) not in lost:
                missing.append(d)
            continue
        rule = d["rule"]
        hit = issues.filter(
            (pl.col("quarter") == d["quarter"]) & (pl.col("ma_cb") == d["ma_cb"]) & (pl.col("rule") == rule)
            & (pl.col("field") == d["field"]) & (pl.col("severity") == d["severity"])
        )
        if hit.height == 0:
            missing.append(d)
    assert missing == []
    assert defects.height > 50


def test_no_clean_record_carries_an_error(demo):
    defective = {(r["quarter"], r["ma_cb"]) for r in truth(demo, "defects").iter_rows(named=True)}
    errors = query(demo, "SELECT DISTINCT quarter, ma_cb, rule FROM record_issues WHERE severity = 'error'")
    wrongly = [e for e in errors if (e[0], e[1]) not in defective]
    assert wrongly == []
    valid = query(demo, "SELECT count(*) FILTER (WHERE is_valid), count(*) FROM staff")[0]
    assert 0 < valid[0] < valid[1]


def test_timeliness_against_the_truth(demo):
    expected = {
        (r["quarter"], r["reporting_unit"]): (r["submitted"] == "1", int(r["days_late"]) if r["days_late"] else None)
        for r in truth(demo, "units_expected").iter_rows(named=True)
        if r["quarter"] in QUARTERS
    }
    got = {(q, u): (s, d) for q, u, s, d in query(demo, "SELECT quarter, reporting_unit, submitted, days_late FROM unit_compliance")}
    assert got == expected


def test_feedback_workbooks_and_documents_exist(demo):
    reports = demo / "warehouse" / "reports" / "2009-Q1"
    feedback = sorted(p.stem for p in (reports / "phan-hoi").glob("*.xlsx"))
    units = [u for (u,) in query(demo, "SELECT DISTINCT reporting_unit FROM submissions WHERE quarter = '2009-Q1' AND reporting_unit IS NOT NULL ORDER BY 1")]
    assert feedback == units
    assert (reports / "thong-bao-ket-qua-2009-Q1.xlsx").is_file()
    assert len(list((reports / "thanh-toan").glob("*.xlsx"))) == 3


def test_catalog_proposals_match_what_the_generator_planted(demo):
    expected = {
        (r["quarter"], r["ma_don_vi"], {"not_in_catalog": "add_unit", "name_differs": "review_name"}[r["issue"]])
        for r in truth(demo, "catalog_review").iter_rows(named=True)
        if r["quarter"] in QUARTERS
    }
    got = set(query(demo, "SELECT quarter, ma_don_vi, proposal FROM catalog_proposals"))
    # schools used in records but absent from the catalog are proposed too (the unit_unknown defects)
    unknown = {
        (r["quarter"], r["ma_don_vi"], "add_unit")
        for r in truth(demo, "defects").iter_rows(named=True)
        if r["rule"] == "unit_unknown" and r["quarter"] in QUARTERS
    }
    assert got == expected | unknown
    import openpyxl

    wb = openpyxl.load_workbook(demo / "warehouse" / "reports" / "2009-Q1" / "ra-soat-2009-Q1.xlsx")
    assert wb.sheetnames == ["Danh muc", "Tep bi tu choi", "Don vi"]


def test_feedback_names_the_file_and_row_of_each_problem(demo):
    import openpyxl

    unit, file_name, row_number = query(
        demo,
        """SELECT i.reporting_unit, f.file_name, i.row_number FROM record_issues i
           JOIN submissions f USING (quarter, submission_id)
           WHERE i.quarter = '2009-Q1' AND i.severity = 'error' ORDER BY 1, 2, 3 LIMIT 1""",
    )[0]
    ws = openpyxl.load_workbook(demo / "warehouse" / "reports" / "2009-Q1" / "phan-hoi" / f"{unit}.xlsx")["Chi tiet"]
    texts = {str(c.value) for row in ws.iter_rows() for c in row if c.value is not None}
    assert "Tệp, dòng" in texts
    assert f"{file_name}, dòng {row_number}" in texts

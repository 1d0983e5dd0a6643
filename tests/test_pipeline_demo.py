"""The whole pipeline on the demo province (scale 0.05): two quarters
materialized for real, every view compared with what the generator wrote
(``demo-truth/``: the generator's own bookkeeping and scoring, never the
pipeline's code): files, staff, every issue both ways, lost records,
compliance scores and ranks, payment lines."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import materialized_demo, query

QUARTERS = ("2009-Q1", "2009-Q2")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    with materialized_demo(tmp_path_factory.mktemp("demo"), QUARTERS) as data:
        yield data


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


ISSUE_KEY = ["quarter", "reporting_unit", "ma_don_vi", "ma_cb", "field", "rule", "severity"]


def test_record_issues_equal_the_truth_both_ways(demo):
    """Every issue the generator expects (errors and warnings) is reported, and no
    record carries an issue the generator did not expect, copy for copy."""
    expected = Counter(truth(demo, "issues").fill_null("").select(ISSUE_KEY).iter_rows())
    got = Counter(query(demo, f"SELECT {', '.join(ISSUE_KEY[:4])}, coalesce(field, ''), rule, severity FROM record_issues"))
    missing, extra = expected - got, got - expected
    assert sorted(missing.elements())[:20] == [] and sorted(extra.elements())[:20] == []
    assert got == expected
    rules = {(rule, severity) for *_, rule, severity in expected}
    assert {("year_only_date", "warning"), ("photo_missing", "warning"), ("required", "error")} <= rules
    valid = query(demo, "SELECT count(*) FILTER (WHERE is_valid), count(*) FROM staff")[0]
    assert 0 < valid[0] < valid[1]


def test_lost_records_equal_the_truth(demo):
    expected = {
        (r["quarter"], r["reporting_unit"], r["ma_cb"])
        for r in truth(demo, "defects").iter_rows(named=True)
        if r["rule"] == "lost_record"
    }
    got = set(query(demo, "SELECT quarter, reporting_unit, ma_cb FROM lost_records"))
    assert got == expected and got


COMPLIANCE = [
    "quarter", "reporting_unit", "loai", "submitted", "first_received_at", "deadline", "days_late", "n_records",
    "completeness_pct", "accuracy_pct", "photo_pct", "lost_records", "score", "rank",
]


def test_compliance_scores_and_ranks_equal_the_truth(demo):
    """The generator's own scoring (contract's default rules, exact decimals) of every
    reporting unit in every quarter, percentages and scores to two decimals."""
    expected = sorted(
        (q, u, loai, s == "1", first or None, deadline, int(late) if late else None, int(n),
         float(c), float(a), float(p), int(lost), float(score), int(rank))
        for q, u, loai, s, first, deadline, late, n, c, a, p, lost, score, rank
        in truth(demo, "compliance").filter(pl.col("quarter").is_in(QUARTERS)).select(COMPLIANCE).iter_rows()
    )
    got = sorted(
        query(
            demo,
            """SELECT quarter, reporting_unit, loai, submitted, strftime(first_received_at, '%Y-%m-%d %H:%M'),
                      strftime(deadline, '%Y-%m-%d'), days_late, n_records, round(completeness_pct, 2),
                      round(accuracy_pct, 2), round(photo_pct, 2), lost_records, round(score, 2), rank
               FROM unit_compliance""",
        )
    )
    assert [r for r in got if r not in expected] == [] and [r for r in expected if r not in got] == []
    assert got == expected
    assert any(late for *_, late, _n, _c, _a, _p, _l, _s, _r in got if late)  # a late unit
    assert any(not submitted for _q, _u, _l, submitted, *_ in got)  # a silent unit


def test_payments_equal_the_truth(demo):
    """Payment lines per quarter: each record paid once in the year, in its first
    quarter without an error, to the unit that sent it, at the default rates."""
    cols = ["quarter", "payee", "payee_type", "item", "n_records", "rate_vnd", "amount_vnd"]
    expected = sorted(
        (q, payee, kind, item, int(n), int(rate), int(amount))
        for q, payee, kind, item, n, rate, amount
        in truth(demo, "payments").filter(pl.col("quarter").is_in(QUARTERS)).select(cols).iter_rows()
    )
    got = sorted(query(demo, f"SELECT {', '.join(cols)} FROM payments"))
    assert got == expected
    holds = sorted(
        (q, u, int(n), int(before) if before else None, int(schools))
        for q, u, n, before, schools in truth(demo, "payment_holds").filter(pl.col("quarter").is_in(QUARTERS)).iter_rows()
    )
    got_holds = sorted(query(demo, "SELECT quarter, reporting_unit, n_records, previous_records, schools FROM payment_holds"))
    assert got_holds == holds
    paid = {q: sum(amount for q2, *_, amount in got if q2 == q) for q in QUARTERS}
    assert paid[QUARTERS[0]] > paid[QUARTERS[1]] > 0  # most records are paid in the first quarter


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

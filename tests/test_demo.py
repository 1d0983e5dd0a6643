"""The demo province generator (pmis_pipeline.demo) at a small scale.

One generation is shared by the module (scale 0.05 takes a few seconds);
the determinism test makes a second one.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter, defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path, PurePosixPath

import fastexcel
import pytest
from PIL import Image

from pmis_pipeline import reference, schema
from pmis_pipeline.demo import NOT_DEFECTS, RULE_SEVERITY, DemoSummary, generate_demo, timezone
from pmis_pipeline.quarters import parse_quarter_text
from pmis_pipeline.textnorm import header_key

SCALE = 0.05
QUARTERS = ("2009-Q1", "2009-Q2", "2009-Q3", "2009-Q4")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, DemoSummary]:
    data = tmp_path_factory.mktemp("demo") / "data"
    return data, generate_demo(data, scale=SCALE, seed=2009)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def truth(data: Path, name: str) -> list[dict[str, str]]:
    return read_csv(data / "demo-truth" / name)


def workbook_bytes(path: Path) -> bytes:
    """The workbook itself: the file, or the one workbook at the root of a zip."""
    data = path.read_bytes()
    if path.suffix.lower() != ".zip":
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        books = [n for n in zf.namelist() if "/" not in n and n.lower().endswith((".xls", ".xlsx"))]
        assert len(books) == 1, f"{path.name}: {books}"
        return zf.read(books[0])


def sheet_rows(book: bytes, sheet: str) -> list[tuple]:
    reader = fastexcel.read_excel(book)
    frame = reader.load_sheet(sheet, header_row=None, dtypes="string").to_polars()
    return list(frame.iter_rows())


def hoso_header_index(rows: list[tuple]) -> int:
    """Row index of the HoSo header (a title row may come first)."""
    for i, row in enumerate(rows[:15]):
        keys = {schema.HEADER_KEYS.get(header_key(v)) for v in row if v}
        if {"ma_cb", "ma_don_vi", "ho_ten"} <= keys:
            return i
    raise AssertionError("no HoSo header row")


def info_values(book: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for row in sheet_rows(book, schema.SHEET_INFO):
        if len(row) >= 2 and row[0] and row[1]:
            key = schema.LABEL_KEYS.get(header_key(row[0]))
            if key:
                out.setdefault(key, row[1].strip())
    return out


def inbox_files(data: Path) -> dict[tuple[str, str], Path]:
    return {
        (q.name, p.name): p
        for q in sorted((data / "inbox").iterdir())
        for p in sorted(q.iterdir())
        if p.name != "receipts.csv"
    }


# ---------------------------------------------------------------------------


def test_same_seed_same_bytes_and_cells(demo, tmp_path):
    data, summary = demo
    other = tmp_path / "again"
    summary2 = generate_demo(other, scale=SCALE, seed=2009)
    assert summary2.n_records == summary.n_records and summary2.n_files == summary.n_files
    for name in ("files.csv", "staff.csv", "defects.csv", "issues.csv", "units_expected.csv", "compliance.csv",
                 "payments.csv", "payment_holds.csv", "catalog_review.csv"):
        assert (data / "demo-truth" / name).read_bytes() == (other / "demo-truth" / name).read_bytes(), name
    assert (data / "catalog" / "units.csv").read_bytes() == (other / "catalog" / "units.csv").read_bytes()
    first, second = inbox_files(data), inbox_files(other)
    assert list(first) == list(second)
    statuses = {(r["quarter"], r["file_name"]): r["expected_status"] for r in truth(data, "files.csv")}
    for key, path in first.items():
        assert path.read_bytes() == second[key].read_bytes(), key
        assert path.stat().st_mtime == second[key].stat().st_mtime, key
        if statuses[key] != "rejected":
            assert sheet_rows(workbook_bytes(path), schema.SHEET_RECORDS) == sheet_rows(
                workbook_bytes(second[key]), schema.SHEET_RECORDS
            ), key


def test_other_seed_other_province(demo, tmp_path):
    data, _ = demo
    other = tmp_path / "seed7"
    generate_demo(other, scale=SCALE, seed=7, quarters=("2009-Q1",))
    assert (other / "demo-truth" / "staff.csv").read_bytes() != (data / "demo-truth" / "staff.csv").read_bytes()
    assert sorted(p.name for p in (other / "inbox").iterdir()) == ["2009-Q1"]


def test_catalog_structure(demo):
    data, summary = demo
    units = read_csv(data / "catalog" / "units.csv")
    assert list(units[0]) == ["ma_don_vi", "ten_don_vi", "loai", "ma_don_vi_bao_cao", "cap_hoc", "huyen"]
    by_code = {u["ma_don_vi"]: u for u in units}
    assert len(by_code) == len(units) == summary.n_units
    kinds = Counter(u["loai"] for u in units)
    assert kinds["phong"] >= 2 and kinds["truc_thuoc"] >= 3 and kinds["truong"] >= 10
    assert kinds["phong"] + kinds["truc_thuoc"] == summary.n_reporting_units
    for u in units:
        assert u["ma_don_vi"].isascii() and len(u["ma_don_vi"]) <= 20
        if u["loai"] == "truong":
            assert by_code[u["ma_don_vi_bao_cao"]]["loai"] == "phong", u
            assert u["ma_don_vi"].startswith(u["ma_don_vi_bao_cao"] + "-")
            assert u["cap_hoc"] in ("Mầm non", "Tiểu học", "THCS")
        else:
            assert u["ma_don_vi_bao_cao"] == u["ma_don_vi"], u
    assert any(u["cap_hoc"] == "THPT" for u in units) and any(u["cap_hoc"] == "GDTX" for u in units)


def test_inbox_matches_files_truth(demo):
    data, summary = demo
    files = truth(data, "files.csv")
    assert {(r["quarter"], r["file_name"]) for r in files} == set(inbox_files(data))
    assert len(files) == summary.n_files
    assert sorted(p.name for p in (data / "inbox").iterdir()) == list(QUARTERS)


def test_every_file_readable_except_intended_rejects(demo):
    data, _ = demo
    catalog = {u["ma_don_vi"] for u in read_csv(data / "catalog" / "units.csv") if u["loai"] != "truong"}
    reasons = Counter()
    for r in truth(data, "files.csv"):
        path = data / "inbox" / r["quarter"] / r["file_name"]
        if r["expected_status"] != "rejected":
            book = workbook_bytes(path)
            names = fastexcel.read_excel(book).sheet_names
            assert schema.SHEET_INFO in names and schema.SHEET_RECORDS in names, r["file_name"]
            info = info_values(book)
            assert info["reporting_unit"] == r["reporting_unit"]
            if r["encoding"] in ("nfc", "nfd"):  # legacy files need decoding first
                assert parse_quarter_text(info["quarter"]).key == r["quarter"], info["quarter"]
            rows = sheet_rows(book, schema.SHEET_RECORDS)
            start = hoso_header_index(rows) + 1
            body = [row for row in rows[start:] if any(v is not None and v.strip() for v in row)]
            assert len(body) == int(r["n_records"]), r["file_name"]
            continue
        reasons[r["reject_reason"]] += 1
        assert r["n_records"] == "0"
        if r["reject_reason"] == "unreadable":
            with pytest.raises(Exception):
                fastexcel.read_excel(path.read_bytes()).sheet_names  # noqa: B018
            continue
        book = workbook_bytes(path)
        names = fastexcel.read_excel(book).sheet_names
        if r["reject_reason"] == "no_hoso_sheet":
            assert schema.SHEET_RECORDS not in names
        elif r["reject_reason"] == "unknown_reporting_unit":
            assert info_values(book)["reporting_unit"] not in catalog
        else:
            assert r["reject_reason"] == "quarter_mismatch"
            assert parse_quarter_text(info_values(book)["quarter"]).key != r["quarter"]
    assert set(reasons) == {"unreadable", "unknown_reporting_unit", "quarter_mismatch", "no_hoso_sheet"}


def test_truth_counts_consistent(demo):
    data, summary = demo
    files = truth(data, "files.csv")
    staff = truth(data, "staff.csv")
    assert len(staff) == summary.n_records
    status = {(r["quarter"], r["file_name"]): r["expected_status"] for r in files}
    n_records = {(r["quarter"], r["file_name"]): int(r["n_records"]) for r in files}
    for q in QUARTERS:
        readable = sum(n for (fq, _), n in n_records.items() if fq == q and status[(fq, _)] != "rejected")
        assert readable >= sum(1 for s in staff if s["quarter"] == q)
    per_file = Counter((s["quarter"], s["file_name"]) for s in staff)
    for key, n in per_file.items():
        assert status[key] == "accepted", key
        assert n <= n_records[key]
    for key, st in status.items():
        if st == "accepted":
            assert per_file[key] > 0, key
        else:
            assert per_file[key] == 0, key
    assert set(Counter(r["expected_status"] for r in files)) == {"accepted", "superseded", "rejected"}
    # the exact duplicate: same bytes as the file it copies, both superseded by a correction
    dups = [r for r in files if r["duplicate_of"]]
    assert len(dups) == 1
    d = dups[0]
    assert (data / "inbox" / d["quarter"] / d["file_name"]).read_bytes() == (
        data / "inbox" / d["quarter"] / d["duplicate_of"]
    ).read_bytes()
    assert status[(d["quarter"], d["file_name"])] == status[(d["quarter"], d["duplicate_of"])] == "superseded"
    # units: every reporting unit has a line per quarter; one of them is silent somewhere
    units = truth(data, "units_expected.csv")
    assert len(units) == summary.n_reporting_units * len(QUARTERS)
    assert any(u["submitted"] == "0" and u["days_late"] == "" for u in units)
    assert truth(data, "units_expected_late.csv")
    rows_by_unit = Counter((s["quarter"], s["reporting_unit"]) for s in staff)
    for u in units:
        assert int(u["n_records"]) == rows_by_unit[(u["quarter"], u["reporting_unit"])]


def test_clean_records_match_the_salary_table(demo):
    data, _ = demo
    errors = {(d["quarter"], d["reporting_unit"], d["ma_don_vi"], d["ma_cb"])
              for d in truth(data, "defects.csv") if d["severity"] == "error"}
    salary = {(d["quarter"], d["reporting_unit"], d["ma_don_vi"], d["ma_cb"])
              for d in truth(data, "defects.csv") if d["rule"] in ("step_out_of_range", "coefficient_mismatch")}
    grades = set(reference.grades()["ma_ngach"].to_list())
    checked = 0
    for s in truth(data, "staff.csv"):
        key = (s["quarter"], s["reporting_unit"], s["ma_don_vi"], s["ma_cb"])
        if key in salary:
            continue
        assert s["ma_ngach"] in grades
        expected = reference.grade_group(s["ma_ngach"]).coefficient(int(s["bac_luong"]))
        assert Decimal(s["he_so_luong"]) == expected, s
        checked += key not in errors
    assert checked > 1000


def test_defects_cover_every_rule(demo):
    data, _ = demo
    defects = truth(data, "defects.csv")
    assert {d["rule"] for d in defects} == set(RULE_SEVERITY) - NOT_DEFECTS
    assert {d["rule"] for d in truth(data, "issues.csv")} == set(RULE_SEVERITY) - {"lost_record"}
    for d in defects:
        # the unit that alone carried a person last quarter gets a warning when another unit sends them too
        allowed = {RULE_SEVERITY[d["rule"]]} | ({"warning"} if d["rule"] == "duplicate_across_units" else set())
        assert d["severity"] in allowed
        assert d["field"] in schema.KEYS or (d["field"] == "" and d["rule"] == "lost_record"), d
    named = {d["rule"]: d["field"] for d in defects}
    assert named["past_retirement_age"] == "tinh_trang"
    assert named["coefficient_mismatch"] == "he_so_luong"
    assert named["step_out_of_range"] == "bac_luong"
    assert named["cccd_mismatch"] == "so_cmnd"
    assert named["duplicate_ma_cb"] == named["duplicate_across_units"] == "ma_cb"
    # a record-level defect names a resolved staff row; a duplicated person is flagged on every copy
    staff_keys = Counter((s["quarter"], s["reporting_unit"], s["ma_don_vi"], s["ma_cb"]) for s in truth(data, "staff.csv"))
    for d in defects:
        key = (d["quarter"], d["reporting_unit"], d["ma_don_vi"], d["ma_cb"])
        if d["rule"] != "lost_record":
            assert key in staff_keys, d
    across = defaultdict(set)
    for d in defects:
        if d["rule"] == "duplicate_across_units":
            across[(d["quarter"], d["ma_cb"])].add(d["reporting_unit"])
    assert all(len(units) >= 2 for units in across.values())


def test_messy_values_are_there(demo):
    data, _ = demo
    files = truth(data, "files.csv")
    encodings = Counter(r["encoding"] for r in files)
    assert encodings["tcvn3"] >= 1 and encodings["vni"] >= 1
    # single legacy cells in Unicode files, in both fonts
    assert any("pasted in VNI" in r["note"] for r in files) and any("pasted in TCVN3" in r["note"] for r in files)
    assert Counter(r["format"] for r in files).keys() >= {"xls", "xlsx"}
    assert any(r["format"].startswith("zip") for r in files)
    evil = [r for r in files if "evil" in r["note"]]
    assert len(evil) == 1
    with zipfile.ZipFile(data / "inbox" / evil[0]["quarter"] / evil[0]["file_name"]) as zf:
        assert "../evil.txt" in zf.namelist()
    staff = truth(data, "staff.csv")
    assert any(len(s["ngay_sinh"]) == 4 for s in staff)  # bare years
    assert any(s["so_cmnd"].startswith("0") for s in staff)  # leading zeros to restore
    assert any(len(s["so_cmnd"]) == 12 for s in staff)
    # cells as they arrive: text dates, decimal commas, numeric identity numbers
    seen = Counter()
    for r in files:
        if r["expected_status"] == "rejected" or r["encoding"] != "nfc":
            continue
        rows = sheet_rows(workbook_bytes(data / "inbox" / r["quarter"] / r["file_name"]), schema.SHEET_RECORDS)
        for row in rows:
            for v in row:
                if v and len(v) == 10 and v[2] in "/-." and v[5] in "/-.":
                    seen["text date"] += 1
                elif v and "," in v and v.replace(",", "").isdigit():
                    seen["decimal comma"] += 1
    assert seen["text date"] > 100 and seen["decimal comma"] > 10


def test_photos_back_has_photo(demo):
    data, _ = demo
    files = truth(data, "files.csv")
    valid: dict[str, str] = {}  # ma_cb -> first quarter with a valid photo
    for r in sorted(files, key=lambda r: r["quarter"]):
        if r["expected_status"] == "rejected" or not r["file_name"].endswith(".zip"):
            continue
        with zipfile.ZipFile(data / "inbox" / r["quarter"] / r["file_name"]) as zf:
            for name in zf.namelist():
                parts = PurePosixPath(name).parts
                if len(parts) != 2 or parts[0] != "anh":
                    continue
                try:
                    with Image.open(io.BytesIO(zf.read(name))) as img:
                        img.verify()
                except Exception:
                    continue
                valid.setdefault(PurePosixPath(name).stem, r["quarter"])
    assert valid
    for s in truth(data, "staff.csv"):
        expected = s["ma_cb"] in valid and valid[s["ma_cb"]] <= s["quarter"]
        assert (s["has_photo"] == "1") == expected, s


def test_received_times(demo):
    data, _ = demo
    tz = timezone()
    for q in QUARTERS:
        receipts = {r["file"]: r["received_at"] for r in read_csv(data / "inbox" / q / "receipts.csv")}
        for r in truth(data, "files.csv"):
            if r["quarter"] != q:
                continue
            path = data / "inbox" / q / r["file_name"]
            if r["received_source"] == "receipts":
                assert receipts[r["file_name"]] == r["received_at"]
            else:
                assert r["file_name"] not in receipts
                local = datetime.fromtimestamp(path.stat().st_mtime, tz).strftime("%Y-%m-%d %H:%M")
                assert local == r["received_at"]


# ---------------------------------------------------------------- the truth of issues, ranking, payments

ISSUE_KEY = ("quarter", "reporting_unit", "ma_don_vi", "ma_cb", "field", "rule", "severity")


def test_issues_are_the_defects_and_the_warnings_that_are_no_defect(demo):
    """issues.csv (every record issue, both ways the oracle of record_issues) = the
    defects but lost records + a year-only warning on every bare birth year of
    staff.csv + the missing-photo warnings, none on a record with a photo."""
    data, _ = demo
    issues = Counter(tuple(d[k] for k in ISSUE_KEY) for d in truth(data, "issues.csv"))
    defects = Counter(tuple(d[k] for k in ISSUE_KEY) for d in truth(data, "defects.csv") if d["rule"] != "lost_record")
    rest = issues - defects
    assert issues - rest == defects
    assert {k[5] for k in rest} == NOT_DEFECTS
    staff = truth(data, "staff.csv")
    bare_years = Counter((s["quarter"], s["reporting_unit"], s["ma_don_vi"], s["ma_cb"]) for s in staff if len(s["ngay_sinh"]) == 4)
    assert Counter(k[:4] for k in rest.elements() if k[5] == "year_only_date") == bare_years
    assert all(k[4] == "ngay_sinh" and k[6] == "warning" for k in rest if k[5] == "year_only_date")
    with_photo = {(s["quarter"], s["ma_cb"]) for s in staff if s["has_photo"] == "1"}
    photo = [k for k in rest if k[5] == "photo_missing"]
    assert photo and all(k[4] == "anh" and k[6] == "warning" and (k[0], k[3]) not in with_photo for k in photo)


def _errors_by_row(data: Path) -> Counter:
    return Counter(
        (d["quarter"], d["reporting_unit"], d["ma_don_vi"], d["ma_cb"])
        for d in truth(data, "issues.csv") if d["severity"] == "error"
    )


def _half_up(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")


def test_compliance_truth_follows_the_contracts_rules(demo):
    """Each unit's figures agree with staff.csv, issues.csv and units_expected.csv; the
    score is 0.4 x timeliness + 0.3 x completeness + 0.3 x accuracy of the rounded
    figures (exact decimals, half up); ranks are 1..n per group by score, then first
    receipt, then code."""
    data, summary = demo
    compliance = truth(data, "compliance.csv")
    units = {(u["quarter"], u["reporting_unit"]): u for u in truth(data, "units_expected.csv")}
    assert len(compliance) == len(units) == summary.n_reporting_units * len(QUARTERS)
    staff = truth(data, "staff.csv")
    errors = _errors_by_row(data)
    required = Counter((d["quarter"], d["reporting_unit"]) for d in truth(data, "issues.csv") if d["rule"] == "required")

    rows = defaultdict(list)
    for s in staff:
        rows[(s["quarter"], s["reporting_unit"])].append(s)
    for c in compliance:
        u = units[(c["quarter"], c["reporting_unit"])]
        for k in ("loai", "submitted", "first_received_at", "deadline", "days_late", "n_records", "lost_records"):
            assert c[k] == str(u[k]), (c, k)
        mine = rows[(c["quarter"], c["reporting_unit"])]
        valid = sum(1 for s in mine if not errors[(s["quarter"], s["reporting_unit"], s["ma_don_vi"], s["ma_cb"])])
        share = (lambda n: _half_up(Decimal(100) * n / len(mine)) if mine else Decimal("0.00"))
        assert Decimal(c["accuracy_pct"]) == share(valid), c
        assert Decimal(c["photo_pct"]) == share(sum(s["has_photo"] == "1" for s in mine)), c
        # every blank required cell is a `required` error: without one, every cell is filled
        blanks, pct = required[(c["quarter"], c["reporting_unit"])], Decimal(c["completeness_pct"])
        if not mine:
            assert pct == 0, c
        elif not blanks:
            assert pct == 100, c
        else:  # at least `blanks` of at most n x (required keys) cells are missing
            assert pct <= _half_up(100 - Decimal(100) * blanks / (len(mine) * len(schema.REQUIRED_KEYS))), c
        timeliness = Decimal(max(0, 100 - 5 * int(c["days_late"]))) if c["submitted"] == "1" else Decimal(0)
        assert Decimal(c["timeliness"]) == timeliness
        score = _half_up(Decimal("0.4") * timeliness + Decimal("0.3") * Decimal(c["completeness_pct"])
                         + Decimal("0.3") * Decimal(c["accuracy_pct"]))
        assert Decimal(c["score"]) == score, c
    for q in QUARTERS:
        for kind in ("phong", "truc_thuoc"):
            group = [c for c in compliance if c["quarter"] == q and c["loai"] == kind]
            order = sorted(group, key=lambda c: (-Decimal(c["score"]), c["first_received_at"] or "9999", c["reporting_unit"]))
            assert [int(c["rank"]) for c in order] == list(range(1, len(group) + 1))
    assert any(c["days_late"] not in ("", "0") for c in compliance)
    assert any(c["submitted"] == "0" and c["score"] == "0.00" for c in compliance)


def test_payments_truth_pays_each_person_once_a_year(demo):
    """Lines follow from staff.csv and issues.csv: a person is paid in the first
    quarter of the year with an error-free record, to the unit that sent it (unless
    its count is held as implausible); district offices get two lines, direct units
    one, the Department two."""
    data, _ = demo
    errors = _errors_by_row(data)
    held = {(h["quarter"], h["reporting_unit"]) for h in truth(data, "payment_holds.csv")}
    kinds = {u["ma_don_vi"]: u["loai"] for u in read_csv(data / "catalog" / "units.csv")}
    paid: set[str] = set()
    expected = []
    for q in QUARTERS:
        now: dict[str, str] = {}
        for s in truth(data, "staff.csv"):
            if (s["quarter"] == q and not errors[(q, s["reporting_unit"], s["ma_don_vi"], s["ma_cb"])]
                    and (q, s["reporting_unit"]) not in held and s["ma_cb"] not in paid):
                now.setdefault(s["ma_cb"], s["reporting_unit"])
        paid |= set(now)
        per_unit = Counter(now.values())
        for unit, n in per_unit.items():
            items = ("nhap_lieu", "tong_hop_kiem_tra") if kinds[unit] == "phong" else ("nhap_lieu",)
            expected += [(q, unit, kinds[unit], item, n, 1000, n * 1000) for item in items]
        n_phong = sum(n for unit, n in per_unit.items() if kinds[unit] == "phong")
        n_direct = sum(n for unit, n in per_unit.items() if kinds[unit] == "truc_thuoc")
        expected += [(q, "SO", "so", "tong_hop_phong", n_phong, 1000, n_phong * 1000),
                     (q, "SO", "so", "tong_hop_truc_thuoc", n_direct, 2000, n_direct * 2000)]
    got = [(p["quarter"], p["payee"], p["payee_type"], p["item"], int(p["n_records"]), int(p["rate_vnd"]),
            int(p["amount_vnd"])) for p in truth(data, "payments.csv")]
    assert sorted(got) == sorted(expected)
    assert all(n > 0 for _q, payee, *_rest in got if payee != "SO" for n in [_rest[2]])


def test_a_mistyped_school_code_is_corrected_by_the_later_file(demo):
    """Each quarter one draft carries a person under a school code that no later file
    gives; the unit's later file carries the person: the draft is superseded and the
    person stands once, from the later file, under the right school."""
    data, _ = demo
    files = {(r["quarter"], r["file_name"]): r for r in truth(data, "files.csv")}
    staff = truth(data, "staff.csv")
    seen = 0
    for (q, name), r in files.items():
        for note in r["note"].split("; "):
            if " typed " not in note:
                continue
            seen += 1
            code, rest = note.split(": school ")
            right, wrong = rest.split(" typed ")
            assert r["expected_status"] == "superseded"
            standing = [s for s in staff if s["quarter"] == q and s["ma_cb"] == code]
            assert [(s["ma_don_vi"], s["reporting_unit"]) for s in standing] == [(right, r["reporting_unit"])]
            later = files[(q, standing[0]["file_name"])]
            assert later["received_at"] > r["received_at"] and later["reporting_unit"] == r["reporting_unit"]
            assert not any(s["ma_don_vi"] == wrong for s in staff if s["quarter"] == q)
    assert seen == len(QUARTERS)

"""The script a user would otherwise write: pandas + openpyxl/xlrd + Great Expectations + DuckDB.

    .venv/bin/python bench/user_script.py DATA_DIR QUARTER OUT.duckdb

What a capable analyst writes in an afternoon to do the core of a quarter by
hand, for bench/province_bench.py to compare the pipeline with (issue 11):

* read EVERY file of the quarter's inbox (``.xlsx`` with openpyxl, ``.xls``
  with xlrd, a ``.zip``'s workbook), through ``pandas.read_excel``; the
  ``ThongTin`` sheet gives the reporting unit, ``HoSo`` the records (header row
  found by its ``Mã cán bộ`` cell, headers matched by name, without regard to
  case or diacritics);
* validate them with a Great Expectations 1.x suite equivalent to the
  pipeline's (``checks/expectations.py``): not-null for every required field,
  value sets of every catalog field and the grade code, the formats of
  ``ma_cb`` and ``so_cmnd``, the salary step's range; the catalogs are read
  from the same reference CSV files;
* load the records and the failing values into a DuckDB file.

It does much less than the pipeline (no legacy encodings, no typed values,
no re-submissions, no cross-record checks, no ranking, payments, documents,
isolation or atomicity): it is the floor a user would compare with. It
imports nothing of the project, so it pays its own imports.
"""

from __future__ import annotations

import io
import os
import sys
import time
import unicodedata
import zipfile
from pathlib import Path

STARTED = time.perf_counter()
os.environ["GX_ANALYTICS_ENABLED"] = "False"

import duckdb  # noqa: E402
import great_expectations as gx  # noqa: E402
import pandas as pd  # noqa: E402

REFERENCE = Path(__file__).resolve().parent.parent / "pmis_pipeline" / "reference"

# The template's columns (the contract), with the aliases units use.
COLUMNS = {
    "stt": "row_no", "ma can bo": "ma_cb", "ma cb": "ma_cb", "ma so can bo": "ma_cb", "ma don vi": "ma_don_vi",
    "ma truong": "ma_don_vi", "ho va ten": "ho_ten", "ho ten": "ho_ten", "ho va ten khai sinh": "ho_ten",
    "ngay sinh": "ngay_sinh", "ngay thang nam sinh": "ngay_sinh", "gioi tinh": "gioi_tinh", "phai": "gioi_tinh",
    "dan toc": "dan_toc", "ton giao": "ton_giao", "que quan": "que_quan", "so cmnd": "so_cmnd",
    "so cmnd/cccd": "so_cmnd", "ngay tuyen dung": "ngay_tuyen_dung", "ngay vao nganh": "ngay_vao_nganh",
    "hinh thuc": "hinh_thuc", "chuc vu": "chuc_vu", "ma ngach": "ma_ngach", "bac luong": "bac_luong",
    "he so luong": "he_so_luong", "he so": "he_so_luong", "trinh do chuyen mon": "trinh_do",
    "chuyen nganh": "chuyen_nganh", "mon day": "mon_day", "ly luan chinh tri": "ly_luan_ct",
    "ngoai ngu": "ngoai_ngu", "tin hoc": "tin_hoc", "dang vien": "dang_vien", "ngay vao dang": "ngay_vao_dang",
    "tinh trang": "tinh_trang", "anh": "anh", "ghi chu": "ghi_chu",
}
REQUIRED = ("ma_cb", "ma_don_vi", "ho_ten", "ngay_sinh", "gioi_tinh", "dan_toc", "ton_giao", "que_quan", "so_cmnd",
            "ngay_tuyen_dung", "ngay_vao_nganh", "hinh_thuc", "chuc_vu", "ma_ngach", "bac_luong", "he_so_luong",
            "trinh_do", "chuyen_nganh", "tinh_trang")
CATALOG_FIELDS = ("gioi_tinh", "dan_toc", "ton_giao", "hinh_thuc", "chuc_vu", "trinh_do", "ly_luan_ct", "tin_hoc",
                  "dang_vien", "tinh_trang")
PATTERNS = {"ma_cb": r"^[A-Z0-9.\-]{1,20}$", "so_cmnd": r"^(?:[0-9]{9}|[0-9]{12})$"}


def key(text: object) -> str:
    text = unicodedata.normalize("NFD", str(text)).replace("đ", "d").replace("Đ", "D")
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).lower().split())


def workbook(path: Path) -> tuple[io.BytesIO | Path, str] | None:
    suffix = path.suffix.lower()
    if suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if "/" not in n and n.lower().endswith((".xls", ".xlsx"))]
            if not names:
                return None
            return io.BytesIO(zf.read(names[0])), names[0].rsplit(".", 1)[-1].lower()
    return path, suffix.lstrip(".")


def read_file(path: Path) -> pd.DataFrame | None:
    found = workbook(path)
    if found is None:
        return None
    source, kind = found
    sheets = pd.read_excel(source, sheet_name=None, header=None, dtype=str, engine="xlrd" if kind == "xls" else "openpyxl")
    by_key = {key(name): frame for name, frame in sheets.items()}
    info, hoso = by_key.get("thongtin"), by_key.get("hoso")
    if info is None or hoso is None:
        return None
    labels = {key(a): b for a, b in zip(info[0], info[1]) if isinstance(a, str)}
    unit = next((v for k, v in labels.items() if "ma don vi bao cao" in k), None)
    header = next(i for i in range(min(15, len(hoso))) if any(key(v) in ("ma can bo", "ma cb") for v in hoso.iloc[i]))
    frame = hoso.iloc[header + 1:].copy()
    frame.columns = [COLUMNS.get(key(c), f"extra_{i}") for i, c in enumerate(hoso.iloc[header])]
    frame = frame.loc[:, ~frame.columns.duplicated()].dropna(subset=["ma_cb"])
    frame["reporting_unit"] = unit
    frame["file_name"] = path.name
    return frame


def suite(catalogs: pd.DataFrame, grades: pd.DataFrame) -> gx.ExpectationSuite:
    s = gx.ExpectationSuite(name="staff")
    for column in REQUIRED:
        s.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column=column))
    for column in CATALOG_FIELDS:
        values = catalogs.loc[catalogs["catalog"] == column, "value"].tolist()
        s.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(column=column, value_set=values))
    s.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(column="ma_ngach", value_set=grades["ma_ngach"].tolist()))
    for column, pattern in PATTERNS.items():
        s.add_expectation(gx.expectations.ExpectColumnValuesToMatchRegex(column=column, regex=pattern))
    s.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(column="bac_luong", min_value=1, max_value=12))
    return s


def main() -> int:
    data, quarter, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    imported = time.perf_counter() - STARTED
    files = sorted(p for p in (data / "inbox" / quarter).rglob("*") if p.suffix.lower() in (".xls", ".xlsx", ".zip"))
    frames, failed = [], 0
    for path in files:
        try:
            frame = read_file(path)
        except Exception:  # a damaged or hostile file: skipped, as a user's script would
            frame = None
        if frame is None:
            failed += 1
        else:
            frames.append(frame)
    staff = pd.concat(frames, ignore_index=True)
    for column in set(COLUMNS.values()) - set(staff.columns):
        staff[column] = None
    staff["bac_luong"] = pd.to_numeric(staff["bac_luong"], errors="coerce")
    staff["row_key"] = range(len(staff))
    read = time.perf_counter() - STARTED

    context = gx.get_context(mode="ephemeral")
    catalogs = pd.read_csv(REFERENCE / "catalogs.csv", dtype=str)
    grades = pd.read_csv(REFERENCE / "grades.csv", dtype=str)
    batch = (
        context.data_sources.add_pandas("pmis").add_dataframe_asset("staff").add_batch_definition_whole_dataframe("q")
        .get_batch(batch_parameters={"dataframe": staff})
    )
    result = batch.validate(suite(catalogs, grades), result_format={
        "result_format": "COMPLETE", "unexpected_index_column_names": ["row_key"]})
    issues = [
        {"row_key": item["row_key"], "column": r.expectation_config.kwargs["column"], "expectation": r.expectation_config.type,
         "value": None if item.get(r.expectation_config.kwargs["column"]) is None else str(item[r.expectation_config.kwargs["column"]])}
        for r in result.results for item in (r.result or {}).get("unexpected_index_list") or []
    ]
    validated = time.perf_counter() - STARTED

    out.unlink(missing_ok=True)
    with duckdb.connect(str(out)) as con:
        staff_in = staff.astype(str).where(staff.notna(), None)
        con.register("staff_in", staff_in)
        con.execute("CREATE TABLE staff AS SELECT * FROM staff_in")
        con.register("issues_in", pd.DataFrame(issues, columns=["row_key", "column", "expectation", "value"]))
        con.execute("CREATE TABLE issues AS SELECT * FROM issues_in")
        n_staff = con.execute("SELECT count(*) FROM staff").fetchone()[0]
    done = time.perf_counter() - STARTED
    print(
        f"user script: {len(files)} files ({failed} unreadable), {n_staff} records, {len(issues)} failing values; "
        f"imports {imported:.1f}s, read {read - imported:.1f}s, GX {validated - read:.1f}s, DuckDB {done - validated:.1f}s; "
        f"{done:.1f}s after its imports began"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Reading workbooks: header variants, sheets, .xls, .zip and every rejection cause."""

from __future__ import annotations

import zipfile

import pytest

from pmis_pipeline import schema
from pmis_pipeline.reader import RejectedFile, read_submission
from pmis_pipeline.textnorm import strip_diacritics
from tests.workbooks import info_rows, jpeg_bytes, person, write_xls, write_xlsx, write_zip


def test_headers_any_case_diacritics_spacing_and_order(tmp_path):
    keys = list(reversed(schema.KEYS))
    headers = [strip_diacritics(schema.FIELD_BY_KEY[k].header).upper().replace(" ", "  ") for k in keys]
    path = write_xlsx(
        tmp_path / "a.xlsx", info_rows("PGD01", "2009-Q1"), [person("BT000001", "PGD01-TH01")],
        headers=headers + ["Số sổ BHXH"], keys=keys + ["bhxh"],
        title_rows=[["DANH SÁCH CÁN BỘ, GIÁO VIÊN"], []],
    )
    raw = read_submission(path)
    assert set(raw.columns) == set(schema.KEYS)
    assert raw.extras == ["Số sổ BHXH"]
    assert any("Số sổ BHXH" in w for w in raw.warnings)
    assert raw.records["ma_cb"].to_list() == ["BT000001"]
    assert raw.records["_row"].to_list() == [4]  # Excel row under the title rows and the header


def test_info_labels_matched_without_diacritics(tmp_path):
    info = [["MA DON VI BAO CAO", "PGD01"], ["quy", "Quý 1 năm 2009"], ["nguoi lap", "Lê Văn Bình"]]
    raw = read_submission(write_xlsx(tmp_path / "a.xlsx", info, [person("BT1", "PGD01-TH01")]))
    assert raw.info["reporting_unit"] == "PGD01"
    assert raw.info["quarter"] == "Quý 1 năm 2009"
    assert raw.info["prepared_by"] == "Lê Văn Bình"


def test_empty_rows_are_skipped_and_neighbours_kept(tmp_path):
    records = [person("BT1", "PGD01-TH01"), {k: None for k in schema.KEYS}, person("BT2", "PGD01-TH01")]
    raw = read_submission(write_xlsx(tmp_path / "a.xlsx", info_rows("PGD01", "2009-Q1"), records))
    assert raw.records["ma_cb"].to_list() == ["BT1", "BT2"]
    assert raw.records["_row"].to_list() == [2, 4]


def test_xls_reads_text_dates_and_numbers(tmp_path):
    from datetime import date

    rec = person("BT1", "PGD01-TH01", ngay_sinh=date(1975, 5, 12), so_cmnd=12345678, he_so_luong=3.03)
    raw = read_submission(write_xls(tmp_path / "a.xls", info_rows("PGD01", "2009-Q1"), [rec]))
    row = raw.records.row(0, named=True)
    assert row["ngay_sinh"].startswith("1975-05-12")
    assert row["so_cmnd"] == "12345678"
    assert row["he_so_luong"] == "3.03"


def test_zip_with_photos_skips_unsafe_entries(tmp_path):
    book = write_xlsx(tmp_path / "hoso.xlsx", info_rows("THPT01", "2009-Q1"), [person("BT1", "THPT01")])
    path = write_zip(
        tmp_path / "thpt01.zip", book, {"anh/BT1.jpg": jpeg_bytes(), "anh/bt2.PNG": b"not an image"},
        {"../evil.txt": b"x", "/etc/passwd": b"x", "notes/readme.txt": b"x"},
    )
    raw = read_submission(path)
    assert raw.records.height == 1
    assert sorted((p.ma_cb, p.problem is None) for p in raw.photos) == [("BT1", True), ("BT2", False)]
    skipped = " ".join(raw.warnings)
    assert "../evil.txt" in skipped and "/etc/passwd" in skipped and "notes/readme.txt" in skipped


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: (p.write_bytes(b"\x00garbage" * 100), p)[1], ["không phải bảng tính Excel"]),
        (lambda p: write_xlsx(p, info_rows("PGD01", "2009-Q1"), None), ["thiếu sheet HoSo"]),
        (lambda p: write_xlsx(p, None, [person("BT1", "X")]), ["thiếu sheet ThongTin"]),
        (
            lambda p: write_xlsx(p, info_rows("PGD01", "2009-Q1"), [person("BT1", "X")], keys=["ma_cb", "ho_ten", "ngay_sinh"]),
            ["sheet HoSo", "dòng 1", "Mã đơn vị"],
        ),
        (
            lambda p: write_xlsx(p, info_rows("PGD01", "2009-Q1"), [{"a": 1}], headers=["a", "b", "c"], keys=["a", "b", "c"]),
            ["sheet HoSo", "không tìm thấy dòng tiêu đề"],
        ),
    ],
    ids=["corrupt", "no-HoSo", "no-ThongTin", "missing-column", "no-header"],
)
def test_rejections_name_file_sheet_row_and_column(tmp_path, make, words):
    path = make(tmp_path / "bad.xlsx")
    with pytest.raises(RejectedFile) as err:
        read_submission(path)
    message = str(err.value)
    assert message.startswith("bad.xlsx")
    for word in words:
        assert word in message


def test_zip_must_hold_exactly_one_workbook(tmp_path):
    book = write_xlsx(tmp_path / "a.xlsx", info_rows("PGD01", "2009-Q1"), [person("BT1", "PGD01-TH01")])
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(book, "a.xlsx")
        zf.write(book, "b.xlsx")
    with pytest.raises(RejectedFile, match="đúng một bảng tính"):
        read_submission(path)
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(RejectedFile, match="broken.zip"):
        read_submission(tmp_path / "broken.zip")


def test_a_workbook_that_would_expand_beyond_the_limit_is_refused(tmp_path):
    from pmis_pipeline.reader import ReadLimits

    path = write_xlsx(tmp_path / "big.xlsx", info_rows("PGD01", "2009-Q1"), [person(f"BT{i}", "PGD01-TH01") for i in range(200)])
    assert read_submission(path).records.height == 200
    with pytest.raises(RejectedFile, match="big.xlsx: bảng tính giải nén ra hơn") as err:
        read_submission(path, limits=ReadLimits(max_expanded_bytes=10_000))  # a small limit stands for a zip bomb
    assert err.value.cause == "too_large"

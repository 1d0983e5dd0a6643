"""Every value form of the contract's "Values as they arrive", vectorised."""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from pmis_pipeline.normalize import normalize_records


def normalize_one(key: str, values: list[str | None]) -> pl.DataFrame:
    frame = pl.DataFrame({key: values}, schema={key: pl.Utf8}).with_row_index("_row")
    typed, _ = normalize_records(frame.with_columns(pl.col("_row").cast(pl.Int32)), "unicode")
    return typed


@pytest.mark.parametrize(
    ("text", "expected", "year_only"),
    [
        ("1975-05-12 00:00:00", date(1975, 5, 12), False),  # a real Excel date, as the reader renders it
        ("1975-05-12", date(1975, 5, 12), False),
        ("12/05/1975", date(1975, 5, 12), False),
        ("2/5/1975", date(1975, 5, 2), False),
        ("12-05-1975", date(1975, 5, 12), False),
        ("12.05.1975", date(1975, 5, 12), False),
        (" 12/05/1975 ", date(1975, 5, 12), False),
        ("'12/05/1975", date(1975, 5, 12), False),
        ("1958", date(1958, 1, 1), True),
        ("27526", date(1975, 5, 12), False),  # Excel serial day number in a General cell
        ("31/02/1980", None, False),
        ("12/13/1975", None, False),
        ("không rõ", None, False),
        (None, None, False),
    ],
)
def test_date_forms(text, expected, year_only):
    typed = normalize_one("ngay_sinh", [text])
    assert typed["ngay_sinh"][0] == expected
    assert typed["ngay_sinh_year_only"][0] is year_only
    assert typed["raw"].struct.field("ngay_sinh")[0] == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2,34", Decimal("2.34")), ("2.34", Decimal("2.34")), ("3", Decimal("3.00")), (" 4,98 ", Decimal("4.98")),
     ("2.3400000000000003", Decimal("2.34")), ("hai", None)],
)
def test_decimal_comma(text, expected):
    assert normalize_one("he_so_luong", [text])["he_so_luong"][0] == expected


@pytest.mark.parametrize(("text", "expected"), [("4", 4), ("4.0", 4), ("4,0", 4), ("4,5", None), ("bốn", None)])
def test_integer_step(text, expected):
    assert normalize_one("bac_luong", [text])["bac_luong"][0] == expected


def normalize_ids(cells: list[tuple[str, bool]]) -> list[str | None]:
    """Identity numbers as the reader hands them over: the text and whether the cell was a number."""
    frame = pl.DataFrame(
        {"so_cmnd": [t for t, _ in cells], "_number:so_cmnd": [n for _, n in cells]},
        schema={"so_cmnd": pl.Utf8, "_number:so_cmnd": pl.Boolean},
    ).with_row_index("_row")
    typed, _ = normalize_records(frame.with_columns(pl.col("_row").cast(pl.Int32)), "unicode")
    assert "_number:so_cmnd" not in typed.columns
    return typed["so_cmnd"].to_list()


@pytest.mark.parametrize(
    ("text", "number", "expected"),
    [
        ("12345678", True, "012345678"),  # CMND typed as a number lost its leading zero
        ("83175001234", True, "083175001234"),  # CCCD likewise
        ("12345678", False, "12345678"),  # typed as text: nothing was lost, a check reports 8 digits
        ("83175001234", False, "83175001234"),
        ("320123456", False, "320123456"),
        ("320123456", True, "320123456"),
        ("'012345678", False, "012345678"),
        ("320 123 456", False, "320123456"),
        ("320123456.0", True, "320123456"),
        ("1234", True, "1234"),  # too short stays as typed: a check reports it
        ("０１２３４５６７８", False, "012345678"),  # full-width digits are read as ASCII
    ],
)
def test_identity_numbers(text, number, expected):
    """Failed on the old code for text of 8 or 11 digits (zero-padded whatever the cell type)
    and for full-width digits (kept as typed, and ``\\d`` accepted them as a valid CMND)."""
    assert normalize_ids([(text, number)]) == [expected]


def test_identity_numbers_without_cell_types_are_never_padded():
    assert normalize_one("so_cmnd", ["12345678"])["so_cmnd"][0] == "12345678"


def test_invisible_and_control_characters_are_removed_and_blank_is_one_definition():
    """Failed on the old code: zero-width, right-to-left and control characters stayed in names."""
    typed = normalize_one(
        "ho_ten",
        ["Nguy\u200bễn Thị\u00a0Hoa", "\u202eTrần Văn An\u202c", "Lê\x07 Văn\tBình", "'", " \u200b ", "\ufeff"],
    )
    assert typed["ho_ten"].to_list() == ["Nguyễn Thị Hoa", "Trần Văn An", "Lê Văn Bình", None, None, None]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("15a.202", "15a.202"), ("15A.202", "15a.202"), ("15.11", "15.110"), ("1.003", "01.003"), (" 15.113 ", "15.113")],
)
def test_grade_codes(text, expected):
    assert normalize_one("ma_ngach", [text])["ma_ngach"][0] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NGUYỄN THỊ HOA", "Nguyễn Thị Hoa"),
        ("nguyễn thị hoa", "Nguyễn Thị Hoa"),
        ("  Trần   Văn  Đức ", "Trần Văn Đức"),
        ("Lê Thị McKay", "Lê Thị McKay"),  # mixed case is left as typed
        (unicodedata.normalize("NFD", "Đặng Thị Hoà"), "Đặng Thị Hoà"),
    ],
)
def test_names(text, expected):
    value = normalize_one("ho_ten", [text])["ho_ten"][0]
    assert value == expected
    assert unicodedata.is_normalized("NFC", value)


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("gioi_tinh", "nữ", "Nữ"),
        ("gioi_tinh", "NAM", "Nam"),
        ("dan_toc", "H'Mông", "Mông"),
        ("dan_toc", "Khơ-me", "Khmer"),
        ("dan_toc", "kinh", "Kinh"),
        ("dan_toc", "Kinhh", "Kinhh"),  # never silently corrected
        ("ton_giao", "Hoà Hảo", "Phật giáo Hòa Hảo"),
        ("ton_giao", "phật  giáo", "Phật giáo"),
        ("trinh_do", "Đại Học", "Đại học"),
        ("tinh_trang", "đang làm việc", "Đang làm việc"),
        ("dang_vien", "có", "Có"),
    ],
)
def test_catalog_values_stored_in_their_first_form(key, text, expected):
    assert normalize_one(key, [text])[key][0] == expected


def test_codes_are_upper_case_without_spaces():
    typed = normalize_one("ma_don_vi", [" pgd01-th01 ", "'PGD01 - TH01"])
    assert typed["ma_don_vi"].to_list() == ["PGD01-TH01", "PGD01-TH01"]


def test_empty_strings_are_null_and_raw_is_kept():
    typed = normalize_one("que_quan", ["   ", "Bến  Tre"])
    assert typed["que_quan"].to_list() == [None, "Bến Tre"]
    assert typed["raw"].struct.field("que_quan").to_list() == ["   ", "Bến  Tre"]


def test_legacy_file_is_decoded_and_raw_kept():
    from pmis_pipeline import legacy

    name = "Nguyễn Văn Thành"
    frame = pl.DataFrame(
        {"_row": [2], "ho_ten": [legacy.encode_vni(name)], "trinh_do": [legacy.encode_vni("Trung cấp")]},
        schema={"_row": pl.Int32, "ho_ten": pl.Utf8, "trinh_do": pl.Utf8},
    )
    typed, _ = normalize_records(frame, "vni")
    assert typed["ho_ten"][0] == name
    assert typed["trinh_do"][0] == "Trung cấp"
    assert typed["raw"].struct.field("ho_ten")[0] == legacy.encode_vni(name)


def test_name_words_lost_case_in_tcvn3_are_capitalised():
    assert normalize_one("ho_ten", ["LÊ Mỹ út", "Nguyễn Kim ánh"])["ho_ten"].to_list() == ["Lê Mỹ Út", "Nguyễn Kim Ánh"]


@pytest.mark.parametrize("text", ["12/5/75", "1975/05/12", "0075-05-12", "5/1975"])
def test_ambiguous_or_short_dates_are_not_guessed(text):
    typed = normalize_one("ngay_sinh", [text])
    assert typed["ngay_sinh"][0] is None
    assert typed["raw"].struct.field("ngay_sinh")[0] == text

"""Amounts in figures and words (Vietnamese accounting form)."""

from __future__ import annotations

import random
import unicodedata

import pytest

from pmis_pipeline.documents.money import amount_in_words, format_pct, format_vnd

# --- a small words -> figures reader, for the round trip only ---------------

_DIGITS = {
    "không": 0, "một": 1, "mốt": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4,
    "năm": 5, "lăm": 5, "sáu": 6, "bảy": 7, "tám": 8, "chín": 9,
}
_SCALES = (("tỷ", 10**9), ("triệu", 10**6), ("nghìn", 1000), ("ngàn", 1000))


def _group(tokens: list[str]) -> int:
    value, i = 0, 0
    while i < len(tokens):
        tok, nxt = tokens[i], tokens[i + 1] if i + 1 < len(tokens) else None
        if tok == "linh":
            i += 1
        elif tok == "mười":
            value, i = value + 10, i + 1
        elif tok in _DIGITS and nxt == "trăm":
            value, i = value + 100 * _DIGITS[tok], i + 2
        elif tok in _DIGITS and nxt == "mươi":
            value, i = value + 10 * _DIGITS[tok], i + 2
        elif tok in _DIGITS:
            value, i = value + _DIGITS[tok], i + 1
        else:
            raise ValueError(f"unexpected word {tok!r}")
    assert value < 1000
    return value


def _parse(tokens: list[str]) -> int:
    for word, factor in _SCALES:
        if word in tokens:
            # "nghìn tỷ": split at the last "tỷ"; the others occur once
            k = len(tokens) - 1 - tokens[::-1].index(word) if word == "tỷ" else tokens.index(word)
            left, right = tokens[:k], tokens[k + 1:]
            return (_parse(left) if left else 1) * factor + _parse(right)
    return _group(tokens) if tokens else 0


def words_to_amount(words: str) -> int:
    assert words.endswith(" đồng")
    return _parse(words[: -len(" đồng")].lower().split())


# --- readings ----------------------------------------------------------------

# Written by hand from Vietnamese accounting practice ("không trăm", "linh",
# "mốt", "tư", "lăm"), independently of the code: never generated.
READINGS = [
    (0, "Không đồng"),
    (1, "Một đồng"),
    (5, "Năm đồng"),
    (10, "Mười đồng"),
    (11, "Mười một đồng"),  # "một" after mười, not "mốt"
    (14, "Mười bốn đồng"),  # "bốn" after mười, not "tư"
    (15, "Mười lăm đồng"),
    (20, "Hai mươi đồng"),
    (21, "Hai mươi mốt đồng"),
    (24, "Hai mươi tư đồng"),
    (25, "Hai mươi lăm đồng"),
    (55, "Năm mươi lăm đồng"),
    (91, "Chín mươi mốt đồng"),
    (100, "Một trăm đồng"),
    (101, "Một trăm linh một đồng"),
    (104, "Một trăm linh bốn đồng"),
    (105, "Một trăm linh năm đồng"),  # linh năm, not linh lăm
    (110, "Một trăm mười đồng"),
    (111, "Một trăm mười một đồng"),
    (115, "Một trăm mười lăm đồng"),
    (121, "Một trăm hai mươi mốt đồng"),
    (999, "Chín trăm chín mươi chín đồng"),
    (1_000, "Một nghìn đồng"),
    (1_001, "Một nghìn không trăm linh một đồng"),
    (1_005, "Một nghìn không trăm linh năm đồng"),
    (1_010, "Một nghìn không trăm mười đồng"),
    (1_014, "Một nghìn không trăm mười bốn đồng"),
    (1_024, "Một nghìn không trăm hai mươi tư đồng"),
    (1_100, "Một nghìn một trăm đồng"),
    (2_578, "Hai nghìn năm trăm bảy mươi tám đồng"),
    (10_000, "Mười nghìn đồng"),
    (15_000, "Mười lăm nghìn đồng"),
    (21_000, "Hai mươi mốt nghìn đồng"),
    (100_000, "Một trăm nghìn đồng"),
    (105_000, "Một trăm linh năm nghìn đồng"),
    (1_000_000, "Một triệu đồng"),
    (1_000_014, "Một triệu không trăm mười bốn đồng"),  # the zero thousands are not read
    (1_000_100, "Một triệu một trăm đồng"),
    (1_001_000, "Một triệu không trăm linh một nghìn đồng"),
    (1_014_000, "Một triệu không trăm mười bốn nghìn đồng"),
    (1_234_500, "Một triệu hai trăm ba mươi tư nghìn năm trăm đồng"),
    (2_005_000, "Hai triệu không trăm linh năm nghìn đồng"),
    (2_578_000, "Hai triệu năm trăm bảy mươi tám nghìn đồng"),
    (10_050_000, "Mười triệu không trăm năm mươi nghìn đồng"),
    (36_147_000, "Ba mươi sáu triệu một trăm bốn mươi bảy nghìn đồng"),
    (100_000_000, "Một trăm triệu đồng"),
    (1_000_000_000, "Một tỷ đồng"),
    (1_000_000_005, "Một tỷ không trăm linh năm đồng"),
    (1_005_000_000, "Một tỷ không trăm linh năm triệu đồng"),
    (1_234_567_891, "Một tỷ hai trăm ba mươi tư triệu năm trăm sáu mươi bảy nghìn tám trăm chín mươi mốt đồng"),
    (1_000_000_000_000, "Một nghìn tỷ đồng"),
]


def test_the_table_is_large_enough():
    assert len(READINGS) >= 40 and len({a for a, _ in READINGS}) == len(READINGS)


@pytest.mark.parametrize(("amount", "words"), READINGS)
def test_amount_in_words_readings(amount, words):
    assert amount_in_words(amount) == words
    assert words_to_amount(words) == amount


def test_amount_in_words_form():
    for amount in (0, 7, 1_000, 123_456_789, 999_999_999_999):
        words = amount_in_words(amount)
        assert unicodedata.is_normalized("NFC", words)
        assert words[0].isupper() and words[1:] == words[1:].lower()
        assert words.endswith(" đồng")
        assert "  " not in words


def test_words_round_trip_to_figures():
    rng = random.Random(346)
    sample = [*range(20_000), *(rng.randrange(10**12) for _ in range(5_000)), *(rng.randrange(10**7) * 1000 for _ in range(2_000))]
    wrong = [n for n in sample if words_to_amount(amount_in_words(n)) != n]
    assert wrong == []


def test_amount_in_words_rejects_bad_input():
    with pytest.raises(ValueError):
        amount_in_words(-1)
    with pytest.raises(ValueError):
        amount_in_words(10**15)
    with pytest.raises(TypeError):
        amount_in_words(12.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        amount_in_words(True)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0, "0"), (999, "999"), (1_000, "1.000"), (1_234_500, "1.234.500"), (1_000_000_000, "1.000.000.000"), (-1_500, "-1.500")],
)
def test_format_vnd(amount, text):
    assert format_vnd(amount) == text


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [(99.12, 2, "99,12"), (99.1, 2, "99,10"), (99.96, 1, "99,9"), (99.996, 2, "99,99"), (100, 2, "100,00"),
     (0.001, 2, "0,01"), (0, 2, "0,00"), (96.125, 2, "96,13"), (1234.5, 1, "1.234,5")],
)
def test_format_pct(value, digits, text):
    assert format_pct(value, digits) == text


def test_old_readings_are_gone():
    # issue 9: "lẻ" and the missing "không trăm" of num2words
    assert "lẻ" not in amount_in_words(105) and "không trăm" in amount_in_words(1_014_000)

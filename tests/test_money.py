"""Amounts in figures and words (num2words, lang="vi")."""

from __future__ import annotations

import random
import unicodedata

import pytest

from pmis_pipeline.documents.money import amount_in_words, format_vnd

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
        if tok in ("lẻ", "linh"):
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


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "Không đồng"),
        (1, "Một đồng"),
        (10, "Mười đồng"),
        (11, "Mười một đồng"),  # "một" after mười, not "mốt"
        (15, "Mười lăm đồng"),  # lăm
        (21, "Hai mươi mốt đồng"),  # mốt
        (24, "Hai mươi bốn đồng"),  # num2words keeps "bốn" (never "tư")
        (25, "Hai mươi lăm đồng"),  # lăm
        (101, "Một trăm lẻ một đồng"),  # lẻ (num2words never says "linh")
        (105, "Một trăm lẻ năm đồng"),  # lẻ năm, not lẻ lăm
        (1_004, "Một nghìn lẻ bốn đồng"),  # not "một nghìn không trăm linh bốn"
        (1_014, "Một nghìn lẻ mười bốn đồng"),
        (1_000_050, "Một triệu lẻ năm mươi đồng"),
        (1_005_000, "Một triệu năm nghìn đồng"),  # not "một triệu không trăm linh năm nghìn"
        (1_050_000, "Một triệu năm mươi nghìn đồng"),
        (2_000_021, "Hai triệu lẻ hai mươi mốt đồng"),
        (1_234_500, "Một triệu hai trăm ba mươi bốn nghìn năm trăm đồng"),
        (15_000, "Mười lăm nghìn đồng"),
        (21_000, "Hai mươi mốt nghìn đồng"),
        (1_000_000, "Một triệu đồng"),
        (1_000_000_000, "Một tỷ đồng"),
        (36_147_000, "Ba mươi sáu triệu một trăm bốn mươi bảy nghìn đồng"),
    ],
)
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

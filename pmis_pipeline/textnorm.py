"""Unicode helpers for Vietnamese text: NFC storage and matching keys.

Two matching keys are used, both built on the standard library's
``unicodedata`` (NFC/NFD tables of the running Python):

* :func:`header_key` ignores case, diacritics, spacing and punctuation: it
  matches sheet headers and ``ThongTin`` labels (``Ma don vi`` = ``Mã đơn vị``).
* :func:`value_key` ignores case, spacing, Unicode form and tone placement
  but keeps the letters and tones (``Hoà`` = ``Hòa``, ``Nữ`` != ``Nu``): it
  matches catalog values.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import polars as pl

# Combining tone marks of Vietnamese (the vowel-shape marks: breve, circumflex
# and horn, are letters, not tones).
_TONES = {"\u0300": "2", "\u0309": "3", "\u0303": "4", "\u0301": "5", "\u0323": "6"}
_SPACES = re.compile(r"\s+")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def strip_diacritics(text: str) -> str:
    """``Đặng Thị Hoà`` -> ``Dang Thi Hoa``."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=65536)
def header_key(text: str) -> str:
    """Key for headers and labels: no case, diacritics, spaces or punctuation."""
    return _NOT_ALNUM.sub("", strip_diacritics(text).lower())


def value_key(text: str) -> str:
    """Key for catalog values: case, spacing, hyphens, apostrophes, Unicode form
    and tone placement do not matter; letters and tones do.

    Each syllable's tone is moved to the syllable's end, so ``hoà`` and
    ``hòa`` give the same key.
    """
    decomposed = unicodedata.normalize("NFD", text.lower())
    words = []
    for word in _SPACES.split(re.sub(r"[-'’‘`]", " ", decomposed).strip()):
        tones = "".join(_TONES[ch] for ch in word if ch in _TONES)
        letters = "".join(ch for ch in word if ch not in _TONES)
        words.append(unicodedata.normalize("NFC", letters) + tones)
    return " ".join(w for w in words if w)


def clean_text_expr(expr: pl.Expr) -> pl.Expr:
    """NFC, no leading apostrophe, single inner spaces, empty -> null.

    The expression is referenced once (``replace``, not ``when/then``): an
    eager frame would compute a twice-referenced chain twice."""
    return (
        expr.str.normalize("NFC")
        .str.replace_all(r"[\s\u00a0]+", " ")
        .str.strip_chars()
        .str.strip_chars_start("'’`")
        .str.strip_chars()
        .replace("", None)
    )

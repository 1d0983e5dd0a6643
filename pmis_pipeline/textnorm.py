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


#: Characters that show nothing but change a value: zero-width spaces and
#: joiners, bidirectional (right-to-left) marks, embeddings and isolates, the
#: byte-order mark, soft hyphen, variation selectors and the C0/C1 control
#: characters (tab, line and page breaks are whitespace instead). They are
#: removed from every text value *after* legacy decoding (TCVN3 writes ư as
#: the soft-hyphen byte and some capitals as control codes).
INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00, 0x08), (0x0E, 0x1F), (0x7F, 0x9F), (0xAD, 0xAD), (0x34F, 0x34F), (0x61C, 0x61C),
    (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0),
    (0xFFF9, 0xFFFB),
)  # fmt: skip
#: Regex of one invisible or control character, in the ``\x{...}`` syntax that
#: polars (Rust regex) and DuckDB (RE2) read.
INVISIBLE_PATTERN = "[" + "".join(f"\\x{{{lo:X}}}-\\x{{{hi:X}}}" for lo, hi in INVISIBLE_RANGES) + "]"
_INVISIBLE_RE = re.compile("[" + "".join(f"\\U{lo:08X}-\\U{hi:08X}" for lo, hi in INVISIBLE_RANGES) + "]")
#: Whitespace for DuckDB (RE2's ``\s`` is ASCII and lacks the vertical tab).
_WHITESPACE_SQL = r"[\s\x{B}\x{85}\p{Z}]+"
#: Apostrophes and back-ticks a clerk types before a value to keep it as text
#: (``'012345678``); a value of apostrophes only is blank.
LEADING_APOSTROPHES = "'’‘`´"
#: Unicode decimal digits other than ASCII (full-width ``０-９``, Arabic-Indic,
#: ...) and their ASCII digit. Digits are read as ASCII: a clerk typing with a
#: full-width input method means the same number, and identity numbers must
#: compare equal across quarters.
_OTHER_DIGITS: dict[str, str] = {
    chr(cp): str(unicodedata.digit(chr(cp)))
    for cp in range(0x80, 0x110000)
    if unicodedata.category(chr(cp)) == "Nd"
}
_DIGIT_TABLE = str.maketrans(_OTHER_DIGITS)
_DIGIT_PATTERNS = sorted(_OTHER_DIGITS)
_DIGIT_REPLACEMENTS = [_OTHER_DIGITS[c] for c in _DIGIT_PATTERNS]


@lru_cache(maxsize=1)
def _digit_patterns() -> pl.Expr:
    return pl.lit(pl.Series(_DIGIT_PATTERNS, dtype=pl.Utf8)).implode()  # built once, reused by every expression


@lru_cache(maxsize=1)
def _digit_replacements() -> pl.Expr:
    return pl.lit(pl.Series(_DIGIT_REPLACEMENTS, dtype=pl.Utf8)).implode()


def clean_text(text: str | None) -> str | None:
    """The one cleaning of a text value (Python form of :func:`clean_text_expr`):
    NFC, invisible and control characters removed, other digits as ASCII,
    whitespace runs as one space, trimmed, leading apostrophes removed;
    None when nothing is left (the value is *blank*)."""
    if text is None:
        return None
    value = _INVISIBLE_RE.sub("", nfc(text)).translate(_DIGIT_TABLE)
    value = _SPACES.sub(" ", value).strip().lstrip(LEADING_APOSTROPHES).strip()
    return value or None


def is_blank(text: str | None) -> bool:
    """The one definition of a blank value: nothing left after :func:`clean_text`."""
    return clean_text(text) is None


def clean_text_expr(expr: pl.Expr) -> pl.Expr:
    """NFC, no invisible or control characters, ASCII digits, single inner
    spaces, no leading apostrophe, empty -> null (see :func:`clean_text`).

    The expression is referenced once (``replace``, not ``when/then``): an
    eager frame would compute a twice-referenced chain twice."""
    return (
        expr.str.normalize("NFC")
        .str.replace_all(INVISIBLE_PATTERN, "")
        .str.replace_many(_digit_patterns(), _digit_replacements())
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .str.strip_chars_start(LEADING_APOSTROPHES)
        .str.strip_chars()
        .replace("", None)
    )


def is_blank_expr(expr: pl.Expr) -> pl.Expr:
    """Polars form of :func:`is_blank` (true for null): the steps of
    :func:`clean_text_expr` that can empty a value (NFC and digits cannot)."""
    return (
        expr.str.replace_all(INVISIBLE_PATTERN, "")
        .str.strip_chars()
        .str.strip_chars_start(LEADING_APOSTROPHES)
        .str.strip_chars()
        .str.len_bytes()
        .fill_null(0)
        == 0
    )


def has_invisible_expr(expr: pl.Expr) -> pl.Expr:
    """True where a text value holds an invisible or control character."""
    return expr.str.contains(INVISIBLE_PATTERN).fill_null(False)


def blank_sql(column: str) -> str:
    """DuckDB form of :func:`is_blank` for a text column or expression (SQL
    text written by the caller, never data): the same invisible characters,
    whitespace and leading apostrophes. Other digits need no mapping: they
    cannot make a value blank."""
    apostrophes = LEADING_APOSTROPHES.replace("'", "''")
    cleaned = (
        f"trim(ltrim(trim(regexp_replace(regexp_replace({column}, '{INVISIBLE_PATTERN}', '', 'g'), "
        f"'{_WHITESPACE_SQL}', ' ', 'g')), '{apostrophes}'))"
    )
    return f"({column} IS NULL OR {cleaned} = '')"

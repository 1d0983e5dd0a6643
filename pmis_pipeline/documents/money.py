"""Amounts of money in Vietnamese: figures (``1.234.500``) and words in the
form accounting documents write them ("Bằng chữ: ...").

Why our own reader and not a package: the registries' readers were tried
(October 2026) on the readings below and none writes the accounting form:

* ``num2words`` 0.5.14 (``lang="vi"``): "lẻ" only, never "không trăm"
  (1.014.000 -> "một triệu mười bốn nghìn"), never "tư";
* ICU's rule-based spell-out (PyICU 2.15, ICU 77, ``%spellout-cardinal``
  of ``vi``): "tư" and "không trăm" inside the thousands, but not after a
  million (1.014.000 -> "một triệu mười bốn nghìn"), and "lẻ";
* ``vietnam-number`` 1.0.6: "không trăm" everywhere, but "lẽ" (a
  misspelling of "lẻ") and never "tư".

The accounting reading (as accounting software of the period prints it):

* a number is read in groups of three digits with the scale words
  ``nghìn``, ``triệu``, ``tỷ``; groups of 1.000 billions and above are read
  as a number of ``tỷ`` ("một nghìn tỷ");
* a group that is entirely zero is not read (1.000.014 -> "một triệu
  không trăm mười bốn"), except that nothing is read for a zero number but
  "không";
* a group that follows a higher non-zero group is read with all three
  digits: a zero hundreds digit is read ``không trăm`` (1.014.000 -> "một
  triệu không trăm mười bốn nghìn") and a zero tens digit before a non-zero
  unit is read ``linh`` (1.005 -> "một nghìn không trăm linh năm"; 105 ->
  "một trăm linh năm");
* the units after a tens word: 1 after ``mươi`` is ``mốt`` (21 -> "hai
  mươi mốt", but 11 -> "mười một", 101 -> "một trăm linh một"); 4 after
  ``mươi`` is ``tư`` (24 -> "hai mươi tư", but 14 -> "mười bốn", 104 ->
  "một trăm linh bốn"); 5 after ``mười`` or ``mươi`` is ``lăm`` (15 ->
  "mười lăm", 25 -> "hai mươi lăm", but 105 -> "một trăm linh năm");
* 10 is ``mười``, 20-90 are ``<digit> mươi``;
* the first word is capitalised and the reading ends with ``đồng``.
"""

from __future__ import annotations

import unicodedata
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

#: Largest amount read (999 nghìn tỷ ...); no document comes near it.
MAX_AMOUNT = 10**15 - 1

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
SCALES = ("", "nghìn", "triệu")  # within a block of billions
BILLION = "tỷ"


def _check(amount: int) -> int:
    if isinstance(amount, bool):
        raise TypeError(f"amount must be a whole number of đồng, got {amount!r}")
    if not isinstance(amount, int):
        # numpy integers are accepted through __index__
        try:
            amount = amount.__index__()  # type: ignore[union-attr]
        except AttributeError:
            raise TypeError(f"amount must be a whole number of đồng, got {amount!r}") from None
    if amount < 0:
        raise ValueError(f"amount must not be negative: {amount}")
    if amount > MAX_AMOUNT:
        raise ValueError(f"amount too large to read: {amount}")
    return amount


def _group(n: int, full: bool) -> list[str]:
    """Words of a group 1..999; ``full`` reads the hundreds even when zero
    (the group follows a higher non-zero group)."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if words:
                words.append("linh")
            words.append(DIGITS[units])
        return words
    if tens == 1:
        words.append("mười")
        if units:
            words.append("lăm" if units == 5 else DIGITS[units])
        return words
    words += [DIGITS[tens], "mươi"]
    if units:
        words.append({1: "mốt", 4: "tư", 5: "lăm"}.get(units, DIGITS[units]))
    return words


def _below_billion(n: int, full: bool) -> list[str]:
    """Words of 1..999.999.999; ``full``: a higher non-zero part precedes."""
    groups = [n // 10**6, n // 1000 % 1000, n % 1000]
    words: list[str] = []
    for value, scale in zip(groups, reversed(SCALES)):
        if value == 0:
            continue
        words += _group(value, full or bool(words))
        if scale:
            words.append(scale)
    return words


def number_words(n: int) -> str:
    """``1014000`` -> ``"một triệu không trăm mười bốn nghìn"`` (lower case)."""
    n = _check(n)
    if n == 0:
        return DIGITS[0]
    billions, rest = divmod(n, 10**9)
    words: list[str] = []
    if billions:
        words += _below_billion(billions, False) + [BILLION]
    if rest:
        words += _below_billion(rest, bool(billions))
    return unicodedata.normalize("NFC", " ".join(words))


def amount_in_words(amount: int) -> str:
    """``1014000`` -> ``"Một triệu không trăm mười bốn nghìn đồng"``.

    First letter capitalised, ending " đồng"; ``0`` -> ``"Không đồng"``. NFC.
    """
    words = number_words(amount) + " đồng"
    return unicodedata.normalize("NFC", words[:1].upper() + words[1:])


def format_vnd(amount: int) -> str:
    """``1234500`` -> ``"1.234.500"`` (Vietnamese dot thousands separators)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        amount = amount.__index__()  # type: ignore[union-attr]
    sign = "-" if amount < 0 else ""
    return sign + f"{abs(amount):,}".replace(",", ".")


def _decimal_text(q: Decimal, digits: int) -> str:
    sign = "-" if q < 0 else ""
    whole, _, frac = f"{abs(q):f}".partition(".")
    text = f"{int(whole):,}".replace(",", ".")
    return sign + text + ("," + frac if digits > 0 else "")


def format_decimal(value: float | Decimal, digits: int = 2) -> str:
    """``99.1234`` -> ``"99,12"``; ``1234.5`` -> ``"1.234,50"`` (Vietnamese
    decimal comma, dot thousands; half rounded away from zero on the decimal
    value, not on its binary float)."""
    step = Decimal(1).scaleb(-digits)
    return _decimal_text(Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP), digits)


def format_pct(value: float | Decimal, digits: int = 2) -> str:
    """A percentage with ``digits`` decimals in Vietnamese form that never
    reads 100 for less than 100 (99.996 -> "99,99", not "100,00": the unit is
    not complete) nor 0 for more than 0 (0.001 -> "0,01")."""
    step = Decimal(1).scaleb(-digits)
    exact = Decimal(str(value))
    q = exact.quantize(step, rounding=ROUND_HALF_UP)
    if exact < 100 and q >= 100:
        q = exact.quantize(step, rounding=ROUND_FLOOR)
    if exact > 0 and q <= 0:
        q = step
    return _decimal_text(q, digits)

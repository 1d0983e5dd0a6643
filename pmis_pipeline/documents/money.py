"""Amounts of money in Vietnamese: figures (``1.234.500``) and words.

The reading of the number is num2words' (``lang="vi"``); this module only
capitalises it and appends the currency. What num2words 0.5.14 produces,
checked in ``tests/test_money.py``:

* units after a ten: ``mốt`` (21 -> "hai mươi mốt"), ``lăm`` (15 -> "mười
  lăm", 25 -> "hai mươi lăm"); 4 stays ``bốn`` (24 -> "hai mươi bốn", never
  "hai mươi tư");
* a missing ten is read ``lẻ`` (105 -> "một trăm lẻ năm"), never ``linh``;
* a group below 100 that follows a larger one is read with ``lẻ`` instead of
  ``không trăm``: 1.004 -> "một nghìn lẻ bốn", 1.014 -> "một nghìn lẻ mười
  bốn", 2.000.021 -> "hai triệu lẻ hai mươi mốt"; a whole group of
  thousands below 100 is read without ``không trăm``: 1.005.000 -> "một
  triệu năm nghìn", 1.050.000 -> "một triệu năm mươi nghìn";
* scales ``nghìn``, ``triệu``, ``tỷ`` (1.000.000.000 -> "một tỷ"); 0 ->
  "không".

Accounting software of the period often writes the long form ("một triệu
không trăm linh năm nghìn"); both are correct Vietnamese and each reading
names exactly one number (the test suite parses the words back into figures
for every amount below 20.000 and a random sample up to 10^12).
"""

from __future__ import annotations

import unicodedata

from num2words import num2words

#: Largest amount read: num2words reads 10^15 as "trăm nghìn tỷ" (wrong), and
#: goes through a float ("%.2f"), exact only below 2^53.
MAX_AMOUNT = 10**15 - 1


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


def amount_in_words(amount_vnd: int) -> str:
    """``1234500`` -> ``"Một triệu hai trăm ba mươi bốn nghìn năm trăm đồng"``.

    First letter capitalised, ending " đồng"; ``0`` -> ``"Không đồng"``. NFC.
    """
    amount = _check(amount_vnd)
    words = " ".join(str(num2words(amount, lang="vi")).split())
    words = words[:1].upper() + words[1:] + " đồng"
    return unicodedata.normalize("NFC", words)


def format_vnd(amount: int) -> str:
    """``1234500`` -> ``"1.234.500"`` (Vietnamese dot thousands separators)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        amount = amount.__index__()  # type: ignore[union-attr]
    sign = "-" if amount < 0 else ""
    return sign + f"{abs(amount):,}".replace(",", ".")

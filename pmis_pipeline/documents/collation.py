"""Vietnamese name order for personnel lists, with ICU's "vi" collation.

Personnel lists sort by given name (the last word), then the middle name,
then the family name (domain.md). Letters follow the Vietnamese alphabet (a
ă â b c d đ e ê ...) and tones the order none, huyền, hỏi, ngã, sắc, nặng:
ICU's ``vi`` collation, from PyICU's ``icu`` module (the ``pyicu-wheels``
package ships it as binary wheels). The Unicode default order (DUCET)
treats ă, â, đ, ê, ô, ơ, ư as accents of a, d, e, o, u, which is wrong here.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import icu


@lru_cache(maxsize=1)
def _collator() -> icu.Collator:
    return icu.Collator.createInstance(icu.Locale("vi_VN"))


def vi_key(text: str | None) -> bytes:
    """ICU ``vi`` sort key of ``text`` (NFC; None sorts as empty)."""
    return _collator().getSortKey(unicodedata.normalize("NFC", text or ""))


def name_key(full_name: str | None) -> tuple[bytes, bytes, bytes]:
    """Sort key of a Vietnamese full name: (given name, middle names, family
    name), each by ICU's ``vi`` collation: ``Trần Văn An`` before ``Lê Thị
    Ánh`` before ``Nguyễn Ăn``."""
    words = unicodedata.normalize("NFC", full_name or "").split()
    if not words:
        return (b"", b"", b"")
    given = words[-1]
    family = words[0] if len(words) > 1 else ""
    middle = " ".join(words[1:-1])
    return (vi_key(given), vi_key(middle), vi_key(family))


def sort_by_name(names: list[str | None]) -> list[str | None]:
    """``names`` in Vietnamese name order."""
    return sorted(names, key=name_key)

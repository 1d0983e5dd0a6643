"""Quarter keys (``YYYY-Qn``), their bounds and deadlines."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from pmis_pipeline.textnorm import clean_text, strip_diacritics

_KEY = re.compile(r"^(\d{4})-Q([1-4])$")
# Forms a unit may type in ThongTin: 2009-Q1, Q1/2009, 1/2009, Quý 1 năm 2009, Quý I/2009, and
# 2/2009 turned into a date by Excel.
_FORMS = (
    re.compile(r"^(?P<y>\d{4})\s*-?\s*q(?P<q>[1-4])$"),
    re.compile(r"^q(?P<q>[1-4])\s*[/\-. ]\s*(?P<y>\d{4})$"),
    re.compile(r"^(?P<q>[1-4])\s*[/\-.]\s*(?P<y>\d{4})$"),
    re.compile(r"^quy\s*(?P<q>[1-4]|i{1,3}|iv)\s*(?:nam|[/\-.,]|\s)\s*(?P<y>\d{4})$"),
    # ``2/2009`` typed in a General cell: Excel stores the date 1 February 2009 and the
    # reader renders it ``2009-02-01 00:00:00``; the month is the quarter (only 1-4, day 1).
    re.compile(r"^(?P<y>\d{4})-0?(?P<q>[1-4])-0?1(?:[ t]00:00(?::00(?:\.0+)?)?)?$"),
)
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4"}


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    q: int

    @classmethod
    def parse_key(cls, key: str) -> Quarter:
        m = _KEY.match(key)
        if not m:
            raise ValueError(f"not a quarter key (YYYY-Qn): {key!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def key(self) -> str:
        return f"{self.year}-Q{self.q}"

    def __str__(self) -> str:
        return self.key

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.q - 2, 1)

    @property
    def end(self) -> date:
        """Last day of the quarter."""
        nxt = self.next()
        return date.fromordinal(nxt.start.toordinal() - 1)

    def next(self) -> Quarter:
        return Quarter(self.year + (self.q == 4), self.q % 4 + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - (self.q == 1), (self.q - 2) % 4 + 1)

    @property
    def label_vi(self) -> str:
        return f"quý {self.q} năm {self.year}"


def parse_quarter_text(text: str) -> Quarter | None:
    """Read a quarter as units type it in ThongTin; None when unreadable."""
    cleaned = re.sub(r"\s+", " ", strip_diacritics(clean_text(str(text)) or "").strip().lower())
    for form in _FORMS:
        m = form.match(cleaned)
        if m:
            q = _ROMAN.get(m.group("q"), m.group("q"))
            return Quarter(int(m.group("y")), int(q))
    return None


def quarter_range(first: Quarter, last: Quarter) -> list[Quarter]:
    out, cur = [], first
    while cur <= last:
        out.append(cur)
        cur = cur.next()
    return out


def default_deadline(quarter: Quarter, month_days: dict[str, str]) -> date:
    month, day = (int(p) for p in month_days[f"Q{quarter.q}"].split("-"))
    return date(quarter.year, month, day)


def read_deadline_overrides(path: Path) -> dict[str, date]:
    """``catalog/deadlines.csv`` (quarter,deadline); empty when absent."""
    if not path.is_file():
        return {}
    out: dict[str, date] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            try:
                out[Quarter.parse_key(row["quarter"].strip()).key] = date.fromisoformat(row["deadline"].strip())
            except (KeyError, ValueError, AttributeError) as exc:
                raise ValueError(f"{path}: line {n}: expected quarter,deadline as YYYY-Qn,YYYY-MM-DD ({exc})") from None
    return out


def deadline_for(quarter: Quarter, month_days: dict[str, str], overrides: dict[str, date]) -> date:
    return overrides.get(quarter.key) or default_deadline(quarter, month_days)


def today_quarter(now: datetime | None = None) -> Quarter:
    return Quarter.of((now or datetime.now()).date())


def configured_quarters(first: str, last: str | None, today: date) -> list[Quarter]:
    """The quarters offered to operators: ``first`` to ``last`` (default: the
    quarter of ``today``, a local date), never beyond today's quarter."""
    start = Quarter.parse_key(first)
    end = min(Quarter.parse_key(last), Quarter.of(today)) if last else Quarter.of(today)
    return quarter_range(start, max(start, end))

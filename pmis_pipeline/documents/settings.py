"""Who signs, and in whose name: the ``[documents]`` section of the
configuration (``pmis_pipeline/default_config.toml``, overridden by
``<data>/config.toml``), as the writers of signable documents take it.

Every key is optional; a name left empty prints as a blank line to sign
over. Dates are TOML dates (``2009-04-15``) or ``""`` (left as "ngày ...
tháng ... năm ..." to be filled in by hand).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class DocumentSettings:
    """The ``[documents]`` keys (see default_config.toml for each one)."""

    authority: str = "UBND TỈNH BẾN TRE"
    department: str = "SỞ GIÁO DỤC VÀ ĐÀO TẠO"
    department_name: str = "Sở Giáo dục và Đào tạo Bến Tre"
    symbol: str = "SGDĐT"
    place: str = "Bến Tre"
    address: str = ""
    phone: str = ""
    bank_account: str = ""
    bank: str = ""
    tax_code: str = ""
    director_name: str = "Nguyễn Văn Bé"
    director_title: str = "GIÁM ĐỐC"
    director_position: str = "Giám đốc"
    chief_accountant_name: str = ""
    tccb_head_name: str = ""
    tccb_head_title: str = "TRƯỞNG PHÒNG TỔ CHỨC CÁN BỘ"
    payer_name: str = ""
    payer_title: str = "THỦ QUỸ"
    letter_346_number: str = "346/SGD&ĐT-TCCB"
    letter_346_date: date = date(2009, 4, 2)
    letter_346_subject: str = "hoàn thiện chương trình PMIS phiên bản mới"
    contract_date: date | None = None
    liquidation_date: date | None = None
    payment_method: str = "chuyển khoản hoặc tiền mặt"

    def __post_init__(self) -> None:
        if self.contract_date is not None and self.contract_date < self.letter_346_date:
            raise ValueError(
                f"[documents] contract_date {self.contract_date:%d/%m/%Y} is before letter "
                f"{self.letter_346_number} of {self.letter_346_date:%d/%m/%Y}, which the contracts cite"
            )
        if self.liquidation_date is not None and self.contract_date is not None and self.liquidation_date < self.contract_date:
            raise ValueError(
                f"[documents] liquidation_date {self.liquidation_date:%d/%m/%Y} is before contract_date "
                f"{self.contract_date:%d/%m/%Y}"
            )

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> DocumentSettings:
        """From the ``[documents]`` table of the configuration (unknown keys
        are an error naming them; ``""`` dates mean "to be filled by hand")."""
        section = dict(section or {})
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(section) - set(known))
        if unknown:
            raise ValueError(f"[documents]: unknown keys {unknown}; known: {sorted(known)}")
        values: dict[str, Any] = {}
        for key, value in section.items():
            if key.endswith("_date"):
                values[key] = _date(key, value)
            else:
                values[key] = "" if value is None else str(value).strip()
        if "letter_346_date" in values and values["letter_346_date"] is None:
            raise ValueError("[documents] letter_346_date must be a date")
        return cls(**values)

    def with_dates(self, **dates: date | None) -> DocumentSettings:
        return replace(self, **dates)

    @property
    def letter_346(self) -> str:
        """``công văn số 346/SGD&ĐT-TCCB ngày 02/4/2009 của Sở ... về việc ...``."""
        d = self.letter_346_date
        month = f"{d.month:02d}" if d.month < 3 else str(d.month)
        return (
            f"công văn số {self.letter_346_number} ngày {d.day:02d}/{month}/{d.year} của {self.department_name} "
            f"về việc {self.letter_346_subject}"
        )


def _date(key: str, value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise ValueError(f"[documents] {key}: {value!r} is not a date (write 2009-04-15, or \"\" to leave it to the pen)")


DEFAULT_SETTINGS = DocumentSettings()

"""The configuration's typed model.

``default_config.toml`` (in this package) documents every key and holds its
default; ``<data>/config.toml`` (or the file named by ``PMIS_CONFIG``)
overrides any of them. The merged result is validated here: an unknown
section or key, or a value of the wrong type, is an error that names it, so a
typo never signs documents at default rates.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from pmis_pipeline.quarters import Quarter

__all__ = ["ConfigError", "PipelineConfig", "validate_config"]


class ConfigError(ValueError):
    """The configuration is invalid; ``str(exc)`` names the file, section and key."""


def _quarter_key(value: str) -> str:
    return Quarter.parse_key(value).key


def _month_day(value: str) -> str:
    if not re.fullmatch(r"\d{2}-\d{2}", value):
        raise ValueError(f"expected MM-DD, got {value!r}")
    month, day = (int(p) for p in value.split("-"))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise ValueError(f"not a month-day: {value!r}")
    return value


QuarterKey = Annotated[str, AfterValidator(_quarter_key)]
MonthDay = Annotated[str, AfterValidator(_month_day)]
Percent = Annotated[float, Field(ge=0, le=100)]
Vnd = Annotated[int, Field(ge=0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PartitionsConfig(_Section):
    first_quarter: QuarterKey
    last_quarter: QuarterKey | None = None


class CalendarConfig(_Section):
    timezone: str
    deadlines: dict[Literal["Q1", "Q2", "Q3", "Q4"], MonthDay]


class InboxConfig(_Section):
    settle_seconds: Annotated[float, Field(ge=0)]


class IntakeConfig(_Section):
    """How each file is read: a worker process per core with these limits."""

    workers: Annotated[int, Field(ge=0)]
    file_memory_mb: Annotated[int, Field(ge=256)]
    file_seconds: Annotated[float, Field(gt=0)]
    max_file_mb: Annotated[int, Field(gt=0)]
    max_expanded_mb: Annotated[int, Field(gt=0)]
    max_sheet_cells: Annotated[int, Field(gt=0)]
    max_photo_mb: Annotated[int, Field(gt=0)]
    max_photos_mb: Annotated[int, Field(gt=0)]
    max_photo_pixels: Annotated[int, Field(gt=0)]
    isolate: bool


class QuarterConfig(_Section):
    """How the quarter step holds a quarter: a batch of records at a time (memory, not results)."""

    batch_records: Annotated[int, Field(ge=1)]
    duckdb_memory_mb: Annotated[int, Field(ge=128)]


class RulesConfig(_Section):
    retirement_age_male: Annotated[int, Field(ge=40, le=80)]
    retirement_age_female: Annotated[int, Field(ge=40, le=80)]
    min_working_age: Annotated[int, Field(ge=14, le=30)]
    min_birth_year: Annotated[int, Field(ge=1880, le=2100)]
    max_age_at_quarter_end: Annotated[int, Field(ge=40, le=120)]


class ScoringConfig(_Section):
    weight_timeliness: Annotated[float, Field(ge=0, le=1)]
    weight_completeness: Annotated[float, Field(ge=0, le=1)]
    weight_accuracy: Annotated[float, Field(ge=0, le=1)]
    penalty_per_day_late: Annotated[float, Field(ge=0)]


class PaymentsConfig(_Section):
    phong_nhap_lieu: Vnd
    phong_tong_hop_kiem_tra: Vnd
    truc_thuoc_nhap_lieu: Vnd
    so_tong_hop_phong: Vnd
    so_tong_hop_truc_thuoc: Vnd


class PlausibilityConfig(_Section):
    max_growth_pct: Annotated[float, Field(ge=0)]
    min_growth_records: Annotated[int, Field(ge=0)]
    max_records_per_school: Annotated[int, Field(ge=1)]


class ChecksConfig(_Section):
    min_completeness_pct: Percent
    min_accuracy_pct: Percent


class DocumentsConfig(_Section):
    """Who issues and signs the documents (see default_config.toml); "" dates are filled by pen."""

    authority: str
    department: str
    department_name: str
    symbol: str
    place: str
    address: str
    phone: str
    bank_account: str
    bank: str
    tax_code: str
    director_name: str
    director_title: str
    director_position: str
    chief_accountant_name: str
    tccb_head_name: str
    tccb_head_title: str
    payer_name: str
    payer_title: str
    letter_346_number: str
    letter_346_date: date
    letter_346_subject: str
    contract_date: date | Literal[""]
    liquidation_date: date | Literal[""]
    payment_method: str


class BackupConfig(_Section):
    """``pmis backup``: how many snapshots a backup folder keeps (0 = every one)."""

    keep: Annotated[int, Field(ge=0)]


class PipelineConfig(_Section):
    partitions: PartitionsConfig
    calendar: CalendarConfig
    inbox: InboxConfig
    intake: IntakeConfig
    quarter: QuarterConfig
    rules: RulesConfig
    scoring: ScoringConfig
    payments: PaymentsConfig
    plausibility: PlausibilityConfig
    checks: ChecksConfig
    documents: DocumentsConfig
    backup: BackupConfig


def _location(loc: tuple) -> str:
    parts = [str(p) for p in loc]
    if not parts:
        return "(top level)"
    if len(parts) == 1:
        return f"[{parts[0]}]"
    return f"[{parts[0]}] {'.'.join(parts[1:])}"


def validate_config(config: dict, source: str) -> PipelineConfig:
    """Validate the merged configuration; the first problems are named in one line."""
    try:
        return PipelineConfig.model_validate(config)
    except ValidationError as exc:
        problems = []
        for err in exc.errors()[:5]:
            where = _location(err["loc"])
            if err["type"] == "extra_forbidden":
                problems.append(f"unknown key {where}")
            elif err["type"] == "missing":
                problems.append(f"missing key {where}")
            else:
                problems.append(f"{where}: {err['msg']}")
        raise ConfigError(f"{source}: {'; '.join(problems)}") from None

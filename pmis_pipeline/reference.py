"""Reference data of the domain (``shared/spec/domain.md``), kept as CSV files
in ``reference/`` so that unverified values can be corrected without code:
value lists (catalogs), grades and the Decree 204/2004 salary groups."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

import polars as pl

from pmis_pipeline.textnorm import value_key

REFERENCE_DIR = Path(__file__).with_name("reference")


@cache
def catalogs() -> pl.DataFrame:
    """catalog, code, value, variants (pipe-separated)."""
    return pl.read_csv(REFERENCE_DIR / "catalogs.csv", infer_schema=False)


@cache
def catalog_values(catalog: str) -> tuple[str, ...]:
    """Accepted values of a value list, in catalog order (stored forms)."""
    return tuple(catalogs().filter(pl.col("catalog") == catalog)["value"].to_list())


@cache
def catalog_lookup(catalog: str) -> dict[str, str]:
    """value_key(accepted form or variant) -> stored form."""
    lookup: dict[str, str] = {}
    for row in catalogs().filter(pl.col("catalog") == catalog).iter_rows(named=True):
        for form in [row["value"], *(row["variants"] or "").split("|")]:
            if form:
                lookup[value_key(form)] = row["value"]
    return lookup


@cache
def grades() -> pl.DataFrame:
    """ma_ngach, ten_ngach, salary_group, min_trinh_do, cap_hoc, is_teacher, verified, steps, step1, step_size."""
    table = pl.read_csv(REFERENCE_DIR / "grades.csv", infer_schema=False)
    groups = pl.read_csv(REFERENCE_DIR / "salary_groups.csv", infer_schema=False)
    return table.join(groups.drop("note"), on="salary_group", how="left").with_columns(
        pl.col("steps").cast(pl.Int32),
        pl.col("is_teacher") == "1",
        pl.col("verified") == "1",
    )


@dataclass(frozen=True)
class SalaryGroup:
    name: str
    step1: Decimal
    step_size: Decimal
    steps: int

    def coefficient(self, step: int) -> Decimal:
        """Coefficient of a step within the group's steps (Decree 204/2004)."""
        if not 1 <= step <= self.steps:
            raise ValueError(f"step {step} outside 1..{self.steps} of group {self.name}")
        return self.step1 + self.step_size * (step - 1)


@cache
def salary_groups() -> dict[str, SalaryGroup]:
    groups = pl.read_csv(REFERENCE_DIR / "salary_groups.csv", infer_schema=False)
    return {
        r["salary_group"]: SalaryGroup(r["salary_group"], Decimal(r["step1"]), Decimal(r["step_size"]), int(r["steps"]))
        for r in groups.iter_rows(named=True)
    }


def grade_group(ma_ngach: str) -> SalaryGroup:
    row = grades().filter(pl.col("ma_ngach") == ma_ngach)
    if row.height == 0:
        raise KeyError(ma_ngach)
    return salary_groups()[row["salary_group"][0]]


@cache
def qualification_standards() -> dict[str, str]:
    """School level -> the qualification a teacher needs to be "Đạt chuẩn"."""
    table = pl.read_csv(REFERENCE_DIR / "qualification_standards.csv", infer_schema=False)
    return dict(zip(table["cap_hoc"].to_list(), table["min_trinh_do"].to_list()))


QUALIFICATION_ORDER: tuple[str, ...] = (
    "Chưa qua đào tạo", "Sơ cấp", "Trung cấp", "Cao đẳng", "Đại học", "Thạc sĩ", "Tiến sĩ",
)

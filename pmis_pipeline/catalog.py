"""The Department's unit catalog (``<data>/catalog/units.csv``)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

UNIT_COLUMNS = ("ma_don_vi", "ten_don_vi", "loai", "ma_don_vi_bao_cao", "cap_hoc", "huyen")
UNIT_TYPES = ("phong", "truc_thuoc", "truong")


class CatalogError(ValueError):
    """The catalog file is missing or malformed."""


def read_units(path: Path) -> pl.DataFrame:
    """Read and validate the catalog; every problem is named with its line."""
    if not path.is_file():
        raise CatalogError(f"{path}: unit catalog not found (run `pmis demo` or copy the Department's units.csv there)")
    frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    frame = frame.rename({c: c.strip().lstrip("\ufeff") for c in frame.columns})
    missing = [c for c in UNIT_COLUMNS if c not in frame.columns]
    if missing:
        raise CatalogError(f"{path}: missing columns {', '.join(missing)}")
    frame = frame.select(
        [pl.col(c).str.strip_chars().str.normalize("NFC").alias(c) for c in UNIT_COLUMNS]
    ).with_columns(pl.col("ma_don_vi").str.to_uppercase(), pl.col("ma_don_vi_bao_cao").str.to_uppercase())
    problems: list[str] = []
    for i, row in enumerate(frame.iter_rows(named=True), start=2):
        if not row["ma_don_vi"]:
            problems.append(f"line {i}: empty ma_don_vi")
        if row["loai"] not in UNIT_TYPES:
            problems.append(f"line {i}: loai {row['loai']!r} not one of {', '.join(UNIT_TYPES)}")
        if row["loai"] in ("phong", "truc_thuoc") and row["ma_don_vi_bao_cao"] != row["ma_don_vi"]:
            problems.append(f"line {i}: a {row['loai']} reports for itself (ma_don_vi_bao_cao = ma_don_vi)")
    dupes = frame.filter(pl.col("ma_don_vi").is_duplicated())["ma_don_vi"].unique().to_list()
    if dupes:
        problems.append(f"duplicated ma_don_vi: {', '.join(sorted(dupes)[:10])}")
    reporting = set(frame.filter(pl.col("loai") != "truong")["ma_don_vi"].to_list())
    orphans = frame.filter((pl.col("loai") == "truong") & ~pl.col("ma_don_vi_bao_cao").is_in(list(reporting)))
    if orphans.height:
        problems.append(f"schools whose reporting unit is not a phong/truc_thuoc: {', '.join(orphans['ma_don_vi'].head(10))}")
    if problems:
        raise CatalogError(f"{path}: " + "; ".join(problems[:20]))
    return frame


def reporting_units(units: pl.DataFrame) -> pl.DataFrame:
    return units.filter(pl.col("loai").is_in(["phong", "truc_thuoc"]))

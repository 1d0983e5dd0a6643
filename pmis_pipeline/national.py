"""The ministry's national warehouse, gathered from the provinces' published files.

The national root holds one data folder per province (the same layout as a
Department's ``data/``: ``<root>/<province>/inbox``, ``catalog``,
``warehouse/build.duckdb``, ``warehouse/pmis.duckdb``...), a ``config.toml``
naming the quarters (``[partitions]``, as a province's), and the national
folder written here::

    <root>/national/<view>/quarter=<YYYY-Qn>/province=<code>/data.parquet
    <root>/national/units/province=<code>/data.parquet
    <root>/national/national.duckdb      views over those files (no data)

A province's quarter is gathered from its *published* file (the analysts'
``pmis.duckdb``, replaced by rename and never locked): only quarters whose
blocking checks passed, and the national step never opens a build database.
Each file is written beside its place and renamed over it, so an analyst
reading the national views sees a province's old quarter or its new one,
never half of one; a province rebuilt replaces only its own files.

No Dagster here: the ministry's code location (``national/``) calls these.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from pmis_pipeline import warehouse
from pmis_pipeline.export import write_view_parquet
from pmis_pipeline.settings import REPO_ROOT, Settings, load_settings

#: The contract views gathered per quarter and province (``units``: the province's catalog, per province).
QUARTER_VIEWS: tuple[str, ...] = ("submissions", "staff", "record_issues", "unit_compliance", "payments")
CATALOG_VIEW = "units"
NATIONAL_FOLDER = "national"
VIEWS_DB = "national.duckdb"
DATA_FILE = "data.parquet"
#: A province code names a folder, a partition key, a run tag and a Parquet path segment.
PROVINCE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


class NationalError(ValueError):
    """The national root is not usable (one clear line)."""


def national_root() -> Path:
    """``PMIS_NATIONAL_ROOT``, else ``data-national/`` in the repository."""
    return Path(os.environ.get("PMIS_NATIONAL_ROOT") or REPO_ROOT / "data-national").resolve()


def province_folders(root: Path) -> dict[str, Path]:
    """The provinces of the root: every sub-folder holding ``catalog/units.csv``, by folder name.

    Raises :class:`NationalError` naming a province folder whose name cannot be a code."""
    root = Path(root)
    if not root.is_dir():
        return {}
    out: dict[str, Path] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != NATIONAL_FOLDER):
        if not (folder / "catalog" / "units.csv").is_file():
            continue
        if not PROVINCE_CODE.match(folder.name):
            raise NationalError(
                f"{folder}: a province folder is named by its code (letters, digits, '_' or '-', at most 32)"
            )
        out[folder.name] = folder.resolve()
    return out


def province_settings(root: Path, province: str) -> Settings:
    """The province's settings, exactly as its own deployment reads them (its ``config.toml``)."""
    folders = province_folders(root)
    if province not in folders:
        raise NationalError(f"{root}: no province folder '{province}' (with catalog/units.csv)")
    return load_settings(folders[province])


def national_dir(root: Path) -> Path:
    return Path(root) / NATIONAL_FOLDER


def quarter_file(root: Path, view: str, quarter: str, province: str) -> Path:
    """Where one province's rows of one view and quarter live."""
    return national_dir(root) / view / f"quarter={quarter}" / f"province={province}" / DATA_FILE


def catalog_file(root: Path, province: str) -> Path:
    return national_dir(root) / CATALOG_VIEW / f"province={province}" / DATA_FILE


@dataclass(frozen=True)
class ProvinceGathered:
    province: str
    quarter: str
    status: str  # "gathered", "not_published" (no analysts' file yet), "not_built" (the file lacks the quarter)
    rows: dict[str, int]


def _write_atomically(con: duckdb.DuckDBPyConnection, view: str, quarter: str, target: Path) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        rows = write_view_parquet(con, view, quarter, Path(tmp))
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return rows


def _remove(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def gather_province_quarter(root: Path, province: str, quarter: str) -> ProvinceGathered:
    """Copy one province's published rows of ``quarter`` into the national folder
    (one Parquet file per view, and the province's catalog).

    A province without a published file, or whose published file does not
    hold the quarter, has its files of that quarter removed (the national view
    then shows what the province shows: nothing)."""
    published = province_settings(root, province).paths.published_db
    files = [quarter_file(root, view, quarter, province) for view in QUARTER_VIEWS]
    if not published.is_file():
        _remove(files)
        return ProvinceGathered(province, quarter, "not_published", {})
    with warehouse.open_published(published) as con:
        [(loaded,)] = con.execute(
            "SELECT (SELECT count(*) FROM unit_compliance WHERE quarter = $q) + (SELECT count(*) FROM staff WHERE quarter = $q)",
            {"q": quarter},
        ).fetchall()
        if not loaded:
            _remove(files)
            return ProvinceGathered(province, quarter, "not_built", {})
        rows = {view: _write_atomically(con, view, quarter, path) for view, path in zip(QUARTER_VIEWS, files)}
        rows[CATALOG_VIEW] = _write_atomically(con, CATALOG_VIEW, quarter, catalog_file(root, province))
    return ProvinceGathered(province, quarter, "gathered", rows)


def _literal(text: str) -> str:
    """A path of ours (never data) as an SQL string literal: DuckDB takes no parameters in a view's DDL."""
    return "'" + text.replace("'", "''") + "'"


def write_national_views(root: Path) -> dict[str, int]:
    """Write ``national/national.duckdb``: one view per contract view over the
    gathered Parquet files (hive partitions ``quarter`` and ``province``),
    replaced by rename. Returns the rows each view shows."""
    folder = national_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / VIEWS_DB
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{VIEWS_DB}.", suffix=".tmp")
    os.close(fd)
    os.unlink(tmp)  # DuckDB creates the file itself
    counts: dict[str, int] = {}
    try:
        with duckdb.connect(tmp) as con:
            for view in (*QUARTER_VIEWS, CATALOG_VIEW):
                depth = "*/*" if view != CATALOG_VIEW else "*"
                if not any((folder / view).glob(f"{depth}/{DATA_FILE}")):
                    continue
                pattern = (folder / view).resolve() / depth / DATA_FILE
                hive_types = (
                    "{'quarter': VARCHAR, 'province': VARCHAR}" if view != CATALOG_VIEW else "{'province': VARCHAR}"
                )
                # view names are the constants above; the path is the national folder's, never data
                con.execute(
                    f"CREATE VIEW {view} AS SELECT * FROM read_parquet({_literal(str(pattern))}, "
                    f"hive_partitioning = true, hive_types = {hive_types}, union_by_name = true)"
                )
                [(counts[view],)] = con.execute(f"SELECT count(*) FROM {view}").fetchall()
            con.execute("CREATE TABLE national_meta AS SELECT ?::TIMESTAMP AS written_at", [datetime.now().replace(microsecond=0)])
            con.execute("CHECKPOINT")
        os.chmod(tmp, 0o444)
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, tmp + ".wal"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    return counts

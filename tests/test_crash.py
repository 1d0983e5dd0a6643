"""A killed run changes nothing anyone sees, and the next run finishes the job.

Runs go through the command line operators and scripts use
(``dagster asset materialize ... --partition``) on a fresh DAGSTER_HOME, and
are killed with SIGKILL at named points (``PMIS_KILL_AT``, see
``pmis_pipeline/faults.py``): inside the quarter's transaction, after it
committed, while documents are being written, while the analysts' file is
being copied. After each kill the analysts' views and the documents are
exactly as before the run; after one uninterrupted run they equal what a
single uninterrupted run on the same files gives.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import FAST_CONFIG
from tests.workbooks import info_rows, person, write_catalog, write_xlsx

Q1 = "2009-Q1"
VOLATILE = {"first_seen_at"}  # when this data folder first saw a file


def run_cli(data: Path, home: Path, kill_at: str | None = None, quarter: str = Q1) -> int:
    env = {**os.environ, "PMIS_DATA_DIR": str(data), "DAGSTER_HOME": str(home)}
    env.pop("PMIS_KILL_AT", None)
    if kill_at:
        env["PMIS_KILL_AT"] = kill_at
    home.mkdir(parents=True, exist_ok=True)
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.run(
        [str(dagster), "asset", "materialize", "-m", "pmis_pipeline.definitions", "--select", "*", "--partition", quarter],
        env=env, capture_output=True, text=True, timeout=300,
    )
    return proc.returncode


def views(data: Path, quarter: str | None = None) -> dict[str, list[tuple]]:
    """Every analysts' view, every row (of ``quarter`` only, in the views that have one), in a stable order."""
    con = duckdb.connect(str(data / "warehouse" / "pmis.duckdb"), read_only=True)
    try:
        out = {}
        names = [v for (v,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main' ORDER BY 1").fetchall()]
        for name in names:
            cols = [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' ORDER BY column_index", [name]).fetchall() if c not in VOLATILE]
            select = ", ".join(f'"{c}"::VARCHAR' for c in cols)
            if quarter and name == "quarters":
                continue  # says whether the next quarter is built, which differs from a one-quarter reference
            where, params = ("WHERE quarter = ?", [quarter]) if quarter and "quarter" in cols else ("", [])
            out[name] = con.execute(f"SELECT {select} FROM main.{name} {where} ORDER BY ALL", params).fetchall()
        return out
    finally:
        con.close()


def documents(data: Path) -> dict[str, int]:
    reports = data / "warehouse" / "reports"
    return {
        str(p.relative_to(reports)): p.stat().st_size
        for p in sorted(reports.rglob("*.xlsx"))
        if not any(part.startswith(".") for part in p.relative_to(reports).parts)  # a killed run's staging folder
    }


def leftovers(data: Path) -> list[str]:
    warehouse = data / "warehouse"
    return [str(p) for p in warehouse.rglob(".*") if p.name.startswith((".staging-", ".pmis.duckdb.", ".build.duckdb."))]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """Two hand-overs for 2009-Q1: the first, and a correction with a new unit."""
    src = tmp_path_factory.mktemp("files")
    write_xlsx(src / "q1.xlsx", info_rows("THPT01", Q1), [person("BT0001", "THPT01"), person("BT0002", "THPT01", so_cmnd="12")])
    write_xlsx(
        src / "q1b.xlsx",
        info_rows("GDTX01", Q1, name="Trung tâm GDTX tỉnh"),
        [person("GD0001", "GDTX01", ho_ten="Đỗ Văn Tư"), person("GD0002", "GDTX01", ho_ten="Huỳnh Thị Năm")],
    )
    os.utime(src / "q1.xlsx", (1239000000, 1239000000))  # 2009-04-06
    os.utime(src / "q1b.xlsx", (1239600000, 1239600000))  # 2009-04-13
    return src


def province(root: Path, files: Path, names: list[str]) -> Path:
    data = root / "data"
    write_catalog(data)
    (data / "config.toml").write_text(FAST_CONFIG + '[partitions]\nlast_quarter = "2009-Q2"\n', encoding="utf-8")
    for name in names:
        (data / "inbox" / Q1).mkdir(parents=True, exist_ok=True)
        shutil.copy2(files / name, data / "inbox" / Q1 / name)
    return data


def test_killed_runs_change_nothing_and_the_next_run_equals_an_uninterrupted_one(tmp_path, files):
    data = province(tmp_path / "a", files, ["q1.xlsx"])
    home = tmp_path / "a" / "dagster_home"
    assert run_cli(data, home) == 0
    before, docs_before, views_q1_before = views(data), documents(data), views(data, Q1)
    assert before["staff"] and docs_before

    shutil.copy2(files / "q1b.xlsx", data / "inbox" / Q1 / "q1b.xlsx")
    for point in ("quarter_loaded", "quarter_committed", "documents_written", "copied:pmis.duckdb"):
        assert run_cli(data, home, kill_at=point) == -signal.SIGKILL, point
        assert views(data) == before, f"killed at {point}: the analysts' views changed"
        if point != "copied:pmis.duckdb":  # documents are written before publishing
            assert documents(data) == docs_before, f"killed at {point}: documents changed"
    with duckdb.connect(str(data / "warehouse" / "build.duckdb"), read_only=True) as con:
        built = con.execute("SELECT count(*) FROM core.submission_files WHERE quarter = ?", [Q1]).fetchone()[0]
    assert built == 2  # the kill after the commit kept the new quarter in the build database (not published)

    reference = province(tmp_path / "b", files, ["q1.xlsx", "q1b.xlsx"])
    assert run_cli(reference, tmp_path / "b" / "dagster_home") == 0

    # Another quarter's run publishes next (as in the issue: a kill in 2009-Q1, then a run of a later
    # quarter): 2009-Q1 is published whole as its one committed transaction left it, staff, ranking and
    # payments together, never the new staff beside the old ranking.
    assert run_cli(data, home, quarter="2009-Q2") == 0
    assert leftovers(data) == []
    assert views(data, Q1) == views(reference, Q1)

    assert run_cli(data, home) == 0
    after = views(data, Q1)
    assert after == views(reference, Q1)
    assert after != views_q1_before
    assert documents(data).keys() >= documents(reference).keys()

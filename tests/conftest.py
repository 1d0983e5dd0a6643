from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.resources import PmisResource
from pmis_pipeline.definitions import ALL_ASSETS
from pmis_pipeline.demo import generate_demo

#: Files written by a test are read at once (the default waits 10 s for files still being copied).
FAST_CONFIG = "[inbox]\nsettle_seconds = 0\n"


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """An empty data folder, selected through PMIS_DATA_DIR as operators do."""
    data = tmp_path / "data"
    (data / "inbox").mkdir(parents=True)
    (data / "config.toml").write_text(FAST_CONFIG, encoding="utf-8")
    monkeypatch.setenv("PMIS_DATA_DIR", str(data))
    monkeypatch.delenv("PMIS_CONFIG", raising=False)
    return data


def materialize_quarter(data: Path, quarter: str, selection: str = "*") -> dg.ExecuteInProcessResult:
    """A real Dagster run of every asset (and check) of one quarter, then publishing."""
    result = dg.materialize(
        ALL_ASSETS,
        partition_key=quarter,
        resources={"pmis": PmisResource(data_dir=str(data))},
        selection=selection,
        raise_on_error=True,
    )
    assert result.success
    return result


@contextmanager
def materialized_demo(data: Path, quarters: Sequence[str], **demo_options) -> Iterator[Path]:
    """A small demo province (scale 0.05) in ``data`` with ``quarters`` materialized, selected
    through PMIS_DATA_DIR while the block runs (module fixtures: ``with ...: yield data``)."""
    generate_demo(data, scale=0.05, quarters=tuple(quarters), **demo_options)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PMIS_DATA_DIR", str(data))
        for quarter in quarters:
            materialize_quarter(data, quarter)
        yield data


def query(data: Path, sql: str, params=None) -> list[tuple]:
    """Ask the published analysts' file, read-only, as an analyst does."""
    con = duckdb.connect(str(data / "warehouse" / "pmis.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()

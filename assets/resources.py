"""The one resource every asset and check uses: the data folder and its warehouse."""


from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from pmis_pipeline import warehouse
from pmis_pipeline.archive import Archive
from pmis_pipeline.settings import Settings, load_settings


class PmisResource(dg.ConfigurableResource):
    """Data folder (empty: ``PMIS_DATA_DIR``, else the repository's ``data/``)."""

    data_dir: str = ""

    def settings(self) -> Settings:
        return load_settings(Path(self.data_dir) if self.data_dir else None)

    def archive(self) -> Archive:
        s = self.settings()
        return Archive(s.paths.archive, s.tz)

    @contextmanager
    def build_db(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """The build database under its lock (exclusive to write, shared to read)."""
        with warehouse.connect(self.settings().paths.build_db, read_only=read_only) as con:
            yield con

    def frame(self, sql: str, params: list | dict | None = None) -> pl.DataFrame:
        """One parameterised query on the build database, as a polars frame."""
        with self.build_db(read_only=True) as con:
            return warehouse.fetch_frame(con, sql, params)

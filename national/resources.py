"""The ministry's one resource: the national root (one data folder per province, and ``national/``)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pmis_pipeline import national
from pmis_pipeline.settings import Settings


class NationalResource(dg.ConfigurableResource):
    """National root (empty: ``PMIS_NATIONAL_ROOT``, else the repository's ``data-national/``)."""

    root: str = ""

    def root_path(self) -> Path:
        return Path(self.root).resolve() if self.root else national.national_root()

    def province_settings(self, province: str) -> Settings:
        return national.province_settings(self.root_path(), province)

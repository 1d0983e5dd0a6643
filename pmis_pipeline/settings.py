"""Where the data lives and which rules apply.

Everything the pipeline reads and writes lives under one data folder: ``data/``
in the repository, or the folder named by ``PMIS_DATA_DIR``. Rules come from
``default_config.toml`` in this package, overridden key by key by
``<data>/config.toml`` or by the file named in ``PMIS_CONFIG``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pmis_pipeline.config import ConfigError, PipelineConfig, validate_config

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = Path(__file__).with_name("default_config.toml")


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class Paths:
    """The data folder's layout (see the contract, reference-and-warehouse.md)."""

    data: Path

    @property
    def inbox(self) -> Path:
        return self.data / "inbox"

    @property
    def catalog_dir(self) -> Path:
        return self.data / "catalog"

    @property
    def units_csv(self) -> Path:
        return self.catalog_dir / "units.csv"

    @property
    def deadlines_csv(self) -> Path:
        return self.catalog_dir / "deadlines.csv"

    @property
    def confirmations_csv(self) -> Path:
        """The Department's confirmations of implausible record counts (payments released)."""
        return self.catalog_dir / "payment_confirmations.csv"

    @property
    def warehouse(self) -> Path:
        return self.data / "warehouse"

    @property
    def published_db(self) -> Path:
        """The analysts' read-only file, replaced atomically after each run."""
        return self.warehouse / "pmis.duckdb"

    @property
    def build_db(self) -> Path:
        """The pipeline's own working database (the single writer)."""
        return self.warehouse / "build.duckdb"

    @property
    def archive(self) -> Path:
        return self.warehouse / "archive"

    @property
    def reports(self) -> Path:
        return self.warehouse / "reports"


@dataclass(frozen=True)
class Settings:
    paths: Paths
    config: dict[str, Any]
    model: PipelineConfig

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.model.calendar.timezone)

    def section(self, name: str) -> dict[str, Any]:
        return getattr(self.model, name).model_dump()

    @cached_property
    def documents(self):
        """The ``[documents]`` section as the writers take it (dates checked against letter 346)."""
        from pmis_pipeline.documents.settings import DocumentSettings

        return DocumentSettings.from_config(self.section("documents"))

    @cached_property
    def fingerprint(self) -> str:
        """A short hash of the effective configuration that shapes results
        (defaults merged with overrides; not the quarters offered, how long
        the inbox waits for files to settle, how many records the quarter step
        holds at a time, nor how many backups are kept)."""
        shaping = self.model.model_dump(mode="json", exclude={"partitions", "inbox", "quarter", "backup"})
        text = json.dumps(shaping, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def data_dir() -> Path:
    return Path(os.environ.get("PMIS_DATA_DIR") or REPO_ROOT / "data").resolve()


def config_path(data: Path) -> Path:
    """The operator's override file: ``PMIS_CONFIG`` or ``<data>/config.toml``."""
    return Path(os.environ["PMIS_CONFIG"]) if os.environ.get("PMIS_CONFIG") else data / "config.toml"


def load_config(data: Path) -> tuple[dict[str, Any], PipelineConfig]:
    """The merged configuration, validated; raises :class:`ConfigError` naming the bad key."""
    with DEFAULT_CONFIG.open("rb") as fh:
        config = tomllib.load(fh)
    override = config_path(data)
    source = str(DEFAULT_CONFIG)
    if override.is_file():
        source = str(override)
        try:
            with override.open("rb") as fh:
                config = _deep_merge(config, tomllib.load(fh))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{override}: not valid TOML ({exc})") from None
    return config, validate_config(config, source)


def load_settings(data: Path | None = None) -> Settings:
    """Settings for ``data`` (default: ``PMIS_DATA_DIR`` or the repository's ``data/``)."""
    folder = Path(data).resolve() if data else data_dir()
    config, model = load_config(folder)
    return Settings(paths=Paths(folder), config=config, model=model)

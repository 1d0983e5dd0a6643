"""Quarterly partitions ``YYYY-Qn``, from the configured first quarter to now.

Dagster has no quarterly time-window format with ``Qn`` keys, so the keys are
a static list computed when the code location loads (reload the location in
the UI when a new quarter starts).
"""

from __future__ import annotations

import dagster as dg

from pmis_pipeline.quarters import Quarter, quarter_range, today_quarter
from pmis_pipeline.settings import load_settings


def quarter_keys() -> list[str]:
    settings = load_settings()
    first = Quarter.parse_key(settings.config["partitions"]["first_quarter"])
    last = max(today_quarter(), first)
    return [q.key for q in quarter_range(first, last)]


quarterly_partitions = dg.StaticPartitionsDefinition(quarter_keys())

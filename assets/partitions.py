"""Quarterly partitions ``YYYY-Qn`` and how quarters depend on each other.

The keys are the configured quarters: ``[partitions] first_quarter`` to
``last_quarter`` (default: the current quarter in the local time zone). They
are fixed when the code location loads; when a new quarter begins (or the
configured range changes), the ``quarters_sensor`` reloads the code location
so the UI offers it within a minute, without anyone pressing Reload.

Keys stay ``YYYY-Qn`` (operators and scripts use them), so the partitions are
static; quarter-to-quarter dependencies are explicit static mappings:

* ``SAME_AND_NEXT``: a quarter's data is read by itself and by the next one
  (lost records and identity drift compare with the previous quarter);
* ``ALL_LATER``: a quarter's data is read by every later quarter (a photo once
  received stays with the person);
* ``LATER_SAME_YEAR``: read by the later quarters of its calendar year (a
  record is paid once a year);
* ``STAFF_READERS``: a quarter's resolved staff is read by the next quarter
  (lost records, identity drift) and, through its record counts, by the
  payments of the later quarters of its year and of the next quarter's year
  (a count is judged plausible against the previous quarter's). Dagster takes
  one mapping per upstream asset of a step, so the quarter step declares this
  union for both readers.
"""


from collections.abc import Callable
from datetime import datetime

import dagster as dg

from pmis_pipeline.quarters import Quarter, configured_quarters
from pmis_pipeline.settings import Settings, load_settings


def quarter_keys(settings: Settings | None = None, now: datetime | None = None) -> list[str]:
    """The quarters offered to operators, as of ``now`` in the local time zone."""
    settings = settings or load_settings()
    today = (now or datetime.now(settings.tz)).astimezone(settings.tz).date()
    p = settings.model.partitions
    return [q.key for q in configured_quarters(p.first_quarter, p.last_quarter, today)]


KEYS: list[str] = quarter_keys()
quarterly_partitions = dg.StaticPartitionsDefinition(KEYS)


def _mapping(reads: Callable[[Quarter, Quarter], bool]) -> dg.StaticPartitionMapping:
    """Upstream quarter -> the downstream quarters that read it."""
    quarters = [Quarter.parse_key(k) for k in KEYS]
    table = {up.key: [down.key for down in quarters if reads(up, down)] for up in quarters}
    return dg.StaticPartitionMapping({up: downs for up, downs in table.items() if downs})


SAME_AND_NEXT = _mapping(lambda up, down: down in (up, up.next()))
ALL_LATER = _mapping(lambda up, down: down >= up)
LATER_SAME_YEAR = _mapping(lambda up, down: down >= up and down.year == up.year)
STAFF_READERS = _mapping(
    lambda up, down: down in (up, up.next())
    or (down >= up and down.year == up.year)
    or (down >= up.next() and down.year == up.next().year)
)


def blocking_quarter_check(name: str, asset: str, description: str) -> dg.AssetCheckSpec:
    """A per-quarter check that must pass before what depends on ``asset`` runs
    (a document is placed only after it passed)."""
    return dg.AssetCheckSpec(name, asset=asset, blocking=True, partitions_def=quarterly_partitions, description=description)

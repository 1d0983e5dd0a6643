"""The ministry's Dagster instance: ``dagster.yaml`` on PostgreSQL, with one writer per province.

Written by ``./run national-up`` and by the test into ``DAGSTER_HOME``:

* ``storage: postgres``: runs, the event log and schedules in one PostgreSQL
  database (``dagster-postgres``), so the webserver, the daemon and every run
  process, on any machine, share one instance;
* the run queue admits at most ``max_concurrent_runs`` runs, and at most one
  per province: ``tag_concurrency_limits`` on ``dagster/partition/province``
  with ``applyLimitPerUniqueValue`` (every run of a quarter x province
  partition carries that tag). Runs of different provinces go in parallel;
  a province's next run waits until its previous one has finished;
* pools default to one slot (``pmis_national``: the national views file);
* run monitoring marks a run whose process died as failed.
"""

from __future__ import annotations

import json
from pathlib import Path

#: The run tag the queue limits per unique value (Dagster tags every run of a multi-partition with its keys).
PROVINCE_TAG = "dagster/partition/province"


def dagster_yaml(postgres_url: str | None = None, max_concurrent_runs: int = 4, dequeue_seconds: int = 5) -> str:
    """The instance's configuration. ``postgres_url`` None: read from ``PMIS_PG_URL`` when the instance loads."""
    url = json.dumps(postgres_url) if postgres_url else "\n      env: PMIS_PG_URL"
    return f"""# The ministry's instance (national/instance.py). Personnel data stay on the ministry's machines: no telemetry.
telemetry:
  enabled: false
storage:
  postgres:
    postgres_url: {url}
concurrency:
  runs:
    max_concurrent_runs: {max_concurrent_runs}
    # one run at a time per province (its build.duckdb has one writer); provinces in parallel
    tag_concurrency_limits:
      - key: "{PROVINCE_TAG}"
        value:
          applyLimitPerUniqueValue: true
        limit: 1
  pools:
    default_limit: 1
run_queue:
  dequeue_interval_seconds: {dequeue_seconds}
run_monitoring:
  enabled: true
  poll_interval_seconds: 30
"""


def workspace_yaml() -> str:
    return """load_from:
  - python_module:
      module_name: national.definitions
      location_name: pmis_national
"""


def write_home(home: Path, postgres_url: str | None = None, **kwargs) -> Path:
    """Write ``dagster.yaml`` and ``workspace.yaml`` into ``home``; returns it."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(dagster_yaml(postgres_url, **kwargs), encoding="utf-8")
    (home / "workspace.yaml").write_text(workspace_yaml(), encoding="utf-8")
    return home

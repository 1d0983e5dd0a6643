"""The ``quarters_sensor``: what runs by itself.

Every 15 seconds it

1. keeps the offered quarters current: when a new quarter begins (or the
   configured range changes) it asks the local Dagster webserver to reload
   the code location (``PMIS_DAGSTER_URL``, set by ``./run up``);
2. observes the inputs (each quarter's inbox and deadline, the unit catalog,
   the configuration) and records a new data version for each one that
   changed; an inbox counts once it has looked the same twice in a row, so a
   file still being copied does not start a run;
3. when no run is queued or in progress, asks Dagster which quarters are
   stale or missing and requests a run for the EARLIEST of them (the later
   ones read it: they become stale, if at all, once it is done), one run at a
   time, in order;
4. when every quarter is up to date, publishes the analysts' file once.

A quarter whose run did not bring it up to date (a blocking check failed, or
the run failed) is not retried until one of its inputs, an earlier quarter or
the code changes; the sensor says so, and later quarters wait for it.
"""


import json
import os
import threading
from dataclasses import dataclass, field
from urllib.parse import urlparse

import dagster as dg
from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._time import get_current_datetime

from assets.documents import DOCUMENTS
from assets.inputs import deadlines, inbox, payment_confirmations, pipeline_config, unit_catalog
from assets.partitions import KEYS, quarter_keys
from assets.publish import analyst_warehouse
from assets.reports import REPORTS, unit_templates
from assets.resources import PmisResource
from assets.warehouse import SPECS
from pmis_pipeline import inputs
from pmis_pipeline.settings import Settings

DATA_VERSION_TAG = "dagster/data_version"  # the tag Dagster reads an observation's data version from
LOCATION_NAME = "pmis"  # workspace.yaml
ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]

QUARTER_ASSETS: list[dg.AssetKey] = [spec.key for spec in SPECS] + [d.key for d in (*DOCUMENTS, *REPORTS)]


@dataclass
class Cursor:
    looked: dict[str, str] = field(default_factory=dict)  # input -> version seen at the last look
    reported: dict[str, str] = field(default_factory=dict)  # input -> version last recorded
    attempted: dict[str, str] = field(default_factory=dict)  # quarter -> fingerprint of the last request

    @classmethod
    def load(cls, text: str | None) -> "Cursor":
        return cls(**json.loads(text)) if text else cls()

    def dump(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)


def observe_inputs(settings: Settings, quarters: list[str], today) -> dict[str, str]:
    """Current data version of every input, keyed ``asset`` or ``asset/quarter``."""
    out = {f"{inbox.key.to_user_string()}/{q}": v for q, v in inputs.inbox_versions(settings, quarters).items()}
    out |= {f"{deadlines.key.to_user_string()}/{q}": v for q, v in inputs.deadline_versions(settings, quarters, today).items()}
    out[unit_catalog.key.to_user_string()] = inputs.catalog_version(settings)
    out[pipeline_config.key.to_user_string()] = inputs.config_version(settings)
    out[payment_confirmations.key.to_user_string()] = inputs.confirmations_version(settings)
    return out


def _observation(name: str, version: str) -> dg.AssetObservation:
    key, _, partition = name.partition("/")
    return dg.AssetObservation(asset_key=key, partition=partition or None, tags={DATA_VERSION_TAG: version})


def _resolver(instance: dg.DagsterInstance, asset_graph) -> CachingStaleStatusResolver:
    """Dagster's own staleness (what the UI shows as Stale / Missing)."""
    view = AssetGraphView(
        temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
        instance=instance,
        asset_graph=asset_graph,
    )
    return CachingStaleStatusResolver(instance, asset_graph, view)


def _reload_location(url: str) -> None:
    """Ask the webserver to reload the code location (in the background: the
    reload restarts the process this sensor runs in)."""
    from dagster_graphql import DagsterGraphQLClient

    parsed = urlparse(url)

    def reload() -> None:
        try:
            DagsterGraphQLClient(parsed.hostname or "127.0.0.1", port_number=parsed.port, timeout=30).reload_repository_location(
                LOCATION_NAME
            )
        except Exception:  # the next tick tries again
            pass

    threading.Thread(target=reload, daemon=True).start()


def _fingerprint(code: str, versions: dict[str, str], storage_ids: list[int]) -> str:
    return inputs.short_hash(code, json.dumps(versions, sort_keys=True), json.dumps(storage_ids))


@dg.sensor(
    name="quarters_sensor",
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    target=dg.AssetSelection.assets(*QUARTER_ASSETS, analyst_warehouse, unit_templates),
    description=(
        "Theo dõi thư mục nhận, hạn nộp, danh mục và cấu hình; tự chạy các quý bị cũ (stale) hoặc chưa có, lần lượt "
        "từ quý sớm nhất, mỗi lần một lượt chạy; khi mọi quý đã cập nhật thì công bố tệp cho người phân tích."
    ),
)
def quarters_sensor(context: dg.SensorEvaluationContext, pmis: PmisResource):
    settings = pmis.settings()
    cursor = Cursor.load(context.cursor)
    now = get_current_datetime().astimezone(settings.tz)

    offered = quarter_keys(settings, now)
    quarters = [q for q in KEYS if q in offered]  # until the location reloads, work on what both know
    if offered != KEYS:
        url = os.environ.get("PMIS_DAGSTER_URL")
        if url:
            _reload_location(url)
        context.log.warning(
            f"configured quarters {offered[0]}..{offered[-1]} differ from the loaded {KEYS[0]}..{KEYS[-1]}: "
            + ("reloading the code location" if url else "reload the code location (Deployment -> Reload)")
        )

    current = observe_inputs(settings, quarters, now.date())
    settling = []
    for name, version in current.items():
        if name.startswith(inbox.key.to_user_string()) and cursor.looked.get(name) != version:
            settling.append(name.partition("/")[2])  # changed since the last look: wait for it to settle
        elif cursor.reported.get(name) != version:
            context.instance.report_runless_asset_event(_observation(name, version))
            cursor.reported[name] = version
    cursor.looked = current
    if settling:
        context.update_cursor(cursor.dump())
        return dg.SkipReason(f"thư mục nhận đang thay đổi ({', '.join(settling)}); chờ lần xem sau")

    active = context.instance.get_runs(filters=dg.RunsFilter(statuses=ACTIVE), limit=1)
    if active:
        context.update_cursor(cursor.dump())
        return dg.SkipReason(f"đang chờ lượt chạy {active[0].run_id[:8]} xong")

    asset_graph = context.repository_def.asset_graph
    resolver = _resolver(context.instance, asset_graph)
    code = json.dumps([asset_graph.get(key).code_version for key in QUARTER_ASSETS])  # a new pipeline version retries
    done_before: list[int] = []
    for quarter in quarters:
        statuses = {key: resolver.get_status(key, quarter) for key in QUARTER_ASSETS}
        behind = sorted(k.to_user_string() for k, s in statuses.items() if s != StaleStatus.FRESH)
        if behind:
            fingerprint = _fingerprint(code, cursor.reported, done_before)
            if cursor.attempted.get(quarter) == fingerprint:
                context.update_cursor(cursor.dump())
                return dg.SkipReason(
                    f"{quarter}: lượt chạy trước chưa làm quý này cập nhật ({', '.join(behind)}); xem trang Runs. "
                    "Sẽ thử lại khi có tệp mới, danh mục, cấu hình hoặc quý trước thay đổi; các quý sau chờ."
                )
            cursor.attempted[quarter] = fingerprint
            context.update_cursor(cursor.dump())
            return dg.RunRequest(
                run_key=f"{quarter}:{fingerprint}",
                partition_key=quarter,
                asset_selection=QUARTER_ASSETS,
                tags={"pmis/reason": f"{quarter}: {', '.join(behind)}"[:250]},
            )
        done_before += _latest_storage_ids(context.instance, quarter)
    context.update_cursor(cursor.dump())
    behind = [a.key for a in (analyst_warehouse, unit_templates) if resolver.get_status(a.key) != StaleStatus.FRESH]
    if behind:
        return dg.RunRequest(
            run_key=f"publish:{_fingerprint(code, cursor.reported, done_before)}",
            asset_selection=behind,
            tags={"pmis/reason": "every quarter up to date: publish"},
        )
    return dg.SkipReason("mọi quý đã cập nhật; tệp cho người phân tích đã công bố")


def _latest_storage_ids(instance: dg.DagsterInstance, quarter: str) -> list[int]:
    """Storage ids of the quarter's latest materializations (they change whenever it is rebuilt)."""
    out = []
    for spec in SPECS:
        result = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=spec.key, asset_partitions=[quarter]), limit=1
        )
        out.append(result.records[0].storage_id if result.records else 0)
    return out

"""The inbox sensor: a new or changed file in inbox/YYYY-Qn/ starts that quarter's run."""


import hashlib
import json

import dagster as dg

from assets.partitions import quarterly_partitions
from pmis_pipeline.settings import load_settings


def inbox_fingerprints() -> dict[str, str]:
    """quarter -> hash of (name, size, mtime) of every file in its inbox folder."""
    inbox = load_settings().paths.inbox
    keys = set(quarterly_partitions.get_partition_keys())
    out: dict[str, str] = {}
    if not inbox.is_dir():
        return out
    for folder in sorted(p for p in inbox.iterdir() if p.is_dir() and p.name in keys):
        digest = hashlib.sha256()
        for f in sorted(folder.iterdir()):
            if f.is_file():
                st = f.stat()
                digest.update(f"{f.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        out[folder.name] = digest.hexdigest()[:16]
    return out


def build_inbox_sensor(job) -> dg.SensorDefinition:
    @dg.sensor(
        job=job,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Materializes a quarter when files arrive in or change under data/inbox/YYYY-Qn/.",
    )
    def inbox_sensor(context: dg.SensorEvaluationContext):
        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        current = inbox_fingerprints()
        changed = sorted(q for q, fp in current.items() if seen.get(q) != fp)
        if not changed:
            return dg.SkipReason("no new or changed files in the inbox")
        context.update_cursor(json.dumps(current, sort_keys=True))
        return [dg.RunRequest(partition_key=q, run_key=f"{q}:{current[q]}") for q in changed]

    return inbox_sensor

"""The quarter step alone, without Dagster: what ``quarter_warehouse`` does
(read the files, load them, resolve, check, rank, pay, the quarter's checks,
the data versions) in one process, phase by phase, on a fresh copy of a data
folder's warehouse (no archive, no read cache, unless --keep-warehouse).

    .venv/bin/python bench/quarter_step.py --data /tmp/national --quarter 2009-Q1
    .venv/bin/python bench/quarter_step.py --data D --batch-records 20000     # another batch size
    .venv/bin/python bench/quarter_step.py --data D --profile out.txt         # pyinstrument (extra `bench`)

Run it under ``bench/measure.py``'s sampling (``--measure``) for the peak
memory of the process tree (this process and its reader processes). Prints
each phase's seconds, records/s and a one-line summary.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def run(data: Path, quarter: str, batch_records: int | None, profile: Path | None, duckdb_mb: int | None = None) -> dict:
    from checks.expectations import SuiteRunner
    from checks.quarter import evaluate_quarter_checks
    from pmis_pipeline import quarter as quarter_build
    from pmis_pipeline import warehouse
    from pmis_pipeline.settings import load_settings

    profiler = None
    if profile is not None:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.01)
        profiler.start()
    started = time.perf_counter()
    settings = load_settings(data)
    overrides = {k: v for k, v in (("batch_records", batch_records), ("duckdb_memory_mb", duckdb_mb)) if v}
    if overrides:  # as if [quarter] of the data folder's config.toml said so
        model = settings.model.model_copy(update={"quarter": settings.model.quarter.model_copy(update=overrides)})
        settings = dataclasses.replace(settings, model=model)
    read = quarter_build.read_quarter(settings, quarter)
    phases: dict[str, float] = {"register": round(read.seconds, 2)}
    with warehouse.connect(settings.paths.build_db) as con:
        with warehouse.transaction(con):
            load = quarter_build.load_quarter(con, settings, read, gx=SuiteRunner())
            t = time.perf_counter()
            evaluate_quarter_checks(con, quarter, settings)
            phases["checks"] = round(time.perf_counter() - t, 2)
            t = time.perf_counter()
            quarter_build.data_versions(con, quarter)
            phases["data_versions"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
    phases["commit"] = round(time.perf_counter() - t, 2)
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.stop()
        profile.write_text(profiler.output_text(unicode=True, color=False, show_all=False), encoding="utf-8")
    return {
        "seconds": round(seconds, 1),
        "records": load.resolution["staff"],
        "files": read.intake.submissions.height,
        "batches": read.intake.n_batches,
        "batch_records": read.batch_records,
        "phases": {**phases, **load.seconds},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--quarter", default="2009-Q1")
    parser.add_argument("--batch-records", type=int, help="override [quarter] batch_records")
    parser.add_argument("--duckdb-mb", type=int, help="override [quarter] duckdb_memory_mb")
    parser.add_argument("--keep-warehouse", action="store_true", help="keep the archive and read cache (a warm run)")
    parser.add_argument("--profile", type=Path, help="write a pyinstrument profile (text) here")
    parser.add_argument("--measure", action="store_true", help="run in a child process, sampling the process tree's memory")
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        from measure import run_measured

        if not args.keep_warehouse:
            shutil.rmtree(args.data / "warehouse", ignore_errors=True)
        out = args.data / ".quarter_step.json"
        cmd = [sys.executable, __file__, "--data", str(args.data), "--quarter", args.quarter, "--keep-warehouse", "--json", str(out)]
        if args.batch_records:
            cmd += ["--batch-records", str(args.batch_records)]
        if args.profile:
            cmd += ["--profile", str(args.profile)]
        if args.duckdb_mb:
            cmd += ["--duckdb-mb", str(args.duckdb_mb)]
        m = run_measured(cmd, env=dict(os.environ))
        if m.returncode != 0:
            print(m.output[-4000:])
            return 1
        result = json.loads(out.read_text())
        out.unlink()
        print("  phases (seconds): " + ", ".join(f"{k} {v}" for k, v in result["phases"].items()))
        print(
            f"quarter step: {result['files']} files, {result['records']:,} records, {result['batches']} batches of "
            f"{result['batch_records']:,}; {m.seconds:.1f}s ({result['records'] / m.seconds:,.0f} records/s); "
            f"peak memory {m.peak_rss_mb:,.0f} MB (this process {m.peak_main_mb:,.0f} MB, reader processes "
            f"{m.peak_children_mb:,.0f} MB); CPU {m.cpu_seconds:,.0f} s (this process {m.cpu_main_seconds:,.0f} s; "
            f"{m.cpu_seconds / m.seconds:.2f} cores busy on average)"
        )
        return 0
    if not args.keep_warehouse:
        shutil.rmtree(args.data / "warehouse", ignore_errors=True)
    result = run(args.data, args.quarter, args.batch_records, args.profile, args.duckdb_mb)
    if args.json:
        args.json.write_text(json.dumps(result))
    else:
        print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

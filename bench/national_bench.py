"""A national quarter end to end on one machine (issue 11, targets c and d).

    ./run bench-national                                  # generate 166 provinces at scale 0.5, then run
    ./run bench-national --data /tmp/pmis-national        # an existing folder (bench/national_data.py)
    ./run bench-national --data D --select quarter_warehouse*   # only the quarter step

Runs ``dagster asset materialize -m pmis_pipeline.definitions --select '*'
--partition Q`` on a fresh Dagster instance, with the data folder's warehouse
removed first (no archive, no read cache), sampling the peak memory of the
whole process tree (the run process and its reader processes). Prints the
seconds (target: 5 minutes), records/s, peak memory (target: under 4 GB)
and where it is, the largest file, and each step's seconds.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import (  # noqa: E402
    PYTHON, ROOT, dagster_env, fresh_dagster_home, last_run_steps, materialize_cmd, records_in, run_measured, say,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="a national data folder (default: generate one)")
    parser.add_argument("--provinces", type=int, default=166)
    parser.add_argument("--scale", type=float, default=0.5)
    parser.add_argument("--quarter", default="2009-Q1")
    parser.add_argument("--select", default="*", help="assets to materialize (default: every one)")
    parser.add_argument("--keep-warehouse", action="store_true", help="do not remove the warehouse (archive, cache) first")
    args = parser.parse_args()
    tmp = None
    data = args.data
    if data is None or not (data / "inbox" / args.quarter).is_dir():
        if data is None:
            tmp = tempfile.TemporaryDirectory(prefix="pmis-bench-national-")
            data = Path(tmp.name) / "national"
        started = time.perf_counter()
        subprocess.run([PYTHON, str(ROOT / "bench" / "national_data.py"), "--out", str(data), "--provinces",
                        str(args.provinces), "--scale", str(args.scale), "--quarter", args.quarter], check=True)
        say(f"bench: generated in {time.perf_counter() - started:.0f}s")
    files = [p for p in (data / "inbox" / args.quarter).rglob("*") if p.is_file() and p.suffix.lower() in (".xls", ".xlsx", ".zip")]
    largest = max(files, key=lambda p: p.stat().st_size)
    say(f"bench: {len(files)} files, {sum(p.stat().st_size for p in files) / 1e6:.0f} MB in {args.quarter}; "
        f"largest {largest.relative_to(data / 'inbox')} ({largest.stat().st_size / 1e6:.1f} MB)")
    if not args.keep_warehouse:
        shutil.rmtree(data / "warehouse", ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix="pmis-dagster-"))
    home = fresh_dagster_home(work)
    say(f"bench: dagster asset materialize --select '{args.select}' --partition {args.quarter}")
    m = run_measured(materialize_cmd(args.quarter, args.select), env=dagster_env(data, home))
    steps = last_run_steps(home)
    if m.returncode != 0:
        say(m.output[-4000:])
    n = records_in(data, args.quarter)
    say("  steps (seconds): " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(steps.steps.items(), key=lambda kv: -kv[1])))
    say(
        f"bench-national: {len(files)} files, {n:,} records; {m.seconds:.0f}s end to end "
        f"({n / m.seconds:,.0f} records/s; target 300 s: {'met' if m.seconds <= 300 else f'missed by {m.seconds - 300:.0f}s'}); "
        f"first step after {steps.first_step_start - m.started_at:.1f}s; peak memory {m.peak_rss_mb:,.0f} MB "
        f"(run process {m.peak_main_mb:,.0f} MB, reader processes {m.peak_children_mb:,.0f} MB; target < 4096 MB: "
        f"{'met' if m.peak_rss_mb < 4096 else 'missed'}); run {steps.status}"
    )
    shutil.rmtree(work, ignore_errors=True)
    if tmp:
        tmp.cleanup()
    return 0 if m.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""A whole province quarter, side by side (issue 11, target a).

    ./run bench-province                      # demo province at scale 1, 2009-Q1
    ./run bench-province --data DIR --quarter 2009-Q1 --repeat 3

In one run, on the same files, each a fresh process (imports included), each
on a fresh copy of the inputs (catalog + inbox: no archive, no cache, no
warehouse) and, for Dagster, a fresh instance (DAGSTER_HOME):

1. ours: ``dagster asset materialize -m pmis_pipeline.definitions --select '*'
   --partition Q`` (every asset, every document);
2. the script a user would otherwise write (``bench/user_script.py``: pandas +
   openpyxl/xlrd + Great Expectations + DuckDB);
3. the Dagster floor: the same command on two empty assets (``bench/dagster_floor.py``).

Prints each one's seconds and peak memory (whole process tree), our time from
the command to the first STEP_START (from the run's event log) and each
step's seconds, and the ratio script / ours (target >= 2) and the start-up
(target <= 3 s). With --repeat N, the median of N.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import (  # noqa: E402
    DAGSTER, PYTHON, ROOT, copy_inputs, dagster_env, fresh_dagster_home, last_run_steps, materialize_cmd,
    records_in, run_measured, say,
)


def ensure_demo(data: Path | None, scale: float, quarter: str, work: Path) -> Path:
    if data is not None and (data / "inbox" / quarter).is_dir():
        return data
    from pmis_pipeline.demo import generate_demo

    target = data or work / "demo"
    say(f"bench: generating the demo province at scale {scale} ({quarter}) in {target}")
    started = time.perf_counter()
    generate_demo(target, scale=scale, quarters=(quarter,))
    say(f"bench: generated in {time.perf_counter() - started:.1f}s")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="a data folder with the quarter's inbox (default: a fresh demo)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--quarter", default="2009-Q1")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the median is reported")
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="pmis-bench-province-") if args.work is None else None
    work = args.work or Path(tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    source = ensure_demo(args.data, args.scale, args.quarter, work)
    files = [p for p in (source / "inbox" / args.quarter).rglob("*") if p.is_file() and p.suffix.lower() in (".xls", ".xlsx", ".zip")]
    say(f"bench: {len(files)} files, {sum(p.stat().st_size for p in files) / 1e6:.1f} MB in {args.quarter}")

    ours, script, floor = [], [], []
    for i in range(args.repeat):
        data = copy_inputs(source, work / "ours", [args.quarter])
        home = fresh_dagster_home(work)
        say(f"  [{i + 1}/{args.repeat}] ours: dagster asset materialize --select '*' --partition {args.quarter}")
        m = run_measured(materialize_cmd(args.quarter), env=dagster_env(data, home))
        if m.returncode != 0:
            say(m.output[-3000:])
            raise SystemExit("bench: the run failed")
        steps = last_run_steps(home)
        n = records_in(data, args.quarter)
        ours.append((m, steps, n))
        say(f"      {m.seconds:.2f}s, first step after {steps.first_step_start - m.started_at:.2f}s, "
            f"peak {m.peak_rss_mb:.0f} MB (run process {m.peak_main_mb:.0f} MB, readers {m.peak_children_mb:.0f} MB); "
            f"{n} staff rows")

        say(f"  [{i + 1}/{args.repeat}] the user's script (pandas + openpyxl/xlrd + GX + DuckDB)")
        data = copy_inputs(source, work / "script", [args.quarter])
        s = run_measured([PYTHON, str(ROOT / "bench" / "user_script.py"), str(data), args.quarter, str(work / "script.duckdb")])
        if s.returncode != 0:
            say(s.output[-3000:])
            raise SystemExit("bench: the user's script failed")
        script.append(s)
        say(f"      {s.seconds:.2f}s, peak {s.peak_rss_mb:.0f} MB: {s.output.strip().splitlines()[-1]}")

        say(f"  [{i + 1}/{args.repeat}] the Dagster floor (two empty assets, same command)")
        home = fresh_dagster_home(work)
        f = run_measured(
            [DAGSTER, "asset", "materialize", "-f", str(ROOT / "bench" / "dagster_floor.py"), "--select", "*",
             "--partition", "2009-Q1"],
            env=dagster_env(data, home),
        )
        fsteps = last_run_steps(home)
        floor.append((f, fsteps))
        say(f"      {f.seconds:.2f}s, first step after {fsteps.first_step_start - f.started_at:.2f}s")

    mid = sorted(range(len(ours)), key=lambda k: ours[k][0].seconds)[len(ours) // 2]
    m, steps, n = ours[mid]
    t_ours = m.seconds
    t_script = statistics.median(s.seconds for s in script)
    t_floor = statistics.median(f.seconds for f, _ in floor)
    first = steps.first_step_start - m.started_at
    floor_first = statistics.median(fs.first_step_start - f.started_at for f, fs in floor)
    say("  steps of ours (seconds): " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(steps.steps.items(), key=lambda kv: -kv[1])))
    say(f"  after the last step: {m.started_at + t_ours - steps.run_end:.2f}s (run end to process exit)")
    say(
        f"bench-province: {len(files)} files, {n} records; ours {t_ours:.2f}s ({n / t_ours:,.0f} records/s), "
        f"user's script {t_script:.2f}s, ratio {t_script / t_ours:.2f}x (target >= 2x: "
        f"{'met' if t_script / t_ours >= 2 else 'missed'}); first step after {first:.2f}s (target <= 3 s: "
        f"{'met' if first <= 3 else 'missed'}); Dagster floor {t_floor:.2f}s (first step after {floor_first:.2f}s); "
        f"peak memory ours {m.peak_rss_mb:.0f} MB, script {statistics.median(s.peak_rss_mb for s in script):.0f} MB"
    )
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

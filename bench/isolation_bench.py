"""Isolated reader benchmark: reading a quarter's files in this process
against reading them in the pool of reader processes (issue 8).

    ./run bench-isolation                        # demo province at scale 1, quarter 2009-Q1
    .venv/bin/python bench/isolation_bench.py --data /tmp/intake-demo --quarter 2009-Q1

Prints progress and one summary line: seconds in-process, seconds isolated
(pool already started, as in a long-lived process), the pool's start-up,
and the overhead per file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import best_of  # noqa: E402

from pmis_pipeline.archive import Archive  # noqa: E402
from pmis_pipeline.catalog import read_units  # noqa: E402
from pmis_pipeline.intake import ingest_quarter  # noqa: E402
from pmis_pipeline.isolation import IntakeLimits, shared_pool  # noqa: E402
from pmis_pipeline.settings import load_settings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="existing data folder (default: a fresh demo province in a temp folder)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--quarter", default="2009-Q1")
    parser.add_argument("--repeat", type=int, default=3, help="best of N timings")
    args = parser.parse_args()
    tmp = None
    if args.data and Path(args.data, "inbox").is_dir():
        data = Path(args.data)
    else:
        from pmis_pipeline.demo import generate_demo

        data = Path(args.data) if args.data else Path(tmp := tempfile.mkdtemp(prefix="pmis-bench-"))
        print(f"bench: generating the demo province at scale {args.scale} in {data}", flush=True)
        generate_demo(data, scale=args.scale, quarters=(args.quarter,), progress=lambda m: None)
    settings = load_settings(data)
    units = read_units(settings.paths.units_csv)
    archive = Archive(settings.paths.archive, settings.tz)
    archive.register_folder(settings.paths.inbox / args.quarter, args.quarter)
    n_files = len(archive.receipts(args.quarter))
    print(f"bench: {n_files} files of {args.quarter}; best of {args.repeat}", flush=True)

    inline = IntakeLimits(isolate=False)
    isolated = IntakeLimits()
    t_in, result = best_of(args.repeat, lambda: ingest_quarter(archive, args.quarter, units, limits=inline))
    print(f"  in-process: {t_in:.2f}s ({result.records.height} records)", flush=True)
    started = time.perf_counter()
    t_first = time.perf_counter()
    cold = ingest_quarter(archive, args.quarter, units, limits=isolated)
    t_cold = time.perf_counter() - t_first
    t_iso, result_iso = best_of(args.repeat, lambda: ingest_quarter(archive, args.quarter, units, limits=isolated))
    assert result_iso.records.height == result.records.height == cold.records.height
    workers = shared_pool(isolated).limits.n_workers
    print(f"  isolated ({workers} workers, warm): {t_iso:.2f}s; first run incl. start-up {t_cold:.2f}s", flush=True)
    print(
        f"bench: {n_files} files; in-process {t_in:.2f}s, isolated {t_iso:.2f}s "
        f"({t_iso / t_in:.2f}x, {1000 * (t_iso - t_in) / max(1, n_files):+.1f} ms/file), "
        f"start-up of the pool {t_cold - t_iso:.2f}s; {time.perf_counter() - started:.1f}s in all"
    )
    if tmp:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Validation benchmark: time to check one quarter's records, by engine.

    ./run bench-validation                 # scale 1 (~18,000 records a quarter)
    ./run bench-validation --scale 10      # ~180,000 records

Generates the demo province for two quarters (the cross-record rules compare
with the previous one) in a temp folder, loads them, then times each engine
of the record_issues asset on the second quarter (best of N).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import best_of  # noqa: E402

from checks.expectations import run_suite  # noqa: E402
from pmis_pipeline import crosscheck, quality, rules, warehouse  # noqa: E402
from pmis_pipeline.archive import Archive  # noqa: E402
from pmis_pipeline.catalog import read_units  # noqa: E402
from pmis_pipeline.demo import generate_demo  # noqa: E402
from pmis_pipeline.intake import ingest_quarter  # noqa: E402
from pmis_pipeline.settings import load_settings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    quarters = ("2009-Q1", "2009-Q2")
    with tempfile.TemporaryDirectory(prefix="pmis-bench-") as tmp:
        data = Path(tmp)
        print(f"bench: generating 2 quarters at scale {args.scale}", flush=True)
        generate_demo(data, scale=args.scale, quarters=quarters, progress=None)
        settings = load_settings(data)
        units = read_units(settings.paths.units_csv)
        archive = Archive(settings.paths.archive, settings.tz)
        with warehouse.connect(settings.paths.build_db) as con:
            warehouse.replace_units(con, units)
            for q in quarters:
                print(f"bench: loading {q}", flush=True)
                archive.register_folder(settings.paths.inbox / q, q)
                intake = ingest_quarter(archive, q, units)
                warehouse.replace_quarter(
                    con, q, {"submission_files": intake.submissions, "records": intake.records, "photos": intake.photos}
                )
                warehouse.resolve_quarter(con, q)
            q = quarters[1]
            staff = quality.quarter_staff(con, q)
            n = staff.height
            print(f"bench: validating {q}: {n} records, best of {args.repeat}", flush=True)
            timings = {
                "polars rules": best_of(args.repeat, lambda: rules.record_issues(staff, q, units, settings.section("rules"))),
                "great expectations suite": best_of(args.repeat, lambda: run_suite(staff)),
                "duplicates + identity drift (SQL)": best_of(args.repeat, lambda: quality.sql_issues(con, q)),
                "lost records (SQL)": best_of(args.repeat, lambda: crosscheck.lost_records(con, q)),
            }
        total = 0.0
        for name, (seconds, result) in timings.items():
            total += seconds
            size = result[0].height if isinstance(result, tuple) else result.height
            print(f"  {name}: {seconds:.2f}s ({size} rows out)", flush=True)
        print(f"bench: validation of {n} records in {total:.2f}s ({n / total:,.0f} records/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

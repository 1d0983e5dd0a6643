"""A national quarter for the benchmarks: many demo provinces in one data folder.

    .venv/bin/python bench/national_data.py --out /tmp/pmis-national --provinces 166 --scale 0.5

``pmis demo --scale S`` grows a province by its schools, not by its files: at
scale 80 its 49 reporting units would send ~64 files of ~25,000 records each,
where a national quarter is ~10,000 files of ~150 records. So the national
folder is made of ``--provinces`` demo provinces (``pmis_pipeline.demo``, each
with its own seed), generated in parallel processes (``--workers``, default one
per core). Each province's codes get a prefix (``P001``: unit and reporting
unit codes, staff codes), so that the provinces' units and persons are
distinct; the prefix is applied from outside the generator (the demo itself is
unchanged). The catalogs are concatenated into one ``units.csv``; each
province's files go to ``inbox/<quarter>/<prefix>/`` (with their times) and
its ``receipts.csv`` lines to the quarter's one ``receipts.csv``.

Prints progress and a summary (provinces, files, records, MB, seconds).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _generate(prefix: str, seed: int, scale: float, quarter: str, out: str) -> tuple[str, int, int]:
    """One province with every code prefixed (runs in a worker process)."""
    from pmis_pipeline import demo

    if not getattr(demo, "_national_patched", False):
        build_units = demo.build_units
        new_person = demo.PersonFactory.new_person

        def prefixed_units(seed: int, scale: float):
            p = demo._national_prefix
            return [dataclasses.replace(u, code=p + u.code, reporting=p + u.reporting) for u in build_units(seed, scale)]

        def prefixed_person(self, *args, **kwargs):
            person = new_person(self, *args, **kwargs)
            person.ma_cb = demo._national_prefix + person.ma_cb
            return person

        demo.build_units = prefixed_units
        demo.PersonFactory.new_person = prefixed_person
        demo._national_patched = True
    demo._national_prefix = prefix
    summary = demo.generate_demo(Path(out), scale=scale, seed=seed, quarters=(quarter,))
    return prefix, summary.n_files, summary.n_records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--provinces", type=int, default=166)
    parser.add_argument("--scale", type=float, default=0.5, help="scale of each province (pmis demo --scale)")
    parser.add_argument("--quarter", default="2009-Q1")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    started = time.perf_counter()
    out: Path = args.out
    if out.exists():
        shutil.rmtree(out)
    (out / "catalog").mkdir(parents=True)
    inbox = out / "inbox" / args.quarter
    inbox.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="pmis-national-", dir=out.parent))
    units_rows: list[list[str]] = []
    header: list[str] | None = None
    receipts: list[tuple[str, str]] = []
    n_files = n_records = done = 0
    print(f"national: {args.provinces} provinces at scale {args.scale} ({args.quarter}), {args.workers} processes", flush=True)
    with ProcessPoolExecutor(args.workers) as pool:
        futures = [
            pool.submit(_generate, f"P{i:03d}", 2009 + i, args.scale, args.quarter, str(work / f"P{i:03d}"))
            for i in range(1, args.provinces + 1)
        ]
        for future in as_completed(futures):
            prefix, files, records = future.result()
            folder = work / prefix
            with (folder / "catalog" / "units.csv").open(encoding="utf-8", newline="") as fh:
                rows = list(csv.reader(fh))
            header = header or rows[0]
            units_rows += rows[1:]
            source = folder / "inbox" / args.quarter
            rc = source / "receipts.csv"
            if rc.is_file():
                with rc.open(encoding="utf-8", newline="") as fh:
                    receipts += [(f"{prefix}/{r['file']}", r["received_at"]) for r in csv.DictReader(fh)]
                rc.unlink()
            source.rename(inbox / prefix)  # keeps the files' times
            shutil.rmtree(folder)
            n_files += files
            n_records += records
            done += 1
            if done % max(1, args.provinces // 20) == 0 or done == args.provinces:
                print(f"  [{done}/{args.provinces}] {n_files} files, {n_records:,} records, "
                      f"{time.perf_counter() - started:.0f}s", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    with (out / "catalog" / "units.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header or [])
        writer.writerows(sorted(units_rows))
    with (inbox / "receipts.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "received_at"])
        writer.writerows(receipts)
    (out / "config.toml").write_text(
        f'# bench/national_data.py\n[partitions]\nfirst_quarter = "{args.quarter}"\nlast_quarter = "{args.quarter}"\n'
    )
    size = sum(p.stat().st_size for p in inbox.rglob("*") if p.is_file()) / 1e6
    print(f"national: {args.provinces} provinces, {len(units_rows)} units, {n_files} files ({size:.0f} MB), "
          f"{n_records:,} records written in {time.perf_counter() - started:.0f}s to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

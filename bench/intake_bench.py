"""Intake benchmark: rows/s of reading + normalising a quarter, against fastexcel alone.

    ./run bench                       # demo province at scale 1, quarter 2009-Q1
    ./run bench --scale 10 --quarter 2009-Q2
    ./run bench --data /path/to/data  # an existing data folder (nothing generated)

Prints progress, then one summary line per measurement. The target (issue 2):
intake of a quarter within 2x the time fastexcel alone takes to read the files.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import fastexcel

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import best_of  # noqa: E402

from pmis_pipeline.archive import Archive  # noqa: E402
from pmis_pipeline.catalog import read_units  # noqa: E402
from pmis_pipeline.intake import ingest_quarter  # noqa: E402
from pmis_pipeline.settings import load_settings  # noqa: E402


def fastexcel_only(files: list[tuple[str, Path]]) -> int:
    """Read every sheet of every workbook as text, as the reader does; return rows."""
    rows = 0
    for name, path in files:
        data = path.read_bytes()
        if name.lower().endswith(".zip"):
            try:
                with zipfile.ZipFile(path) as zf:
                    books = [n for n in zf.namelist() if n.lower().endswith((".xlsx", ".xls")) and "/" not in n]
                    data = zf.read(books[0]) if books else b""
            except zipfile.BadZipFile:
                continue
        try:
            reader = fastexcel.read_excel(data)
            for name in reader.sheet_names:
                rows += reader.load_sheet(name, header_row=None, dtypes="string", skip_rows=0).to_polars().height
        except Exception:
            continue
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="existing data folder (default: a fresh demo province in a temp folder)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--quarter", default="2009-Q1")
    parser.add_argument("--repeat", type=int, default=3, help="best of N timings")
    args = parser.parse_args()

    tmp = None
    if args.data:
        data = Path(args.data)
    else:
        from pmis_pipeline.demo import generate_demo

        tmp = tempfile.TemporaryDirectory(prefix="pmis-bench-")
        data = Path(tmp.name)
        print(f"bench: generating the demo province at scale {args.scale} in {data}", flush=True)
        started = time.perf_counter()
        generate_demo(data, scale=args.scale, quarters=(args.quarter,), progress=lambda m: print(f"  {m}", flush=True))
        print(f"bench: generated in {time.perf_counter() - started:.1f}s", flush=True)
    settings = load_settings(data)
    units = read_units(settings.paths.units_csv)
    archive = Archive(settings.paths.archive, settings.tz)
    archive.register_folder(settings.paths.inbox / args.quarter, args.quarter)
    files = [(r.file_name, archive.object_path(r.sha256)) for r in archive.receipts(args.quarter)]
    size_mb = sum(f.stat().st_size for _, f in files) / 1e6
    print(f"bench: {len(files)} files, {size_mb:.1f} MB; timing best of {args.repeat}", flush=True)

    t_fx, fx_rows = best_of(args.repeat, lambda: fastexcel_only(files))
    print(f"  fastexcel alone: {t_fx:.2f}s ({fx_rows} sheet rows)", flush=True)
    t_in, intake = best_of(args.repeat, lambda: ingest_quarter(archive, args.quarter, units))
    n = intake.records.height
    print(f"  intake (read + validate ThongTin + normalise): {t_in:.2f}s ({n} records)", flush=True)
    print(
        f"bench: {n} records; intake {n / t_in:,.0f} rows/s; fastexcel alone {t_fx:.2f}s; "
        f"ratio {t_in / t_fx:.2f}x (target <= 2x); rejected files {intake.n_rejected}"
    )
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

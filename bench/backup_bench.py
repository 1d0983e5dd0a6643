"""Backup benchmark: sizes and times of backup, verify, restore and rebuild.

    ./run bench-backup                       # the demo at scale 1, four quarters of 2009
    ./run bench-backup --scale 0.2
    ./run bench-backup --data /srv/pmis-data # an existing (materialized) data folder, read only

Without --data it writes the demo province in a temp folder and builds its
quarters with real in-process Dagster runs (as ``pmis rebuild`` does). Then,
each timed once (they write files: a best-of would time a warm cache):
a first backup, a second one (incremental), verify, restore into an empty
folder, and a rebuild of the whole warehouse from the restored archive.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pmis_pipeline import backup as bk  # noqa: E402
from pmis_pipeline.cli import _dagster_runner  # noqa: E402
from pmis_pipeline.demo import generate_demo  # noqa: E402


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def timed(label: str, fn):
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    print(f"bench: {label}: {seconds:.1f}s", flush=True)
    return seconds, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--data", help="an existing data folder (only read)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pmis-bench-backup-") as tmp:
        root = Path(tmp)
        if args.data:
            data = Path(args.data).resolve()
        else:
            data = root / "data"
            print(f"bench: generating the demo province at scale {args.scale} (four quarters)", flush=True)
            generate_demo(data, scale=args.scale)
            os.environ["PMIS_DATA_DIR"] = str(data)
            quarters = bk.rebuild_quarters(data)
            run_quarter, publish = _dagster_runner(data, data, quarters)
            for q in quarters:
                timed(f"building {q} from the inbox", lambda q=q: run_quarter(q))
            publish()
        archive = data / "warehouse" / "archive"
        published = data / "warehouse" / "pmis.duckdb"
        print(f"bench: data folder: published {mb(size(published))}, archive {mb(size(archive))} "
              f"({len(list((archive / 'objects').glob('*/*')))} files)", flush=True)

        folder = root / "usb" / "pmis-backup"
        t1, first = timed("first backup", lambda: bk.backup(data, folder))
        t2, second = timed("second backup (nothing new)", lambda: bk.backup(data, folder))
        t3, checks = timed("verify the folder (2 snapshots)", lambda: bk.verify(folder))
        assert all(not c.problems for c in checks)
        t4, restored = timed("restore into an empty folder", lambda: bk.restore(folder, root / "restored"))
        quarters = bk.rebuild_quarters(root / "restored")
        run_quarter, publish = _dagster_runner(root / "restored", root / "rebuilt", quarters)
        t5, rebuilt = timed(
            f"rebuild {len(quarters)} quarters from the restored archive",
            lambda: bk.rebuild(root / "restored", root / "rebuilt", run_quarter, publish),
        )
        print()
        print("| step | time | size |")
        print("|---|---|---|")
        print(f"| first backup | {t1:.1f} s | {mb(first.snapshot_bytes)} written ({first.objects} archived files) |")
        print(f"| second backup | {t2:.1f} s | {mb(second.snapshot_bytes)} written ({second.new_objects} new archived files) |")
        print(f"| verify (2 snapshots) | {t3:.1f} s | backup folder {mb(size(folder))} |")
        print(f"| restore | {t4:.1f} s | {mb(restored.bytes)} written ({restored.staff_rows} staff rows) |")
        print(f"| rebuild | {t5:.1f} s | {len(rebuilt.quarters)} quarters, {rebuilt.staff_rows} staff rows |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

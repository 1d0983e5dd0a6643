"""The ministry's location on one machine: ``./run national-demo`` and ``./run national-up``.

    ./run national-demo [--root R] [--provinces 3] [--scale 0.05] [--force]
    ./run national-up   [--port 3002]

``national-demo`` writes demo provinces (``pmis_pipeline.demo``, one seed each)
into ``<root>/P01``, ``P02``... each a data folder of its own, and the root's
``config.toml`` (the quarters). ``national-up`` starts Dagster (webserver,
daemon, code server: ``dagster dev``) on the ``national.definitions``
location, with the instance on PostgreSQL: ``PMIS_PG_URL`` when set (the
ministry's server, e.g. ``postgresql+psycopg2://pmis:...@db:5432/dagster``),
else a local server of the distribution's packages in ``PMIS_PG_DIR``
(default ``.national_home/pg``), stopped when Dagster stops.

Errors are one line (``PMIS_DEBUG=1`` for a traceback).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from national.instance import write_home
from pmis_pipeline import national
from pmis_pipeline.settings import REPO_ROOT

DEMO_QUARTERS = ("2009-Q1", "2009-Q2")


def cmd_demo(args: argparse.Namespace) -> int:
    from pmis_pipeline.demo import generate_demo

    root = Path(args.root).resolve() if args.root else national.national_root()
    existing = national.province_folders(root)
    if existing and not args.force:
        print(f"national demo: {root} already holds provinces ({', '.join(existing)}); --force writes the demo over them")
        return 1
    started = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    first, last = DEMO_QUARTERS[0], DEMO_QUARTERS[-1]
    (root / "config.toml").write_text(
        f'# Written by ./run national-demo: the quarters of the national location.\n[partitions]\n'
        f'first_quarter = "{first}"\nlast_quarter = "{last}"\n',
        encoding="utf-8",
    )
    files = records = 0
    for i in range(1, args.provinces + 1):
        code = f"P{i:02d}"
        summary = generate_demo(root / code, scale=args.scale, seed=2009 + i, quarters=DEMO_QUARTERS)
        files, records = files + summary.n_files, records + summary.n_records
        print(f"  [{i}/{args.provinces}] {code}: {summary.n_files} files, {summary.n_records} records", flush=True)
    print(f"national demo: {args.provinces} provinces, {files} files, {records} records in {', '.join(DEMO_QUARTERS)} "
          f"written to {root} in {time.perf_counter() - started:.1f}s")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from national.pgserver import LocalPostgres

    root = national.national_root()
    provinces = national.province_folders(root)
    if not provinces:
        print(f"national up: no province folders under {root} (PMIS_NATIONAL_ROOT); ./run national-demo writes some",
              file=sys.stderr)
        return 1
    home = Path(os.environ.get("PMIS_NATIONAL_HOME") or REPO_ROOT / ".national_home").resolve()
    server = None
    if os.environ.get("PMIS_PG_URL"):
        write_home(home)  # the instance reads PMIS_PG_URL itself
        where = "PMIS_PG_URL"
    else:
        server = LocalPostgres(Path(os.environ.get("PMIS_PG_DIR") or home / "pg"))
        server.start()
        write_home(home, server.url)
        where = f"a local server in {server.folder} (port {server.port}, stopped with Dagster)"
    env = {**os.environ, "DAGSTER_HOME": str(home), "PMIS_NATIONAL_ROOT": str(root)}
    print(f"national up: provinces {', '.join(provinces)} under {root}; Dagster's instance on PostgreSQL: {where}")
    print(f"national up: Dagster UI at http://127.0.0.1:{args.port} (Ctrl-C stops it); one run per quarter x province, "
          "provinces in parallel, one at a time per province")
    try:
        return subprocess.call(
            [str(Path(sys.executable).parent / "dagster"), "dev", "-h", "127.0.0.1", "-p", str(args.port),
             "-w", str(home / "workspace.yaml"), "--log-level", os.environ.get("PMIS_LOG_LEVEL", "warning")],
            env=env,
        )
    except KeyboardInterrupt:
        return 130
    finally:
        if server is not None:
            server.stop_quietly()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="national", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="write demo provinces, one data folder each, under the national root")
    demo.add_argument("--root", help="national root (default: PMIS_NATIONAL_ROOT or ./data-national)")
    demo.add_argument("--provinces", type=int, default=3)
    demo.add_argument("--scale", type=float, default=0.05, help="scale of each province (pmis demo --scale)")
    demo.add_argument("--force", action="store_true", help="write even if the root already holds provinces")
    demo.set_defaults(func=cmd_demo)
    up = sub.add_parser("up", help="start Dagster on the national location, the instance on PostgreSQL")
    up.add_argument("--port", type=int, default=int(os.environ.get("PMIS_PORT", 3002)))
    up.set_defaults(func=cmd_up)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except Exception as exc:  # one line for people; PMIS_DEBUG=1 for the traceback
        if os.environ.get("PMIS_DEBUG"):
            raise
        print(f"national {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""``pmis``: the project's command line (demo data, render, template, export, verify-export, page,
backup, restore, rebuild, quarantine).

Errors are one line naming what failed and where to look, never a traceback
(set PMIS_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from pmis_pipeline.settings import data_dir


def _progress(msg: str) -> None:
    print(f"  {msg}", flush=True)


def cmd_demo(args: argparse.Namespace) -> int:
    from pmis_pipeline.demo import generate_demo

    data = Path(args.data).resolve() if args.data else data_dir()
    inbox = data / "inbox"
    if inbox.is_dir() and any(p.is_dir() for p in inbox.iterdir()) and not args.force:
        print(f"pmis demo: {inbox} already holds quarters; use --force to write the demo province over them")
        return 1
    print(f"pmis demo: writing a synthetic province (scale {args.scale}, seed {args.seed}) to {data}")
    started = time.perf_counter()
    summary = generate_demo(data, scale=args.scale, seed=args.seed, progress=_progress)
    print(
        f"pmis demo: done in {time.perf_counter() - started:.1f}s: {summary.n_units} units "
        f"({summary.n_reporting_units} reporting), {summary.n_persons} persons, {summary.n_files} files, "
        f"{summary.n_records} records in {', '.join(summary.quarters)}; truth in {summary.truth_dir}"
    )
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    """Convert a quarter's signable documents (or, with --all, every workbook) to PDF with LibreOffice."""
    from pmis_pipeline.documents.render import RenderUnavailable, pdf_page_count, render_pdfs, signable_documents
    from pmis_pipeline.settings import load_settings

    reports = load_settings(Path(args.data) if args.data else None).paths.reports
    quarters = [args.quarter] if args.quarter else sorted(p.name for p in reports.iterdir() if p.is_dir()) if reports.is_dir() else []
    books = []
    for q in quarters:
        folder = reports / q
        books += sorted(p for p in folder.rglob("*.xlsx") if "pdf" not in p.parts) if args.all else signable_documents(folder)
    if not books:
        print(f"pmis render: no workbooks under {reports} (materialize a quarter first)", file=sys.stderr)
        return 1
    pages = 0
    try:
        for i, book in enumerate(books, start=1):
            (pdf,) = render_pdfs([book])
            n = pdf_page_count(pdf)
            pages += n
            print(f"  [{i}/{len(books)}] {pdf} ({n} pages)", flush=True)
    except RenderUnavailable as exc:
        print(f"pmis render: {exc}", file=sys.stderr)
        return 1
    print(f"pmis render: {len(books)} PDF files, {pages} pages, written next to their workbooks (pdf/ folders)")
    return 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    """Set an archived file version aside (or bring it back) with a reason."""
    from pmis_pipeline.archive import Archive
    from pmis_pipeline.settings import load_settings

    settings = load_settings(Path(args.data) if args.data else None)
    archive = Archive(settings.paths.archive, settings.tz)
    if args.list:
        for r in archive.receipts(args.quarter):
            state = f"cách ly: {r.quarantine_reason}" if r.quarantine_reason is not None else ""
            print(f"  {r.sha256[:12]}  {r.received_at:%Y-%m-%d %H:%M}  {r.file_name}  {state}")
        return 0
    if not args.sha or not args.reason:
        print("pmis quarantine: give --sha and --reason (or --list)", file=sys.stderr)
        return 2
    archive.set_quarantine(args.quarter, args.sha, args.reason, release=args.release)
    done = "brought back" if args.release else "set aside"
    print(f"pmis quarantine: {args.quarter} {args.sha}: {done} ({args.reason}); the quarter is rebuilt at the next run")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    """The units' blank template: one for a unit, for every reporting unit, or a plain one."""
    from pmis_pipeline.catalog import read_units, reporting_units
    from pmis_pipeline.settings import load_settings
    from pmis_pipeline.template import write_template

    settings = load_settings(Path(args.data) if args.data else None)
    units = read_units(settings.paths.units_csv) if (args.unit or args.all or settings.paths.units_csv.is_file()) else None
    folder = settings.paths.warehouse / "templates"
    if args.all:
        codes = reporting_units(units).sort("ma_don_vi")["ma_don_vi"].to_list()
        if args.out:
            folder = Path(args.out)
    else:
        codes = [args.unit.strip().upper() if args.unit else None]
    started = time.perf_counter()
    written = []
    for i, code in enumerate(codes, start=1):
        name = f"mau-pmis-{code}.xlsx" if code else "mau-pmis.xlsx"
        out = Path(args.out) if args.out and not args.all else folder / name
        write_template(out, units=units, unit_code=code, quarter=args.quarter)
        written.append(out)
        print(f"  [{i}/{len(codes)}] {out}", flush=True)
    print(f"pmis template: {len(written)} template(s) written in {time.perf_counter() - started:.1f}s"
          + (f" to {written[0].parent}" if written else ""))
    return 0


def _published(args: argparse.Namespace):
    from pmis_pipeline.settings import load_settings

    settings = load_settings(Path(args.data) if args.data else None)
    db = settings.paths.published_db
    if not db.is_file():
        raise FileNotFoundError(f"{db} does not exist (materialize a quarter first)")
    return settings, db


def cmd_export(args: argparse.Namespace) -> int:
    """The quarter's consolidated export for SREM, from the published warehouse."""
    import duckdb

    from pmis_pipeline.export import export_folder, export_quarter

    settings, db = _published(args)
    folder = Path(args.out) if args.out else export_folder(settings.paths.warehouse, args.quarter)
    print(f"pmis export: {args.quarter} from {db}")
    started = time.perf_counter()
    con = duckdb.connect(str(db), read_only=True)
    try:
        manifest = export_quarter(con, args.quarter, folder, prepared_by=args.prepared_by, progress=_progress)
    finally:
        con.close()
    print(f"pmis export: {len(manifest['files'])} files and manifest.json in {folder} "
          f"({time.perf_counter() - started:.1f}s)")
    return 0


def cmd_page(args: argparse.Namespace) -> int:
    """Write the quarter pages (index.html beside each quarter's workbooks) from the published warehouse."""
    import duckdb

    from pmis_pipeline.documents.quarter_page import write_quarter_report

    settings, db = _published(args)
    con = duckdb.connect(str(db), read_only=True)
    try:
        quarters = [args.quarter] if args.quarter else [
            q for (q,) in con.execute("SELECT DISTINCT quarter FROM core.unit_compliance ORDER BY 1").fetchall()
        ]
        if not quarters:
            print(f"pmis page: {db} holds no quarter yet (materialize one first)", file=sys.stderr)
            return 1
        for q in quarters:
            print(f"  {write_quarter_report(settings, con, q)}", flush=True)
    finally:
        con.close()
    base = os.environ.get("PMIS_REPORTS_URL")
    where = f"{base}/" if base else str(settings.paths.reports / "index.html")
    print(f"pmis page: {len(quarters)} quarter page(s) and the list of quarters; open {where}")
    return 0


def cmd_verify_export(args: argparse.Namespace) -> int:
    """Check an export folder against its manifest."""
    from pmis_pipeline.export import verify_export

    problems = verify_export(Path(args.folder))
    for problem in problems:
        print(f"  {problem}")
    if problems:
        print(f"pmis verify-export: {len(problems)} problem(s) in {args.folder}", file=sys.stderr)
        return 1
    print(f"pmis verify-export: {args.folder} matches its manifest")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Write a dated, self-checking snapshot to a folder (``--to``), or check one (``--verify``)."""
    from pmis_pipeline.backup import backup, verify

    if args.verify:
        checks = verify(Path(args.verify))
        bad = 0
        for check in checks:
            meta = check.meta or {}
            held = meta.get("warehouse") or {}
            what = f"{len(meta.get('files', {}))} files, {len(meta.get('objects', {}))} archived files"
            if held:
                what += f", {len(held.get('quarters', []))} quarter(s), {held.get('staff_rows')} staff rows"
            print(f"  {check.snapshot.name}: {'ok' if not check.problems else 'FAILED'} ({what})", flush=True)
            for problem in check.problems[:20]:
                print(f"      {problem}")
            if len(check.problems) > 20:
                print(f"      ... and {len(check.problems) - 20} more")
            bad += bool(check.problems)
        if bad:
            print(f"pmis backup: {bad} of {len(checks)} snapshot(s) in {args.verify} failed verification", file=sys.stderr)
            return 1
        print(f"pmis backup: {len(checks)} snapshot(s) in {args.verify} verified: every file matches its sha256")
        return 0

    data = Path(args.data).resolve() if args.data else data_dir()
    print(f"pmis backup: {data} -> {Path(args.to).resolve()}", flush=True)
    summary = backup(data, Path(args.to), keep=args.keep, progress=_progress)
    for warning in summary.warnings:
        print(f"  warning: {warning}")
    held = f"{len(summary.quarters)} quarter(s), {summary.staff_rows} staff rows, " if summary.staff_rows is not None else ""
    print(
        f"pmis backup: snapshot {summary.snapshot.name} written and verified in {summary.seconds:.1f}s: "
        f"{held}{summary.objects} archived files ({summary.new_objects} new); "
        f"{summary.snapshot_bytes / 1e6:.1f} MB written to {summary.folder}"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Verify a snapshot and bring it back into a data folder."""
    from pmis_pipeline.backup import restore

    target = Path(args.to).resolve()
    print(f"pmis restore: {Path(args.from_).resolve()}{'/' + args.snapshot if args.snapshot else ''} -> {target}", flush=True)
    summary = restore(Path(args.from_), target, snapshot=args.snapshot, force=args.force, progress=_progress)
    held = f"{len(summary.quarters)} quarter(s) ({', '.join(summary.quarters)}), {summary.staff_rows} staff rows; " if summary.quarters else ""
    print(
        f"pmis restore: snapshot {summary.snapshot.name} restored into {target} in {summary.seconds:.1f}s: "
        f"{held}{summary.objects} archived files. Start the pipeline (./run up): quarters whose inputs "
        "changed are rebuilt from the archive by themselves"
    )
    return 0


def _dagster_runner(source: Path, target: Path, quarters: list[str]):
    """Build one quarter / publish with real in-process Dagster runs on ``target``
    (the sensor's selection: the quarter's tables with their checks, and its documents)."""
    from pmis_pipeline.backup import BackupError

    saved = os.environ.get("PMIS_DATA_DIR")
    os.environ["PMIS_DATA_DIR"] = str(source)  # the partitions are the configured ones (the same config.toml)
    try:
        import dagster as dg

        from pmis_pipeline.definitions import ALL_ASSETS  # first: it silences Dagster's beta warnings

        from assets.partitions import KEYS
        from assets.publish import analyst_warehouse
        from assets.resources import PmisResource
        from assets.sensors import QUARTER_ASSETS
    finally:
        if saved is None:
            os.environ.pop("PMIS_DATA_DIR", None)
        else:
            os.environ["PMIS_DATA_DIR"] = saved
    outside = [q for q in quarters if q not in KEYS]
    if outside:
        raise BackupError(
            f"the archive holds {', '.join(outside)}, outside the quarters this code location offers "
            f"({KEYS[0]}..{KEYS[-1]}): widen [partitions] in config.toml"
        )
    # a failure is reported below in one line; PMIS_DEBUG=1 shows Dagster's own log
    level = "WARNING" if os.environ.get("PMIS_DEBUG") else "CRITICAL"
    quiet = {"loggers": {"console": {"config": {"log_level": level}}}}
    resources = {"pmis": PmisResource(data_dir=str(target))}
    instance = dg.DagsterInstance.ephemeral()

    def run(selection, partition_key: str | None, what: str) -> None:
        result = dg.materialize(
            ALL_ASSETS, partition_key=partition_key, selection=selection, resources=resources,
            instance=instance, run_config=quiet, raise_on_error=False,
        )
        if result.success:
            return
        failures = result.get_step_failure_events()
        if not failures:
            raise BackupError(f"{what}: the run failed (a blocking check did not pass; PMIS_DEBUG=1 shows the run's log)")
        error = failures[0].step_failure_data.error
        while error is not None and error.cause is not None:  # the user code's own error, not Dagster's wrapper
            error = error.cause
        detail = error.message.strip().splitlines()[0] if error is not None else "no detail"
        raise BackupError(f"{what}: the run failed at {failures[0].step_key}: {detail}")

    return (lambda quarter: run(QUARTER_ASSETS, quarter, quarter)), (lambda: run([analyst_warehouse.key], None, "publish"))


def cmd_rebuild(args: argparse.Namespace) -> int:
    """Rebuild the whole warehouse from the archive (and the catalog, deadlines and config.toml) alone."""
    from pmis_pipeline.backup import rebuild, rebuild_preflight, rebuild_quarters

    source = Path(args.from_).resolve() if args.from_ else data_dir()
    target = Path(args.to).resolve()
    rebuild_preflight(source, target)
    quarters = rebuild_quarters(source)
    print(f"pmis rebuild: {source} -> {target}: {len(quarters)} quarter(s) (the archive's and the configured range)", flush=True)
    run_quarter, publish = _dagster_runner(source, target, quarters)
    summary = rebuild(source, target, run_quarter, publish, progress=_progress)
    print(
        f"pmis rebuild: {len(summary.quarters)} quarter(s) ({summary.quarters[0]}..{summary.quarters[-1]}), "
        f"{summary.staff_rows} staff rows rebuilt from {summary.objects} archived files in {summary.seconds:.1f}s; "
        f"analysts' file {target / 'warehouse' / 'pmis.duckdb'}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pmis", description="PMIS quarterly pipeline tools")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="write the deterministic demo province (catalog + four quarters of 2009)")
    demo.add_argument("--data", help="data folder (default: PMIS_DATA_DIR or ./data)")
    demo.add_argument("--scale", type=float, default=1.0, help="1.0 = ~18,000 persons; 0.05 for tests; 10 for benchmarks")
    demo.add_argument("--seed", type=int, default=2009)
    demo.add_argument("--force", action="store_true", help="write even if the inbox already holds quarters")
    demo.set_defaults(func=cmd_demo)
    render = sub.add_parser("render", help="convert a quarter's signable documents to PDF with LibreOffice")
    render.add_argument("--data", help="data folder (default: PMIS_DATA_DIR or ./data)")
    render.add_argument("--quarter", help="YYYY-Qn (default: every quarter with reports)")
    render.add_argument("--all", action="store_true", help="every workbook, not only the signable documents")
    render.set_defaults(func=cmd_render)
    quarantine = sub.add_parser("quarantine", help="set an archived file version aside (not read), or bring it back")
    quarantine.add_argument("--data", help="data folder (default: PMIS_DATA_DIR or ./data)")
    quarantine.add_argument("--quarter", required=True, help="YYYY-Qn")
    quarantine.add_argument("--sha", help="the version's sha256 (its first 8 or more hex digits)")
    quarantine.add_argument("--reason", help="why (recorded in the archive's manifest and shown to the unit)")
    quarantine.add_argument("--release", action="store_true", help="bring the version back")
    quarantine.add_argument("--list", action="store_true", help="list the quarter's hand-overs")
    quarantine.set_defaults(func=cmd_quarantine)
    template = sub.add_parser("template", help="write the units' blank template (ThongTin, HoSo, DonVi, instructions)")
    template.add_argument("--unit", help="reporting unit code: its template, with its schools in DonVi")
    template.add_argument("--all", action="store_true", help="one template per reporting unit of the catalog")
    template.add_argument("--quarter", help="YYYY-Qn to pre-fill in ThongTin")
    template.add_argument("--out", help="output file (with --all: folder); default warehouse/templates/")
    template.add_argument("--data", help="data folder (default: PMIS_DATA_DIR or ./data)")
    template.set_defaults(func=cmd_template)
    export = sub.add_parser("export", help="write a quarter's consolidated export for SREM (workbook, Parquet, manifest)")
    export.add_argument("--quarter", required=True, help="YYYY-Qn")
    export.add_argument("--out", help="output folder (default: warehouse/export/YYYY-Qn)")
    export.add_argument("--prepared-by", help="name written as 'Người lập' in ThongTin")
    export.add_argument("--data", help="data folder (default: PMIS_DATA_DIR or ./data)")
    export.set_defaults(func=cmd_export)
    page = sub.add_parser("page", help="write the quarter pages (HTML report beside each quarter's workbooks)")
    page.add_argument("--quarter", help="YYYY-Qn (default: every quarter in the published warehouse)")
    page.add_argument("--data", help="data folder (default: PMIS_DATA_DIR or ./data)")
    page.set_defaults(func=cmd_page)
    verify = sub.add_parser("verify-export", help="check an export folder against its manifest")
    verify.add_argument("folder")
    verify.set_defaults(func=cmd_verify_export)
    backup = sub.add_parser(
        "backup", help="write a dated, self-checking snapshot (warehouse, archive, catalog, configuration) to a folder, or --verify one"
    )
    where = backup.add_mutually_exclusive_group(required=True)
    where.add_argument("--to", metavar="FOLDER", help="backup folder (e.g. /media/usb/pmis-backup); snapshots share its objects/")
    where.add_argument("--verify", metavar="FOLDER[/SNAPSHOT]", help="check every snapshot of a folder, or one")
    backup.add_argument("--keep", type=int, help="snapshots to keep in the folder (default: [backup] keep; 0 = all)")
    backup.add_argument("--data", help="data folder (default: PMIS_DATA_DIR or ./data)")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="verify a snapshot and bring it back into a data folder")
    restore.add_argument("--from", dest="from_", required=True, metavar="FOLDER", help="backup folder (or one snapshot folder)")
    restore.add_argument("--snapshot", metavar="NAME", help="which snapshot (default: the latest)")
    restore.add_argument("--to", required=True, metavar="DATA", help="data folder to restore into (empty, or --force)")
    restore.add_argument("--force", action="store_true", help="restore into a non-empty data folder (its warehouse, catalog and config.toml are moved to replaced-<time>/)")
    restore.set_defaults(func=cmd_restore)
    rebuild = sub.add_parser("rebuild", help="rebuild the whole warehouse from the archive alone into a fresh data folder")
    rebuild.add_argument("--from", dest="from_", metavar="DATA", help="data folder whose archive is read (default: PMIS_DATA_DIR or ./data)")
    rebuild.add_argument("--to", required=True, metavar="NEWDATA", help="fresh (empty) data folder to build")
    rebuild.set_defaults(func=cmd_rebuild)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("pmis: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line; the traceback only on request
        if os.environ.get("PMIS_DEBUG"):
            raise
        from pmis_pipeline.backup import BackupError

        if isinstance(exc, BackupError):  # already says what and where
            print(f"pmis {args.command}: error: {exc}", file=sys.stderr)
            return 1
        print(f"pmis {args.command}: error: {type(exc).__name__}: {exc} (PMIS_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

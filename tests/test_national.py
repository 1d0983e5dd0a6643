"""The first step beyond one machine (README "Beyond one machine"): the ministry's
code location (``national/``) on a Dagster instance stored in a local
PostgreSQL server, provinces as a second partition dimension, and runs of
different provinces in parallel, each with its own DuckDB writer.

What runs here is what a ministry's server runs: PostgreSQL from the
distribution's packages (initdb into a temporary folder, started on a free
localhost port, stopped at the end), a code server (``dagster api grpc``),
the daemon (``dagster-daemon run``: the run queue and its per-province limit)
and runs launched by the instance as processes of their own. Runs are
submitted the way an operator does (``dagster job backfill``); the test reads
the instance's event log from PostgreSQL. Speed is not asserted: overlap and
order come from the event log's timestamps.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pmis_pipeline import national
from pmis_pipeline.demo import generate_demo

BIN = Path(sys.executable).parent
QUARTERS = ("2009-Q1", "2009-Q2")
#: (province, seed, quarters it has files for): P02 has no second quarter, so the national view lacks it.
PROVINCES = (("P01", 101, QUARTERS), ("P02", 202, QUARTERS[:1]))
#: One backfill submits them (in the partitions' order: P01's quarters in order, then P02's).
PROVINCE_RUNS = ("P01|2009-Q1", "P01|2009-Q2", "P02|2009-Q1")
WAIT_SECONDS = 240
PROVINCE_CONFIG = """[partitions]
first_quarter = "2009-Q1"
last_quarter = "2009-Q2"
[inbox]
settle_seconds = 0
[intake]
workers = 1
"""


# --------------------------------------------------------------------------
# The national root without PostgreSQL (plain functions)
# --------------------------------------------------------------------------


def test_provinces_are_the_folders_with_a_catalog(tmp_path):
    for name in ("P01", "P02", "notes", "national"):
        (tmp_path / name).mkdir()
    for name in ("P01", "P02", "national"):
        (tmp_path / name / "catalog").mkdir()
        (tmp_path / name / "catalog" / "units.csv").write_text("ma_don_vi\n", encoding="utf-8")
    assert list(national.province_folders(tmp_path)) == ["P01", "P02"]  # "notes": no catalog; "national": the output
    (tmp_path / "Bến Tre" / "catalog").mkdir(parents=True)
    (tmp_path / "Bến Tre" / "catalog" / "units.csv").write_text("ma_don_vi\n", encoding="utf-8")
    with pytest.raises(national.NationalError, match="Bến Tre"):
        national.province_folders(tmp_path)


def test_a_province_without_its_quarter_has_no_national_files(tmp_path):
    """A province that has not published, or whose published file lacks the quarter,
    has its old files of that quarter removed: the national view shows what it shows."""
    (tmp_path / "P01" / "catalog").mkdir(parents=True)
    (tmp_path / "P01" / "catalog" / "units.csv").write_text("ma_don_vi\n", encoding="utf-8")
    stale = national.quarter_file(tmp_path, "staff", "2009-Q1", "P01")
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    assert national.gather_province_quarter(tmp_path, "P01", "2009-Q1").status == "not_published"
    assert not stale.exists()
    from pmis_pipeline import warehouse

    published = tmp_path / "P01" / "warehouse" / "pmis.duckdb"
    with warehouse.connect(published):  # the schema and its views, no quarter
        pass
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"old")
    assert national.gather_province_quarter(tmp_path, "P01", "2009-Q1").status == "not_built"
    assert not stale.exists()
    assert national.write_national_views(tmp_path) == {}


# --------------------------------------------------------------------------
# The ministry's instance on PostgreSQL
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres():
    if importlib.util.find_spec("dagster_postgres") is None:
        pytest.skip("dagster-postgres is not installed (the `national` extra: ./run test installs it)")
    from national.pgserver import LocalPostgres, PostgresMissing

    folder = tempfile.mkdtemp(prefix="pmis-pg-")  # under /tmp: reachable by the server's user when we are root
    try:
        server = LocalPostgres(Path(folder), durable=False)
    except PostgresMissing as exc:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"{exc}; ./run test installs the distribution's postgresql when it runs as root")
    try:
        server.start()
        yield server
    finally:
        server.stop_quietly()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Service:
    name: str
    proc: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: the service and the run processes it started
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def start(name: str, args: list[str], env: dict, folder: Path) -> Service:
    log = folder / f"{name}.log"
    proc = subprocess.Popen(args, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    return Service(name, proc, log)


def wait_for(what: str, done, services: list[Service], seconds: float = WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while True:
        result = done()
        if result:
            return result
        for s in services:
            if s.proc.poll() is not None:
                pytest.fail(f"{s.name} stopped ({s.proc.returncode}) while waiting for {what}; see {s.log}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not done after {seconds} s; see {', '.join(str(s.log) for s in services)}")
        time.sleep(0.5)


def backfill(job: str, partitions: list[str], env: dict, home: Path) -> None:
    proc = subprocess.run(
        [str(BIN / "dagster"), "job", "backfill", "-w", str(home / "workspace.yaml"), "-j", job,
         "--partitions", ",".join(partitions), "--noprompt"],
        env=env, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


@dataclass
class Facts:
    root: Path
    runs: dict  # "P01|2009-Q1" -> run facts (status, tags, step and run times)
    national_runs: dict
    seconds: dict


@pytest.fixture(scope="module")
def ministry(postgres, tmp_path_factory) -> Facts:
    """Two demo provinces, each in its own data folder; their quarters run by the
    instance's queue in run processes of their own; then the national tables."""
    import dagster as dg
    from national.instance import write_home
    from national.pgserver import free_port

    t0 = time.monotonic()
    seconds = {}
    base = tmp_path_factory.mktemp("ministry")
    root, home = base / "root", base / "dagster_home"
    (root).mkdir()
    (root / "config.toml").write_text(PROVINCE_CONFIG.split("[inbox]")[0], encoding="utf-8")
    for code, seed, quarters in PROVINCES:
        generate_demo(root / code, scale=0.02, seed=seed, quarters=quarters)
        (root / code / "config.toml").write_text(PROVINCE_CONFIG, encoding="utf-8")
    seconds["provinces"] = time.monotonic() - t0

    port = free_port()
    write_home(home, postgres.url, dequeue_seconds=1)
    (home / "workspace.yaml").write_text(
        f"load_from:\n  - grpc_server:\n      host: 127.0.0.1\n      port: {port}\n      location_name: pmis_national\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PMIS_CONFIG", "PMIS_DATA_DIR", "PMIS_KILL_AT")}
    env |= {"DAGSTER_HOME": str(home), "PMIS_NATIONAL_ROOT": str(root)}
    services: list[Service] = []
    try:
        code = start("code-server", [str(BIN / "dagster"), "api", "grpc", "-m", "national.definitions", "-h", "127.0.0.1",
                                     "-p", str(port), "--location-name", "pmis_national"], env, base)
        services.append(code)
        with dg.DagsterInstance.from_config(str(home)) as instance:  # creates Dagster's tables in PostgreSQL
            wait_for("the code server", lambda: "Started Dagster code server" in code.log.read_text(), services, 120)
            seconds["services"] = time.monotonic() - t0 - seconds["provinces"]
            services.append(start("daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(home / "workspace.yaml")], env, base))
            backfill("province_quarter_job", list(PROVINCE_RUNS), env, home)  # queued; the daemon launches them
            t_runs = time.monotonic()
            wait_for("the province runs", lambda: all(r.is_finished for r in instance.get_runs()), services)
            seconds["province_runs"] = time.monotonic() - t_runs
            backfill("national_tables_job", list(QUARTERS), env, home)
            t_nat = time.monotonic()
            wait_for("the national runs",
                     lambda: len(instance.get_runs()) == 5 and all(r.is_finished for r in instance.get_runs()), services)
            seconds["national_runs"] = time.monotonic() - t_nat
            runs, national_runs = {}, {}
            for run in instance.get_runs():
                events, pid = {}, None
                for record in instance.all_logs(run.run_id):
                    kind = record.dagster_event.event_type.name if record.dagster_event else None
                    if kind in ("RUN_START", "RUN_SUCCESS", "RUN_FAILURE", "STEP_START", "STEP_SUCCESS", "STEP_FAILURE"):
                        events.setdefault(kind, record.timestamp)
                    if kind == "STEP_START":
                        pid = record.dagster_event.pid
                record = instance.get_run_record_by_id(run.run_id)
                events["CREATED"] = record.create_timestamp.timestamp()
                facts = {"run_id": run.run_id, "status": run.status.value, "tags": dict(run.tags), "events": events,
                         "pid": pid}
                target = runs if run.job_name == "province_quarter_job" else national_runs
                target[run.tags["dagster/partition"]] = facts
    finally:
        for s in reversed(services):
            s.stop()
    seconds["total"] = time.monotonic() - t0
    first = min(e["CREATED"] for r in (*runs.values(), *national_runs.values()) for e in [r["events"]])
    print("\nnational:", {k: round(v, 1) for k, v in seconds.items()})  # the README's figures (pytest -s)
    for key, r in (*runs.items(), *national_runs.items()):
        print(f"  {key:12} " + " ".join(f"{k}={v - first:.1f}" for k, v in sorted(r["events"].items(), key=lambda kv: kv[1])))
    return Facts(root, runs, national_runs, seconds)


def test_every_run_succeeded_in_a_process_of_its_own(ministry):
    assert {k: r["status"] for k, r in ministry.runs.items()} == {k: "SUCCESS" for k in PROVINCE_RUNS}
    assert {k: r["status"] for k, r in ministry.national_runs.items()} == {q: "SUCCESS" for q in QUARTERS}
    pids = [r["pid"] for r in (*ministry.runs.values(), *ministry.national_runs.values())]
    assert None not in pids and len(set(pids)) == len(pids) and os.getpid() not in pids
    for key, run in ministry.runs.items():
        quarter_tag, province_tag = key.split("|")[1], key.split("|")[0]
        assert run["tags"]["dagster/partition/province"] == province_tag
        assert run["tags"]["dagster/partition/quarter"] == quarter_tag


def _step(run: dict) -> tuple[float, float]:
    return run["events"]["STEP_START"], run["events"]["STEP_SUCCESS"]


def test_runs_of_different_provinces_ran_at_the_same_time(ministry):
    """From the event log: the two provinces' first-quarter steps were running at the same
    moment (each inside its own province's build transaction)."""
    (a_start, a_end), (b_start, b_end) = _step(ministry.runs["P01|2009-Q1"]), _step(ministry.runs["P02|2009-Q1"])
    assert max(a_start, b_start) < min(a_end, b_end)


def test_a_province_runs_one_run_at_a_time(ministry):
    """P01's second quarter was queued while P01's first run was running, and started only after it
    ended, while P02's run (another province) had started without waiting for it."""
    first, second = ministry.runs["P01|2009-Q1"]["events"], ministry.runs["P01|2009-Q2"]["events"]
    assert second["CREATED"] < first["RUN_SUCCESS"] <= second["RUN_START"]
    assert ministry.runs["P02|2009-Q1"]["events"]["RUN_START"] < first["RUN_SUCCESS"]


def test_each_build_database_was_written_only_by_its_own_provinces_runs(ministry):
    for code, _seed, quarters in PROVINCES:
        con = duckdb.connect(str(ministry.root / code / "warehouse" / "build.duckdb"), read_only=True)
        try:
            written = dict(con.execute("SELECT quarter, run_id FROM core.quarter_state").fetchall())
        finally:
            con.close()
        assert written == {q: ministry.runs[f"{code}|{q}"]["run_id"] for q in quarters}


def test_the_national_view_holds_each_provinces_published_rows(ministry):
    root = ministry.root
    con = duckdb.connect(str(root / "national" / national.VIEWS_DB), read_only=True)
    try:
        seen = {view: dict(((p, q), n) for p, q, n in con.execute(
            f"SELECT province, quarter, count(*) FROM {view} GROUP BY ALL").fetchall())
            for view in national.QUARTER_VIEWS}
        units = dict(con.execute("SELECT province, count(*) FROM units GROUP BY ALL").fetchall())
    finally:
        con.close()
    expected: dict[str, dict] = {view: {} for view in national.QUARTER_VIEWS}
    expected_units = {}
    for code, _seed, _quarters in PROVINCES:
        published = duckdb.connect(str(root / code / "warehouse" / "pmis.duckdb"), read_only=True)
        try:
            for view in national.QUARTER_VIEWS:
                for q, n in published.execute(f"SELECT quarter, count(*) FROM {view} GROUP BY ALL").fetchall():
                    expected[view][(code, q)] = n
            (expected_units[code],) = published.execute("SELECT count(*) FROM units").fetchone()
        finally:
            published.close()
    assert seen == expected
    assert units == expected_units
    # and, independently of the pipeline, the generator's own count of the records it planted
    truth = {
        (code, q): n
        for code, _seed, _quarters in PROVINCES
        for q, n in pl.read_csv(root / code / "demo-truth" / "staff.csv", infer_schema=False)
        .group_by("quarter").len().iter_rows()
    }
    assert seen["staff"] == truth
    assert sorted(seen["staff"]) == [("P01", "2009-Q1"), ("P01", "2009-Q2"), ("P02", "2009-Q1")]

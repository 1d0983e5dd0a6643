"""Shared helpers of the end-to-end benchmarks (issue 11): a fresh data folder,
a fresh Dagster instance, a command timed with the peak memory of its whole
process tree, and the step timings of the run it made."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DAGSTER = str(VENV_BIN / "dagster")
PYTHON = sys.executable


@dataclass
class Measured:
    seconds: float
    peak_rss_mb: float  # the whole process tree (the run process and its reader workers), sampled every ~50 ms
    peak_main_mb: float  # the command's own process
    peak_children_mb: float  # the largest sum over its children at one moment
    returncode: int
    output: str
    started_at: float  # time.time() just before the process was started
    cpu_seconds: float = 0.0  # user + system CPU of the whole tree (each process's last sample)
    cpu_main_seconds: float = 0.0  # of the command's own process


def _tree_rss(root: int) -> tuple[int, int]:
    """(RSS of ``root``, summed RSS of its descendants) in bytes, from /proc (Linux)."""

    def children(pid: int) -> list[int]:
        out: list[int] = []
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    out += [int(c) for c in fh.read().split()]
        except OSError:
            pass
        return out

    def rss(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/statm") as fh:
                return int(fh.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            return 0

    tree, frontier = [], children(root)
    while frontier:
        pid = frontier.pop()
        tree.append(pid)
        frontier.extend(children(pid))
    return rss(root), sum(rss(p) for p in tree)


def _tree_cpu(root: int) -> dict[int, float]:
    """CPU seconds (user + system) so far of ``root`` and each descendant, from /proc (Linux)."""
    out: dict[int, float] = {}
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / TICKS
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    frontier += [int(c) for c in fh.read().split()]
        except (OSError, ValueError, IndexError):
            pass
    return out


PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def run_measured(cmd: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> Measured:
    """Run ``cmd`` (output captured), sampling the RSS of it and every descendant."""
    peak = {"tree": 0, "main": 0, "children": 0}
    started_at = time.time()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out: list[bytes] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    cpu: dict[int, float] = {}
    samples = 0
    while proc.poll() is None:
        main, children = _tree_rss(proc.pid)
        peak["main"] = max(peak["main"], main)
        peak["children"] = max(peak["children"], children)
        peak["tree"] = max(peak["tree"], main + children)
        if samples % 10 == 0:  # every ~0.5 s: a process's CPU is counted up to its last sample
            cpu.update(_tree_cpu(proc.pid))
        samples += 1
        time.sleep(0.05)
    seconds = time.perf_counter() - t0
    reader.join()
    mb = 1024 * 1024
    return Measured(
        seconds, peak["tree"] / mb, peak["main"] / mb, peak["children"] / mb, proc.returncode,
        b"".join(out).decode("utf-8", "replace"), started_at, sum(cpu.values()), cpu.get(proc.pid, 0.0),
    )


def fresh_dagster_home(parent: Path) -> Path:
    """An empty Dagster instance (SQLite storage, telemetry off), as a user's first run."""
    home = parent / f"dagster-home-{time.time_ns()}"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return home


def copy_inputs(source: Path, target: Path, quarters: list[str] | None = None) -> Path:
    """A data folder holding only what a clerk puts there (catalog, inbox, config): no
    archive, no cache, no warehouse, so nothing is read from an earlier run."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copytree(source / "catalog", target / "catalog")
    inbox = source / "inbox"
    for folder in sorted(inbox.iterdir()) if inbox.is_dir() else []:
        if folder.is_dir() and (quarters is None or folder.name in quarters):
            shutil.copytree(folder, target / "inbox" / folder.name)
    if (source / "config.toml").is_file():
        shutil.copy2(source / "config.toml", target / "config.toml")
    return target


@dataclass
class RunSteps:
    run_id: str
    status: str
    first_step_start: float  # epoch seconds of the first STEP_START
    run_start: float
    run_end: float
    steps: dict[str, float] = field(default_factory=dict)  # step key -> seconds (start to success/failure)


def last_run_steps(dagster_home: Path) -> RunSteps:
    """Step timings of the latest run of an instance, from its event log."""
    code = f"""
import json, os
os.environ["DAGSTER_HOME"] = {str(dagster_home)!r}
import dagster as dg
with dg.DagsterInstance.get() as instance:
    run = instance.get_runs(limit=1)[0]
    events = []
    for e in instance.all_logs(run.run_id):
        if e.dagster_event is not None:
            events.append([e.timestamp, e.dagster_event.event_type_value, e.step_key])
    print(json.dumps({{"run_id": run.run_id, "status": run.status.value, "events": events}}))
"""
    import json

    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=True, env=dict(os.environ))
    data = json.loads(out.stdout.strip().splitlines()[-1])
    starts: dict[str, float] = {}
    steps: dict[str, float] = {}
    run_start = run_end = first = 0.0
    for ts, kind, step in data["events"]:
        if kind in ("RUN_START", "PIPELINE_START"):
            run_start = ts
        elif kind in ("RUN_SUCCESS", "RUN_FAILURE", "PIPELINE_SUCCESS", "PIPELINE_FAILURE"):
            run_end = ts
        elif kind == "STEP_START":
            starts[step] = ts
            first = first or ts
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and step in starts:
            steps[step] = ts - starts[step]
    return RunSteps(data["run_id"], data["status"], first, run_start, run_end, steps)


def materialize_cmd(quarter: str, select: str = "*") -> list[str]:
    return [DAGSTER, "asset", "materialize", "-m", "pmis_pipeline.definitions", "--select", select, "--partition", quarter]


def dagster_env(data: Path, home: Path) -> dict[str, str]:
    env = dict(os.environ, PMIS_DATA_DIR=str(data), DAGSTER_HOME=str(home))
    env.pop("PMIS_REPORTS_URL", None)
    return env


def records_in(data: Path, quarter: str) -> int:
    import duckdb

    with duckdb.connect(str(data / "warehouse" / "build.duckdb"), read_only=True) as con:
        return con.execute("SELECT count(*) FROM core.staff_rows WHERE quarter = ?", [quarter]).fetchone()[0]


def say(message: str) -> None:
    print(message, flush=True)

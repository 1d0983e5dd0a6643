"""Backups and restore (issue 10, letter 346/2009: "sao lưu dự phòng"): the
warehouse is rebuilt from the archive alone, a backup restores into a deleted
data folder, a damaged backup is refused.

The original is the demo province (scale 0.05, two quarters, plus a deadline
override) materialized for real; rebuilds are real in-process Dagster runs
through the ``pmis`` command. Views are compared value by value with a copy
of the original's published file taken before anything else ran.

No column is excluded from the comparisons: the rebuild copies the archive's
manifest byte for byte, so the times it records (``received_at``,
``first_seen_at``) and the hand-over order (``submission_id``) are the same;
the only times a build writes itself (``core.quarter_state.built_at`` and
``run_id``) are in no view. If a view ever shows a build time, it has to be
excluded here, with its reason.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pmis_pipeline import backup as bk
from pmis_pipeline.archive import Archive
from pmis_pipeline.cli import main
from pmis_pipeline.demo import generate_demo
from pmis_pipeline.inputs import InboxFile
from pmis_pipeline.settings import load_settings
from tests.conftest import materialize_quarter

QUARTERS = ("2009-Q1", "2009-Q2")
DEADLINES = "quarter,deadline\n2009-Q2,2009-05-25\n"  # a clerk's override: the rebuild must read it too
#: Views the contract promises (the comparison also takes every other view the DDL defines).
CONTRACT_VIEWS = {"units", "submissions", "staff", "record_issues", "unit_compliance", "payments"}


# ----------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> tuple[Path, Path]:
    """(data folder, copy of its published file as built)."""
    root = tmp_path_factory.mktemp("backup")
    data = root / "data"
    generate_demo(data, scale=0.05, quarters=QUARTERS)
    (data / "catalog" / "deadlines.csv").write_text(DEADLINES, encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("PMIS_DATA_DIR", str(data))
    mp.delenv("PMIS_CONFIG", raising=False)
    for quarter in QUARTERS:
        materialize_quarter(data, quarter)
    published = root / "original-pmis.duckdb"
    shutil.copyfile(data / "warehouse" / "pmis.duckdb", published)
    yield data, published
    mp.undo()


def view_contents(db: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every analysts' view: its columns and all its rows, in a fixed order."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        views = [v for (v,) in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal ORDER BY 1"
        ).fetchall()]
        out = {}
        for view in views:
            cur = con.execute(f'SELECT * FROM "{view}" ORDER BY ALL')
            out[view] = ([d[0] for d in cur.description], cur.fetchall())
        return out
    finally:
        con.close()


def assert_same_views(expected_db: Path, actual_db: Path) -> None:
    expected, actual = view_contents(expected_db), view_contents(actual_db)
    assert CONTRACT_VIEWS <= set(expected) and len(expected) >= 15
    assert set(actual) == set(expected)
    for view, (columns, rows) in expected.items():
        got_columns, got_rows = actual[view]
        assert got_columns == columns, view
        assert len(got_rows) == len(rows), f"{view}: {len(got_rows)} rows, expected {len(rows)}"
        for i, (want, got) in enumerate(zip(rows, got_rows)):
            if want != got:
                diff = [c for c, a, b in zip(columns, want, got) if a != b]
                raise AssertionError(f"{view}, row {i}: columns {diff} differ: {got} != {want}")
    assert expected["staff"][1] and {r[0] for r in expected["staff"][1]} == set(QUARTERS)


def manifest_shas(data: Path) -> set[str]:
    """The archived contents the manifest names, read here with json."""
    lines = (data / "warehouse" / "archive" / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    return {e["sha256"] for e in map(json.loads, lines) if e["kind"] == "file"}


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------- rebuild from the archive


def test_the_whole_warehouse_is_rebuilt_from_the_archive_alone(original, tmp_path, capsys):
    data, published = original
    target = tmp_path / "rebuilt"
    assert main(["rebuild", "--from", str(data), "--to", str(target)]) == 0
    out = capsys.readouterr().out
    assert "[1/2] 2009-Q1 built" in out and "[2/2] 2009-Q2 built" in out and "pmis rebuild: 2 quarter(s)" in out

    assert not (target / "inbox").exists() or files_under(target / "inbox") == []  # read from the archive, not an inbox
    assert (target / "catalog" / "deadlines.csv").read_text(encoding="utf-8") == DEADLINES
    assert_same_views(published, target / "warehouse" / "pmis.duckdb")
    con = duckdb.connect(str(target / "warehouse" / "pmis.duckdb"), read_only=True)
    shas = {s for (s,) in con.execute("SELECT sha256 FROM submissions").fetchall()}
    deadline = con.execute("SELECT DISTINCT deadline FROM unit_compliance WHERE quarter = '2009-Q2'").fetchall()
    con.close()
    assert shas == manifest_shas(data)
    assert [str(d) for (d,) in deadline] == ["2009-05-25"]
    # the same documents are written again
    assert files_under(target / "warehouse" / "reports") == files_under(data / "warehouse" / "reports")
    assert len(files_under(target / "warehouse" / "reports")) >= 10

    # a rebuild writes into a fresh folder only
    assert main(["rebuild", "--from", str(data), "--to", str(target)]) == 1
    assert "is not empty" in capsys.readouterr().err


# ----------------------------------------------------------------- backup, delete, restore, rebuild


def test_a_deleted_data_folder_comes_back_from_a_backup_and_rebuilds_to_the_same_views(original, tmp_path, capsys):
    source, published = original
    data = tmp_path / "data"
    shutil.copytree(source, data, ignore=shutil.ignore_patterns("*.lock"))
    folder = tmp_path / "usb" / "pmis-backup"
    assert main(["backup", "--data", str(data), "--to", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "written and verified" in out and "2 quarter(s)" in out
    archive_before = {p.name: digest(p) for p in (data / "warehouse" / "archive" / "objects").rglob("*") if p.is_file()}
    manifest_before = (data / "warehouse" / "archive" / "manifest.jsonl").read_bytes()

    shutil.rmtree(data)  # the disk is lost
    assert main(["restore", "--from", str(folder), "--to", str(data)]) == 0
    assert "restored into" in capsys.readouterr().out

    assert_same_views(published, data / "warehouse" / "pmis.duckdb")
    assert (data / "warehouse" / "archive" / "manifest.jsonl").read_bytes() == manifest_before
    restored = {p.name: digest(p) for p in (data / "warehouse" / "archive" / "objects").rglob("*") if p.is_file()}
    assert restored == archive_before and set(restored) == manifest_shas(data)
    assert all(name == sha for name, sha in restored.items())
    assert (data / "catalog" / "units.csv").read_bytes() == (source / "catalog" / "units.csv").read_bytes()
    assert (data / "catalog" / "deadlines.csv").read_text(encoding="utf-8") == DEADLINES
    assert (data / "config.toml").read_bytes() == (source / "config.toml").read_bytes()
    assert (data / "warehouse" / "build.duckdb").read_bytes() == published.read_bytes()  # the pipeline goes on from it
    assert files_under(data / "inbox") == []
    assert sorted(p.name for p in (data / "inbox").iterdir()) == list(QUARTERS)  # ./run up writes no demo over it

    again = tmp_path / "again"
    assert main(["rebuild", "--from", str(data), "--to", str(again)]) == 0
    assert_same_views(published, again / "warehouse" / "pmis.duckdb")


def test_a_restore_refuses_a_folder_that_is_not_empty_unless_forced(original, tmp_path, capsys):
    source, published = original
    folder = tmp_path / "bk"
    assert main(["backup", "--data", str(source), "--to", str(folder)]) == 0
    data = tmp_path / "data"
    for sub in ("inbox", "catalog", "warehouse"):  # a fresh clone's data/ counts as empty
        (data / sub).mkdir(parents=True)
        (data / sub / ".gitkeep").touch()
    assert main(["restore", "--from", str(folder), "--to", str(data)]) == 0
    capsys.readouterr()

    (data / "catalog" / "units.csv").chmod(0o644)
    (data / "catalog" / "units.csv").write_text("edited after the backup\n", encoding="utf-8")
    assert main(["restore", "--from", str(folder), "--to", str(data)]) == 1
    err = capsys.readouterr().err
    assert "is not empty" in err and "--force" in err and "Traceback" not in err
    assert (data / "catalog" / "units.csv").read_text(encoding="utf-8") == "edited after the backup\n"

    assert main(["restore", "--from", str(folder), "--to", str(data), "--force"]) == 0
    (aside,) = data.glob("replaced-*")
    assert (aside / "catalog" / "units.csv").read_text(encoding="utf-8") == "edited after the backup\n"  # moved, not deleted
    assert (data / "catalog" / "units.csv").read_bytes() == (source / "catalog" / "units.csv").read_bytes()
    assert (data / "catalog" / ".gitkeep").exists()
    assert_same_views(published, data / "warehouse" / "pmis.duckdb")


# ----------------------------------------------------------------- damaged backups


def test_a_damaged_archived_file_is_found_by_verify_refused_by_restore_and_repaired_by_the_next_backup(original, tmp_path, capsys):
    source, _ = original
    folder = tmp_path / "bk"
    assert main(["backup", "--data", str(source), "--to", str(folder)]) == 0
    (snapshot,) = bk.list_snapshots(folder)
    assert main(["backup", "--verify", str(folder)]) == 0
    capsys.readouterr()

    lines = [json.loads(x) for x in (source / "warehouse" / "archive" / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    victim = next(e for e in lines if e["kind"] == "file" and e["quarter"] == "2009-Q2")
    obj = folder / "objects" / victim["sha256"][:2] / victim["sha256"]
    obj.chmod(0o644)
    content = bytearray(obj.read_bytes())
    content[len(content) // 2] ^= 0x01  # one bit flipped on the disk
    obj.write_bytes(bytes(content))

    assert main(["backup", "--verify", str(folder)]) == 1
    captured = capsys.readouterr()
    assert f"{snapshot.name}: FAILED" in captured.out
    assert f"archived file {victim['sha256'][:12]} (2009-Q2 {victim['file_name']}): damaged" in captured.out
    assert "failed verification" in captured.err
    assert main(["backup", "--verify", str(snapshot)]) == 1  # one snapshot
    capsys.readouterr()

    target = tmp_path / "restored"
    assert main(["restore", "--from", str(folder), "--to", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"snapshot {snapshot.name} failed verification, nothing restored: archived file {victim['sha256'][:12]}" in err
    assert bk.is_empty_data_folder(target)

    # the next backup reads everything back and copies the damaged file again from the archive
    assert main(["backup", "--data", str(source), "--to", str(folder)]) == 0
    assert "copied again 1 archived file(s)" in capsys.readouterr().out
    assert digest(obj) == victim["sha256"]
    assert main(["backup", "--verify", str(folder)]) == 0


def test_a_changed_or_truncated_snapshot_file_is_found(original, tmp_path):
    source, _ = original
    folder = tmp_path / "bk"
    summary = bk.backup(source, folder)
    snap = summary.snapshot
    assert bk.verify_snapshot(snap) == []

    meta_path = snap / bk.SNAPSHOT_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["warehouse"]["staff_rows"] += 1
    meta_path.chmod(0o644)
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    assert any("snapshot.json was changed after the backup" in p for p in bk.verify_snapshot(snap))

    db = snap / "pmis.duckdb"
    db.chmod(0o644)
    with db.open("r+b") as fh:
        fh.truncate(db.stat().st_size // 2)
    assert "pmis.duckdb: content changed since the backup (sha256 differs)" in bk.verify_snapshot(snap)
    with pytest.raises(bk.BackupError, match="failed verification, nothing restored"):
        bk.restore(folder, tmp_path / "restored")


# ----------------------------------------------------------------- incremental objects, retention, running pipeline


def test_archived_files_are_stored_once_per_folder_and_retention_keeps_what_kept_snapshots_need(original, tmp_path):
    source, _ = original
    data = tmp_path / "data"
    shutil.copytree(source, data, ignore=shutil.ignore_patterns("*.lock", "reports", "demo-truth"))
    folder = tmp_path / "bk"
    n = len(manifest_shas(data))
    assert n >= 10

    first = bk.backup(data, folder, now=datetime(2009, 7, 1, 8, 0, 0))
    assert (first.new_objects, first.objects) == (n, n)
    second = bk.backup(data, folder, now=datetime(2009, 7, 2, 8, 0, 0))
    assert (second.new_objects, second.objects) == (0, n)  # incremental: nothing copied twice
    assert len(list((folder / "objects").glob("*/*"))) == n
    assert json.loads((second.snapshot / bk.SNAPSHOT_FILE).read_text())["objects"].keys() == manifest_shas(data)

    # a unit hands over one more file; a killed backup left a stray copy; the clerk keeps 2 snapshots
    late = tmp_path / "late.xlsx"
    late.write_bytes(b"a late file, archived as it came")
    st = late.stat()
    settings = load_settings(data)
    Archive(settings.paths.archive, settings.tz).register("2009-Q2", [InboxFile(late, "late.xlsx", st.st_size, st.st_mtime_ns)], {})
    stray = folder / "objects" / "ff" / ("f" * 64)
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"left by a killed backup")
    with (data / "config.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n[backup]\nkeep = 2\n")
    assert load_settings(data).model.backup.keep == 2

    third = bk.backup(data, folder, now=datetime(2009, 7, 3, 8, 0, 0))
    assert (third.new_objects, third.objects) == (1, n + 1)
    assert third.removed_snapshots == ["2009-07-01_080000"] and third.removed_objects == 1
    assert [s.name for s in bk.list_snapshots(folder)] == ["2009-07-02_080000", "2009-07-03_080000"]
    assert not stray.exists()
    assert {p.name for p in (folder / "objects").glob("*/*")} == manifest_shas(data)  # every file a kept snapshot needs
    assert [c.problems for c in bk.verify(folder)] == [[], []]

    # the retention never removes the snapshot just written, whatever the clock says
    fourth = bk.backup(data, folder, keep=1, now=datetime(2009, 6, 30, 8, 0, 0))
    assert [s.name for s in bk.list_snapshots(folder)] == ["2009-06-30_080000"] == [fourth.snapshot.name]
    assert len(list((folder / "objects").glob("*/*"))) == n + 1


def test_a_backup_taken_while_intake_appends_to_the_manifest_stops_at_its_last_complete_line(original, tmp_path):
    source, _ = original
    data = tmp_path / "data"
    shutil.copytree(source, data, ignore=shutil.ignore_patterns("*.lock", "reports", "demo-truth"))
    manifest = data / "warehouse" / "archive" / "manifest.jsonl"
    complete = manifest.read_bytes()
    build = data / "warehouse" / "build.duckdb"
    build_before = (build.stat().st_mtime_ns, digest(build))
    with manifest.open("ab") as fh:
        fh.write(b'{"kind": "file", "quarter": "2009-Q3", "file_name": "half')  # a line being written
    summary = bk.backup(data, tmp_path / "bk")
    assert (summary.snapshot / "archive" / "manifest.jsonl").read_bytes() == complete
    assert bk.verify_snapshot(summary.snapshot) == []
    assert (build.stat().st_mtime_ns, digest(build)) == build_before  # the build database is not touched


def test_backup_errors_are_one_line(tmp_path, capsys):
    assert main(["backup", "--data", str(tmp_path / "nothing"), "--to", str(tmp_path / "bk")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is it the data folder?" in err
    assert main(["backup", "--verify", str(tmp_path)]) == 1
    assert "holds no backup snapshot" in capsys.readouterr().err
    assert main(["restore", "--from", str(tmp_path), "--to", str(tmp_path / "d")]) == 1
    assert "holds no backup snapshot" in capsys.readouterr().err


def test_a_rebuild_whose_quarter_fails_says_why_in_one_line(original, tmp_path, capsys):
    source, _ = original
    data = tmp_path / "data"
    shutil.copytree(source, data, ignore=shutil.ignore_patterns("*.lock", "reports", "demo-truth", "*.duckdb"))
    (data / "catalog" / "deadlines.csv").write_text("quarter,deadline\n2009-Q1,20/4/2009\n", encoding="utf-8")
    assert main(["rebuild", "--from", str(data), "--to", str(tmp_path / "new")]) == 1
    captured = capsys.readouterr()
    assert "[1/2]" not in captured.out and "Traceback" not in captured.err + captured.out
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("pmis rebuild: error: 2009-Q1: the run failed at quarter_warehouse: ValueError: ")
    assert "deadlines.csv: line 2" in captured.err

"""One writer everywhere: a second process that opens the build database waits
for the first to let go (the kernel wakes it: no sleep-and-retry), and readers
share the lock with each other but not with the writer."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from pmis_pipeline import warehouse

HOLDER = """
import sys, time
from pathlib import Path
from pmis_pipeline import warehouse
with warehouse.connect(Path(sys.argv[1]), read_only=sys.argv[2] == "ro"):
    print("locked", flush=True)
    time.sleep(float(sys.argv[3]))
    print(repr(time.time()), flush=True)  # the moment it lets go
"""


def hold(db: Path, mode: str, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(db), mode, str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_writer_waits_for_the_first(tmp_path):
    db = tmp_path / "build.duckdb"
    with warehouse.connect(db):
        pass  # create it
    holder = hold(db, "rw", 1.0)
    with warehouse.connect(db) as con:
        acquired = time.time()
        con.execute("SELECT 1").fetchone()
    released = float(holder.stdout.readline())
    holder.wait()
    assert acquired >= released  # we got the database only after the other writer had let go


def test_readers_share_the_lock_but_wait_for_a_writer(tmp_path):
    db = tmp_path / "build.duckdb"
    with warehouse.connect(db):
        pass
    reader = hold(db, "ro", 3.0)
    with warehouse.connect(db, read_only=True) as con:  # a second reader gets in while the first reads
        inside = time.time()
        assert con.execute("SELECT count(*) FROM core.meta").fetchone()[0] >= 1
    released = float(reader.stdout.readline())
    reader.wait()
    assert inside < released
    writer = hold(db, "rw", 0.5)
    with warehouse.connect(db, read_only=True):
        acquired = time.time()
    assert acquired >= float(writer.stdout.readline())
    writer.wait()

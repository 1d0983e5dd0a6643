"""What the pipeline reads from outside, and a data version for each.

The Department's inputs change on their own: units hand over files (the inbox
of a quarter), the clerk edits the unit catalog, a deadline or the
configuration, and time passes a deadline. Each input gets a short *data
version* (a hash) so that the orchestrator can tell exactly which quarters a
change affects:

* ``inbox`` of a quarter: the settled files of ``inbox/<quarter>/`` (names,
  sizes, modification times; sub-folders included) and ``receipts.csv``;
* ``deadlines`` of a quarter: its effective deadline and whether it has passed
  (documents drafted before the deadline become final after it);
* ``unit_catalog``: the content of ``catalog/units.csv``;
* ``pipeline_config``: the effective configuration (defaults and overrides).

A file counts once it has *settled*: its modification time is at least
``[inbox] settle_seconds`` old. Files still being copied, Excel's lock files
(``~$...``) and hidden files are not picked up.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pmis_pipeline.archive import Archive
from pmis_pipeline.quarters import Quarter, deadline_for, read_deadline_overrides
from pmis_pipeline.settings import Settings

RECEIPTS_FILE = "receipts.csv"
IGNORED_PREFIXES = ("~$", ".")  # Excel/LibreOffice lock files, hidden files
EMPTY_VERSION = "empty"
_QUARTER_FOLDER = re.compile(r"^(\d{4})-[qQ]([1-4])$")


@dataclass(frozen=True)
class InboxFile:
    """A file of a quarter's inbox folder."""

    path: Path
    name: str  # path inside the quarter folder, with '/' (sub-folders are read too)
    size: int
    mtime_ns: int

    def settled(self, now_ns: int, settle_seconds: float) -> bool:
        return now_ns - self.mtime_ns >= settle_seconds * 1e9


def short_hash(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def quarter_folders(inbox: Path) -> dict[str, list[Path]]:
    """Quarter key -> its folders in the inbox, matched without regard to case
    (``2009-q1`` is ``2009-Q1``); other folders are not quarters."""
    out: dict[str, list[Path]] = {}
    if not inbox.is_dir():
        return out
    for folder in sorted(inbox.iterdir()):
        m = _QUARTER_FOLDER.match(folder.name)
        if m and folder.is_dir():
            out.setdefault(f"{m.group(1)}-Q{m.group(2)}", []).append(folder)
    return out


def is_ignored(name: str) -> bool:
    return any(part.startswith(IGNORED_PREFIXES) for part in name.split("/"))


def inbox_files(folders: Iterable[Path]) -> list[InboxFile]:
    """Every file below the quarter's folders (sub-folders too), but lock and
    hidden files and the root ``receipts.csv``; sorted by name."""
    out: list[InboxFile] = []
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith(IGNORED_PREFIXES))
            for file_name in sorted(files):
                path = Path(root) / file_name
                name = path.relative_to(folder).as_posix()
                if name == RECEIPTS_FILE or is_ignored(name):
                    continue
                try:
                    st = path.stat()
                except FileNotFoundError:  # removed while we looked
                    continue
                out.append(InboxFile(path, name, st.st_size, st.st_mtime_ns))
    return sorted(out, key=lambda f: f.name)


def receipts_files(folders: Iterable[Path]) -> list[Path]:
    return [f / RECEIPTS_FILE for f in folders if (f / RECEIPTS_FILE).is_file()]


def inbox_version(files: Iterable[InboxFile], receipts: Iterable[Path], marks: Iterable[str] = ()) -> str:
    """Data version of a quarter's inbox: its files (name, size, modification
    time), the content of its receipts.csv, and the operator's quarantine marks."""
    parts: list[bytes | str] = [f"{f.name}\t{f.size}\t{f.mtime_ns}" for f in files]
    parts += [p.read_bytes() for p in receipts]
    parts += list(marks)
    return short_hash(*parts) if parts else EMPTY_VERSION


def settled_inbox(settings: Settings, quarter: str, now_ns: int | None = None) -> tuple[list[InboxFile], list[InboxFile]]:
    """(settled, still changing) files of a quarter's inbox."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    wait = settings.model.inbox.settle_seconds
    files = inbox_files(quarter_folders(settings.paths.inbox).get(quarter, []))
    settled = [f for f in files if f.settled(now_ns, wait)]
    return settled, [f for f in files if not f.settled(now_ns, wait)]


def inbox_versions(settings: Settings, quarters: Iterable[str], now_ns: int | None = None) -> dict[str, str]:
    folders = quarter_folders(settings.paths.inbox)
    marks = Archive(settings.paths.archive, settings.tz).operator_marks()
    out = {}
    for quarter in quarters:
        settled, _ = settled_inbox(settings, quarter, now_ns)
        out[quarter] = inbox_version(settled, receipts_files(folders.get(quarter, [])), marks.get(quarter, []))
    return out


def quarter_deadline(settings: Settings, quarter: str) -> date:
    return deadline_for(
        Quarter.parse_key(quarter),
        settings.model.calendar.deadlines,
        read_deadline_overrides(settings.paths.deadlines_csv),
    )


def deadline_passed(deadline: date, today: date) -> bool:
    """The deadline is inclusive: a file of the deadline day is on time."""
    return today > deadline


def deadline_versions(settings: Settings, quarters: Iterable[str], today: date) -> dict[str, str]:
    """Per quarter: its deadline and whether it has passed (``2009-04-20|passed``)."""
    overrides = read_deadline_overrides(settings.paths.deadlines_csv)
    out = {}
    for quarter in quarters:
        deadline = deadline_for(Quarter.parse_key(quarter), settings.model.calendar.deadlines, overrides)
        out[quarter] = f"{deadline.isoformat()}|{'passed' if deadline_passed(deadline, today) else 'open'}"
    return out


def catalog_version(settings: Settings) -> str:
    path = settings.paths.units_csv
    return short_hash(path.read_bytes()) if path.is_file() else EMPTY_VERSION


def confirmations_version(settings: Settings) -> str:
    path = settings.paths.confirmations_csv
    return short_hash(path.read_bytes()) if path.is_file() else EMPTY_VERSION


def config_version(settings: Settings) -> str:
    return settings.fingerprint

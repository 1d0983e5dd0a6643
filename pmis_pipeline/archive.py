"""The raw archive: every file ever received, content-addressed, never overwritten.

Layout under ``<data>/warehouse/archive/``::

    objects/ab/abcdef...        one object per distinct content (sha256)
    manifest.jsonl              append-only log of what was received when

Manifest lines are JSON objects of two kinds:

* ``{"kind": "file", "quarter", "file_name", "sha256", "size", "received_at", "first_seen_at"}``
  the first time a content is seen under a name in a quarter folder;
  ``received_at`` is the file's modification time then, in local time;
* ``{"kind": "receipt", "quarter", "file_name", "sha256", "received_at"}``
  a hand-over time the clerk wrote in ``receipts.csv`` for that content.

The archive alone is enough to rebuild every quarter: intake reads the
objects, never the inbox.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pmis_pipeline.files import copy_atomically

RECEIPTS_FILE = "receipts.csv"
_IGNORED_PREFIXES = ("~$", ".")  # Excel lock files, hidden files


@dataclass(frozen=True)
class Receipt:
    """One received file version (a quarter, a name, a content)."""

    quarter: str
    file_name: str
    sha256: str
    size: int
    received_at: datetime  # naive local time
    received_source: str  # "receipts.csv" or "mtime"
    first_seen_at: datetime
    seq: int  # order of first sight in the manifest


@dataclass(frozen=True)
class RegisterSummary:
    new_files: int
    new_objects: int
    known_files: int
    receipt_lines: int
    warnings: tuple[str, ...]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_local_time(text: str) -> datetime:
    """``YYYY-MM-DD HH:MM[:SS]`` or ``YYYY-MM-DD`` (local time)."""
    text = text.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"expected YYYY-MM-DD HH:MM[:SS] or YYYY-MM-DD, got {text!r}")


def read_receipts(path: Path) -> tuple[dict[str, datetime], list[str]]:
    """``receipts.csv`` of a quarter folder: file name -> hand-over time, and warnings."""
    out: dict[str, datetime] = {}
    warnings: list[str] = []
    if not path.is_file():
        return out, warnings
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"file", "received_at"} <= {h.strip() for h in reader.fieldnames}:
            return out, [f"{path.name}: cần hai cột file,received_at"]
        for n, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "") for k, v in row.items()}
            try:
                out[row["file"].strip()] = parse_local_time(row["received_at"])
            except ValueError as exc:
                warnings.append(f"{path.name}, dòng {n}: thời điểm nhận không hợp lệ ({exc})")
    return out, warnings


class Archive:
    def __init__(self, root: Path, tz: ZoneInfo):
        self.root = root
        self.tz = tz
        self.objects = root / "objects"
        self.manifest = root / "manifest.jsonl"

    def object_path(self, sha256: str) -> Path:
        return self.objects / sha256[:2] / sha256

    def store(self, path: Path, sha256: str) -> bool:
        """Copy ``path`` in under its hash unless present; True when new."""
        target = self.object_path(sha256)
        if target.exists():
            return False

        def same_content(copy: Path) -> None:
            if sha256_file(copy) != sha256:
                raise OSError(f"{path}: changed while being archived")

        copy_atomically(path, target, check=same_content)
        return True

    def _lines(self) -> list[dict]:
        if not self.manifest.is_file():
            return []
        out = []
        with self.manifest.open(encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if line:
                    try:
                        out.append(json.loads(line))
                    except json.JSONDecodeError:
                        continue  # a line torn by a killed run: the next registration re-adds it
        return out

    def _append(self, entries: list[dict]) -> None:
        if not entries:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        with self.manifest.open("a", encoding="utf-8") as fh:
            for entry in entries:
                fh.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def register_folder(self, folder: Path, quarter: str) -> RegisterSummary:
        """Archive every file of an inbox quarter folder; log new versions and receipts."""
        lines = self._lines()
        seen = {(e["quarter"], e["file_name"], e["sha256"]) for e in lines if e["kind"] == "file"}
        last_receipt = {
            (e["quarter"], e["file_name"], e["sha256"]): e["received_at"] for e in lines if e["kind"] == "receipt"
        }
        overrides, warnings = read_receipts(folder / RECEIPTS_FILE)
        new_entries: list[dict] = []
        new_files = new_objects = known = receipts = 0
        files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
        now = datetime.now(self.tz).replace(tzinfo=None).isoformat(timespec="seconds")
        for path in files:
            if path.name == RECEIPTS_FILE or path.name.startswith(_IGNORED_PREFIXES):
                continue
            sha = sha256_file(path)
            new_objects += self.store(path, sha)
            key = (quarter, path.name, sha)
            if key in seen:
                known += 1
            else:
                mtime = datetime.fromtimestamp(path.stat().st_mtime, self.tz).replace(tzinfo=None)
                new_entries.append(
                    {
                        "kind": "file",
                        "quarter": quarter,
                        "file_name": path.name,
                        "sha256": sha,
                        "size": path.stat().st_size,
                        "received_at": mtime.isoformat(timespec="seconds"),
                        "first_seen_at": now,
                    }
                )
                seen.add(key)
                new_files += 1
            if path.name in overrides:
                stamp = overrides[path.name].isoformat(timespec="seconds")
                if last_receipt.get(key) != stamp:
                    new_entries.append(
                        {"kind": "receipt", "quarter": quarter, "file_name": path.name, "sha256": sha, "received_at": stamp}
                    )
                    last_receipt[key] = stamp
                    receipts += 1
        for name in sorted(set(overrides) - {p.name for p in files}):
            warnings.append(f"{RECEIPTS_FILE}: không có tệp '{name}' trong thư mục {quarter}")
        self._append(new_entries)
        return RegisterSummary(new_files, new_objects, known, receipts, tuple(warnings))

    def receipts(self, quarter: str) -> list[Receipt]:
        """Every file version ever received for ``quarter``, in order of first sight."""
        lines = self._lines()
        override = {
            (e["file_name"], e["sha256"]): e["received_at"]
            for e in lines
            if e["kind"] == "receipt" and e["quarter"] == quarter
        }
        out: list[Receipt] = []
        for seq, e in enumerate(lines):
            if e["kind"] != "file" or e["quarter"] != quarter:
                continue
            stamp = override.get((e["file_name"], e["sha256"]))
            out.append(
                Receipt(
                    quarter=quarter,
                    file_name=e["file_name"],
                    sha256=e["sha256"],
                    size=e["size"],
                    received_at=datetime.fromisoformat(stamp or e["received_at"]),
                    received_source="receipts.csv" if stamp else "mtime",
                    first_seen_at=datetime.fromisoformat(e["first_seen_at"]),
                    seq=seq,
                )
            )
        return out

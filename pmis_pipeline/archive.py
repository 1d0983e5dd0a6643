"""The raw archive: every file ever received, content-addressed, never overwritten.

Layout under ``<data>/warehouse/archive/``::

    objects/ab/abcdef...        one object per distinct content (sha256)
    manifest.jsonl              append-only log of what was received when

Manifest lines are JSON objects of these kinds:

* ``{"kind": "file", "quarter", "file_name", "sha256", "size", "received_at", "first_seen_at"}``
  a hand-over: a content seen under a name in a quarter folder when that name
  last held another content (or nothing). A version copied back into the inbox
  is a new hand-over. ``received_at`` is the file's modification time, local;
* ``{"kind": "receipt", "quarter", "file_name", "sha256", "received_at", "reporting_unit"}``
  the hand-over time (and optionally the unit) the clerk wrote in
  ``receipts.csv`` for the version of the file present when the line was
  written: a later version under the same name does not inherit it;
* ``{"kind": "quarantine" | "release", "quarter", "sha256", "reason", "at"}``
  an operator set a version aside (it is not read) or brought it back.

The archive alone is enough to rebuild every quarter: intake reads the
objects, never the inbox.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pmis_pipeline.files import copy_atomically

if TYPE_CHECKING:
    from pmis_pipeline.inputs import InboxFile

RECEIPTS_FILE = "receipts.csv"


@dataclass(frozen=True)
class Receipt:
    """One hand-over of a file version (a quarter, a name, a content, a time)."""

    quarter: str
    file_name: str
    sha256: str
    size: int
    received_at: datetime  # naive local time
    received_source: str  # "receipts.csv" or "mtime"
    first_seen_at: datetime
    seq: int  # position of the hand-over in the manifest (unique, increasing)
    reporting_unit: str | None = None  # as the clerk wrote it in receipts.csv, if any
    quarantine_reason: str | None = None  # set aside by an operator: not read


@dataclass(frozen=True)
class RegisterSummary:
    new_files: int
    new_objects: int
    known_files: int
    receipt_lines: int
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Handover:
    """A line of receipts.csv."""

    received_at: datetime
    reporting_unit: str | None = None


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
    raise ValueError(f"cần dạng YYYY-MM-DD HH:MM hoặc YYYY-MM-DD, gặp {text!r}")


def read_receipts(path: Path) -> tuple[dict[str, Handover], list[str]]:
    """``receipts.csv`` of a quarter folder (columns ``file,received_at`` and an
    optional ``reporting_unit``): file name -> hand-over, and warnings."""
    out: dict[str, Handover] = {}
    warnings: list[str] = []
    if not path.is_file():
        return out, warnings
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"file", "received_at"} <= {h.strip() for h in reader.fieldnames}:
            return out, [f"{path.name}: cần hai cột file,received_at (và có thể thêm reporting_unit)"]
        for n, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "") for k, v in row.items()}
            try:
                unit = row.get("reporting_unit", "").strip().upper().replace(" ", "") or None
                out[row["file"].strip()] = Handover(parse_local_time(row["received_at"]), unit)
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

    def lines(self) -> list[dict]:
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

    def _now(self) -> str:
        return datetime.now(self.tz).replace(tzinfo=None).isoformat(timespec="seconds")

    def register(
        self, quarter: str, files: Iterable[InboxFile], receipts: dict[str, Handover], warnings: Iterable[str] = ()
    ) -> RegisterSummary:
        """Archive the settled files of a quarter's inbox; log new hand-overs and receipts.

        A file is a new hand-over when its name last held another content (or
        nothing): a corrected file and an earlier version copied back are both
        hand-overs. A receipts.csv line applies to the version present when the
        line (its time) is first seen, never to later versions of the name.
        A file that changes while it is archived is left for the next run."""
        lines = self.lines()
        current: dict[str, str] = {}  # name -> content of its latest hand-over
        applied: dict[str, set[str]] = {}  # name -> receipt times already applied to some version
        for e in lines:
            if e.get("quarter") != quarter:
                continue
            if e["kind"] == "file":
                current[e["file_name"]] = e["sha256"]
            elif e["kind"] == "receipt":
                applied.setdefault(e["file_name"], set()).add(e["received_at"])
        notes = list(warnings)
        new_entries: list[dict] = []
        new_files = new_objects = known = receipt_lines = 0
        now = self._now()
        names = set()
        for f in files:
            names.add(f.name)
            try:
                sha = sha256_file(f.path)
                new_objects += self.store(f.path, sha)
                st = f.path.stat()
            except OSError as exc:
                notes.append(f"{f.name}: chưa lưu được vào kho ({exc}); sẽ đọc ở lần chạy sau")
                continue
            if (st.st_size, st.st_mtime_ns) != (f.size, f.mtime_ns):
                notes.append(f"{f.name}: tệp đang thay đổi (đang chép?); sẽ đọc ở lần chạy sau")
                continue
            if current.get(f.name) == sha:
                known += 1
            else:
                mtime = datetime.fromtimestamp(f.mtime_ns / 1e9, self.tz).replace(tzinfo=None)
                new_entries.append(
                    {
                        "kind": "file",
                        "quarter": quarter,
                        "file_name": f.name,
                        "sha256": sha,
                        "size": f.size,
                        "received_at": mtime.isoformat(timespec="seconds"),
                        "first_seen_at": now,
                    }
                )
                current[f.name] = sha
                new_files += 1
            handover = receipts.get(f.name)
            if handover is not None:
                stamp = handover.received_at.isoformat(timespec="seconds")
                if stamp not in applied.get(f.name, set()):
                    new_entries.append(
                        {
                            "kind": "receipt",
                            "quarter": quarter,
                            "file_name": f.name,
                            "sha256": sha,
                            "received_at": stamp,
                            "reporting_unit": handover.reporting_unit,
                        }
                    )
                    applied.setdefault(f.name, set()).add(stamp)
                    receipt_lines += 1
        for name in sorted(set(receipts) - names):
            notes.append(f"{RECEIPTS_FILE}: không có tệp '{name}' trong thư mục {quarter}")
        self._append(new_entries)
        return RegisterSummary(new_files, new_objects, known, receipt_lines, tuple(notes))

    def set_quarantine(self, quarter: str, sha256: str, reason: str, release: bool = False) -> None:
        """Set a version aside (not read; shown as rejected with the reason) or bring it back."""
        versions = {e["sha256"] for e in self.lines() if e["kind"] == "file" and e["quarter"] == quarter}
        matches = [v for v in versions if v.startswith(sha256)] if len(sha256) >= 8 else []
        if len(matches) != 1:
            raise ValueError(f"{quarter}: no single archived version starts with {sha256!r}")
        kind = "release" if release else "quarantine"
        self._append([{"kind": kind, "quarter": quarter, "sha256": matches[0], "reason": reason, "at": self._now()}])

    def operator_marks(self) -> dict[str, list[str]]:
        """Quarter -> the operator's quarantine and release lines, in order
        (part of the quarter's inbox data version: a mark makes it stale)."""
        out: dict[str, list[str]] = {}
        for e in self.lines():
            if e["kind"] in ("quarantine", "release"):
                out.setdefault(e["quarter"], []).append(f"{e['kind']}:{e['sha256']}:{e.get('at')}")
        return out

    def receipts(self, quarter: str) -> list[Receipt]:
        """Every hand-over ever made for ``quarter``, in order. A receipts.csv
        entry belongs to the latest hand-over of its name and content before it."""
        handovers: list[tuple[int, dict]] = []
        latest: dict[tuple[str, str], int] = {}  # (name, sha) -> index in handovers
        receipt_of: dict[int, dict] = {}
        quarantine: dict[str, str] = {}
        for seq, e in enumerate(self.lines()):
            if e.get("quarter") != quarter:
                continue
            if e["kind"] == "file":
                latest[(e["file_name"], e["sha256"])] = len(handovers)
                handovers.append((seq, e))
            elif e["kind"] == "receipt" and (e["file_name"], e["sha256"]) in latest:
                receipt_of[latest[(e["file_name"], e["sha256"])]] = e
            elif e["kind"] == "quarantine":
                quarantine[e["sha256"]] = e.get("reason") or ""
            elif e["kind"] == "release":
                quarantine.pop(e["sha256"], None)
        out: list[Receipt] = []
        for i, (seq, e) in enumerate(handovers):
            receipt = receipt_of.get(i)
            out.append(
                Receipt(
                    quarter=quarter,
                    file_name=e["file_name"],
                    sha256=e["sha256"],
                    size=e["size"],
                    received_at=datetime.fromisoformat(receipt["received_at"] if receipt else e["received_at"]),
                    received_source="receipts.csv" if receipt else "mtime",
                    first_seen_at=datetime.fromisoformat(e["first_seen_at"]),
                    seq=seq,
                    reporting_unit=receipt.get("reporting_unit") if receipt else None,
                    quarantine_reason=quarantine.get(e["sha256"]),
                )
            )
        return out

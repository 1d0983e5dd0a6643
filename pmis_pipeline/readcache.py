"""What reading a file gave, kept by content: a file already read is not read again.

A quarter's run reads every file version ever handed over for the quarter
(a re-submission must be resolved against the earlier files). Reading is the
costly part, and its outcome depends only on the file's bytes and a few other
things, so a readable file's outcome (:class:`pmis_pipeline.intake.FileOutcome`:
its submission fields, prepared records, declared units, photo rows) is kept
under ``data/warehouse/cache/reads/<version>/<key[:2]>/<key>.outcome``:

* ``key`` = sha256 of the archived object's sha256, the file name (messages
  name it), the quarter and the reporting units of the catalog (the
  ``ThongTin`` checks read them);
* ``version`` = a hash of the source of every module that reading and
  preparing a file runs (reader, intake, normalisation, legacy encodings, text
  keys, schema, quarters), of the reader libraries' versions (fastexcel,
  polars, Pillow) and of the ``[intake]`` limits: a new reader, a new library
  or new limits read every file again. Entries of other versions are removed
  when a new version is first written.

The submission id (which depends on the hand-over's place in the archive's
manifest) is replaced on the way out. Only readable outcomes are kept: a
rejection may depend on the machine (a time or memory limit) and is cheap to
find again. The file holds length-prefixed parts: a JSON header and Arrow IPC
frames, never pickles. A damaged or unreadable entry is a miss (the file is
read again and the entry rewritten). The cache can be deleted at any time.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Mapping
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

#: Bump when the layout of an entry changes.
CACHE_FORMAT = 1
#: Modules whose code decides what reading a file gives.
READER_MODULES = ("reader", "intake", "normalize", "legacy", "textnorm", "schema", "quarters", "catalog", "isolation", "readcache")
READER_LIBRARIES = ("fastexcel", "polars", "pillow", "olefile")
_PACKAGE = Path(__file__).resolve().parent
_LEN = struct.Struct("<Q")  # length prefix of the entry's parts


@functools.cache
def code_version() -> str:
    """A hash of the reading code and the reader libraries' versions."""
    digest = hashlib.sha256(f"format {CACHE_FORMAT}".encode())
    for name in READER_MODULES:
        digest.update(name.encode() + b"\0" + (_PACKAGE / f"{name}.py").read_bytes())
    for lib in READER_LIBRARIES:
        try:
            digest.update(f"{lib}={metadata.version(lib)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{lib}=none".encode())
    return digest.hexdigest()


def version_key(limits: Any) -> str:
    """The cache version for reading under ``limits`` (an ``IntakeLimits``)."""
    limits_text = json.dumps(asdict(limits.read_limits()), sort_keys=True)
    return hashlib.sha256(f"{code_version()}\0{limits_text}".encode()).hexdigest()[:20]


def entry_key(sha256: str, file_name: str, quarter: str, reporting: Mapping[str, str]) -> str:
    units = json.dumps(sorted(reporting.items()), ensure_ascii=False)
    return hashlib.sha256(f"{sha256}\0{file_name}\0{quarter}\0{units}".encode()).hexdigest()


def _frame_bytes(frame: pl.DataFrame | None) -> bytes:
    if frame is None:
        return b""
    buf = io.BytesIO()
    frame.write_ipc(buf, compression="lz4")
    return buf.getvalue()


def _parts(data: bytes) -> list[bytes]:
    out, at = [], 0
    (count,) = _LEN.unpack_from(data, at)
    at += _LEN.size
    for _ in range(count):
        (size,) = _LEN.unpack_from(data, at)
        at += _LEN.size
        if at + size > len(data):
            raise ValueError("truncated cache entry")
        out.append(data[at:at + size])
        at += size
    return out




class ReadCache:
    """The outcomes of readable files under ``root`` for one version (see the module)."""

    def __init__(self, root: Path, version: str) -> None:
        self.root = root
        self.version = version
        self.folder = root / version
        self.hits = 0
        self.misses = 0
        self._pruned = False

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.outcome"

    def probe(self, key: str) -> bool:
        """Whether an entry is kept under ``key`` (its outcome is loaded later,
        by :meth:`get`, which counts the hit, or the miss of a damaged entry);
        an absent entry counts as a miss now."""
        if self._path(key).is_file():
            return True
        self.misses += 1
        return False

    def get(self, key: str, submission_id: str) -> Any | None:
        """The outcome kept under ``key`` with ``submission_id`` put in, or None."""
        from pmis_pipeline.intake import FileOutcome

        path = self._path(key)
        try:
            parts = _parts(path.read_bytes())
            header = json.loads(parts[0])
            records = pl.read_ipc(io.BytesIO(parts[1])) if parts[1] else None
            declared = pl.read_ipc(io.BytesIO(parts[2])) if parts[2] else None
        except FileNotFoundError:
            self.misses += 1
            return None
        except Exception:  # a damaged entry: read the file again
            self.misses += 1
            path.unlink(missing_ok=True)
            return None
        self.hits += 1
        sid = pl.lit(submission_id).alias("submission_id")
        if records is not None and "submission_id" in records.columns:
            records = records.with_columns(sid)
        if declared is not None and "submission_id" in declared.columns:
            declared = declared.with_columns(sid)
        photos = [{**p, "submission_id": submission_id} for p in header["photos"]]
        return FileOutcome(header["fields"], records, declared, photos)

    def put(self, key: str, outcome: Any) -> None:
        """Keep a readable outcome (others are not kept); never fails the run."""
        if not outcome.fields.get("readable"):
            return
        try:
            self._prune()
            path = self._path(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            header = json.dumps({"fields": outcome.fields, "photos": outcome.photos}, ensure_ascii=False).encode()
            parts = [header, _frame_bytes(outcome.records), _frame_bytes(outcome.declared)]
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(_LEN.pack(len(parts)))
                for part in parts:
                    fh.write(_LEN.pack(len(part)))
                    fh.write(part)
            os.replace(tmp, path)
        except OSError:
            pass  # a full disk or a read-only folder costs speed, never the quarter

    def _prune(self) -> None:
        """Remove the entries of other versions (once per cache object)."""
        if self._pruned:
            return
        self._pruned = True
        if self.root.is_dir():
            for other in self.root.iterdir():
                if other.is_dir() and other.name != self.version:
                    shutil.rmtree(other, ignore_errors=True)


def read_cache(warehouse: Path, limits: Any) -> ReadCache:
    """The read cache of a data folder's warehouse, for reading under ``limits``."""
    return ReadCache(warehouse / "cache" / "reads", version_key(limits))

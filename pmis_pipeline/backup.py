"""Backups, restore, and rebuilding the warehouse from the archive alone.

Letter 346/2009 asks every unit for "công tác lưu trữ, sao lưu dự phòng";
this module lets the Department prove that a backup restores. Plain
functions, no Dagster: the rebuild takes the function that builds one
quarter (the CLI passes a real in-process Dagster run).

**The raw archive is the source of truth.** :func:`rebuild` copies the
archive (objects and manifest), the catalog, the deadlines and the
configuration of a data folder into a fresh one, then builds every quarter
in order (those in the archive's manifest and the configured range) and
publishes: the warehouse follows from the archive alone.

**A backup folder** (``pmis backup --to FOLDER``) holds dated snapshots and
one content-addressed store of archived files shared by all of them::

    FOLDER/
      objects/ab/abcdef...          archived files, stored once per FOLDER
      2026-12-01_081530/            a snapshot (local time of the backup)
        snapshot.json               what it holds: every file and object with size and sha256
        SHA256SUMS                  the same for `sha256sum -c SHA256SUMS` (objects as ../objects/...)
        pmis.duckdb                 the published warehouse
        archive/manifest.jsonl      the archive's manifest, up to its last complete line
        catalog/units.csv           the unit catalog (and catalog/deadlines.csv, if any)
        config.toml                 the operator's configuration, if any
      .pmis-backup.lock

A snapshot is written under a temporary name and renamed when complete, so
a killed backup leaves no half snapshot. Backing up never writes to the data
folder: the published file is replaced by rename, so the file open at the
start is copied whole; the manifest is read up to its last complete line
(after the published file, so every file the warehouse shows is in it); the
build database is not touched.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

import duckdb

from pmis_pipeline.archive import sha256_file
from pmis_pipeline.config import ConfigError
from pmis_pipeline.quarters import configured_quarters
from pmis_pipeline.settings import DEFAULT_CONFIG, Paths, config_path, load_settings

Progress = Callable[[str], None]

FORMAT = "pmis-backup/1"
SNAPSHOT_FILE = "snapshot.json"
SUMS_FILE = "SHA256SUMS"
OBJECTS_DIR = "objects"
LOCK_FILE = ".pmis-backup.lock"
PUBLISHED = "pmis.duckdb"
MANIFEST = "archive/manifest.jsonl"
UNITS = "catalog/units.csv"
DEADLINES = "catalog/deadlines.csv"
CONFIG = "config.toml"
_BLOCK = 1 << 20


class BackupError(RuntimeError):
    """A backup, verification, restore or rebuild cannot go on; ``str(exc)`` is one line."""


# ----------------------------------------------------------------- small file helpers


def _quiet(msg: str) -> None:
    pass


def _copy_stream(source: BinaryIO, target: Path, mode: int = 0o444) -> tuple[str, int]:
    """Copy an open file to ``target`` through a temporary file beside it
    (fsynced, then renamed); returns the sha256 and size of what was copied."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            for block in iter(lambda: source.read(_BLOCK), b""):
                digest.update(block)
                size += len(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(OSError):  # a FAT disk has no modes
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return digest.hexdigest(), size


def _copy_file(source: Path, target: Path, mode: int = 0o444) -> tuple[str, int]:
    with source.open("rb") as fh:  # the file open now is copied whole, even if renamed over meanwhile
        return _copy_stream(fh, target, mode)


def _write_bytes(data: bytes, target: Path, mode: int = 0o444) -> tuple[str, int]:
    import io

    return _copy_stream(io.BytesIO(data), target, mode)


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


@contextlib.contextmanager
def _folder_lock(folder: Path, shared: bool) -> Iterator[None]:
    """Backups and pruning hold the folder exclusively; verify and restore share it.
    A file system without locks (some USB disks), or a read-only one to read
    from, is used without one."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if shared and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            yield
            return
        raise
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        except OSError as exc:
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                raise
        yield
    finally:
        os.close(fd)


def is_empty_data_folder(path: Path) -> bool:
    """Nothing in it but folders and ``.gitkeep`` files (a fresh clone's ``data/``)."""
    if not path.exists():
        return True
    for _, _, files in os.walk(path):
        if any(name != ".gitkeep" for name in files):
            return False
    return True


# ----------------------------------------------------------------- the archive as a backup sees it


def read_manifest_bytes(path: Path) -> bytes:
    """The archive's manifest up to its last complete line (a line being
    appended by a running intake is left for the next backup)."""
    if not path.is_file():
        return b""
    data = path.read_bytes()
    return data[: data.rfind(b"\n") + 1]


@dataclass(frozen=True)
class ArchivedFile:
    quarter: str
    file_name: str
    size: int


def manifest_objects(manifest: bytes) -> dict[str, ArchivedFile]:
    """sha256 -> (first) hand-over naming it, for every object the manifest needs."""
    out: dict[str, ArchivedFile] = {}
    for line in manifest.decode("utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn line: the archive skips it too
        if isinstance(entry, dict) and entry.get("kind") == "file" and "sha256" in entry:
            out.setdefault(entry["sha256"], ArchivedFile(entry.get("quarter", "?"), entry.get("file_name", "?"), int(entry.get("size", -1))))
    return out


def _object_rel(sha: str) -> str:
    return f"{OBJECTS_DIR}/{sha[:2]}/{sha}"


def _copy_object(source_objects: Path, sha: str, info: ArchivedFile, target: Path) -> int:
    """Copy one archived file, checking that its content still matches its name."""
    source = source_objects / sha[:2] / sha
    if not source.is_file():
        raise BackupError(f"archive object {sha[:12]} ({info.quarter} {info.file_name}) is missing from {source_objects}")
    got, size = _copy_file(source, target)
    if got != sha:
        target.unlink(missing_ok=True)
        raise BackupError(
            f"archive object {sha[:12]} ({info.quarter} {info.file_name}) is damaged: its content no longer matches its name"
        )
    return size


def _published_facts(db: Path) -> dict:
    """Quarters, staff rows and schema version of a published warehouse file."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        quarters = [q for (q,) in con.execute("SELECT DISTINCT quarter FROM staff ORDER BY 1").fetchall()]
        staff_rows = con.execute("SELECT count(*) FROM staff").fetchone()[0]
        row = con.execute("SELECT value FROM core.meta WHERE key = 'schema_version'").fetchone()
        shas = sorted({s for (s,) in con.execute("SELECT DISTINCT sha256 FROM submissions").fetchall()})
    finally:
        con.close()
    return {"quarters": quarters, "staff_rows": staff_rows, "schema_version": row[0] if row else None, "sha256s": shas}


# ----------------------------------------------------------------- snapshots


@dataclass
class BackupSummary:
    folder: Path
    snapshot: Path
    files: int
    objects: int
    new_objects: int
    new_bytes: int
    snapshot_bytes: int
    quarters: list[str]
    staff_rows: int | None
    removed_snapshots: list[str]
    removed_objects: int
    seconds: float
    warnings: list[str] = field(default_factory=list)


def list_snapshots(folder: Path) -> list[Path]:
    """The snapshots of a backup folder, oldest first (names are local times)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / SNAPSHOT_FILE).is_file())


def _snapshot_name(folder: Path, now: datetime) -> str:
    base = now.strftime("%Y-%m-%d_%H%M%S")  # no ':' (FAT disks), sorts in time order
    name, n = base, 1
    while (folder / name).exists():
        n += 1
        name = f"{base}_{n}"
    return name


def _backup_settings(data: Path, warnings: list[str]):
    """(timezone, keep) of the data folder; a broken config.toml must not stop a backup."""
    try:
        settings = load_settings(data)
        return settings.tz, settings.model.backup.keep
    except ConfigError as exc:
        import tomllib
        from zoneinfo import ZoneInfo

        warnings.append(f"configuration not readable ({exc}); backed up as it is, defaults used for the backup")
        defaults = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))
        return ZoneInfo(defaults["calendar"]["timezone"]), defaults["backup"]["keep"]


def backup(
    data: Path,
    folder: Path,
    keep: int | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> BackupSummary:
    """Write a dated snapshot of ``data`` into ``folder``, verify it, then keep
    the last ``keep`` snapshots (default ``[backup] keep``; 0 = all)."""
    progress = progress or _quiet
    started = time.perf_counter()
    data, folder = Path(data).resolve(), Path(folder).resolve()
    paths = Paths(data)
    warnings: list[str] = []
    tz, configured_keep = _backup_settings(data, warnings)
    keep = configured_keep if keep is None else keep
    if folder == data or data in folder.parents:
        raise BackupError(f"{folder} is inside the data folder {data}: back up to another disk or folder")
    if not paths.archive.is_dir() and not paths.published_db.is_file() and not paths.units_csv.is_file():
        raise BackupError(f"{data} holds no archive, warehouse or catalog: is it the data folder?")

    with _folder_lock(folder, shared=False):
        _remove_leftovers(folder)
        name = _snapshot_name(folder, now or datetime.now(tz))
        staging = folder / f".{name}.partial"
        staging.mkdir(parents=True)
        try:
            files: dict[str, dict] = {}
            facts = None
            # 1. the published warehouse first: the manifest read after it names every file it shows
            if paths.published_db.is_file():
                sha, size = _copy_file(paths.published_db, staging / PUBLISHED)
                files[PUBLISHED] = {"sha256": sha, "bytes": size}
                facts = _published_facts(staging / PUBLISHED)
                progress(f"published warehouse: {_mb(size)}, {len(facts['quarters'])} quarter(s), {facts['staff_rows']} staff rows")
            else:
                warnings.append(f"no published warehouse yet ({paths.published_db}); a rebuild makes it from the archive")
            # 2. catalog and configuration
            for rel, source in ((UNITS, paths.units_csv), (DEADLINES, paths.deadlines_csv), (CONFIG, config_path(data))):
                if source.is_file():
                    sha, size = _copy_file(source, staging / rel)
                    files[rel] = {"sha256": sha, "bytes": size}
            progress(f"catalog and configuration: {', '.join(r for r in (UNITS, DEADLINES, CONFIG) if r in files) or 'none'}")
            # 3. the archive's manifest, up to its last complete line
            manifest = read_manifest_bytes(paths.archive / "manifest.jsonl")
            sha, size = _write_bytes(manifest, staging / MANIFEST)
            files[MANIFEST] = {"sha256": sha, "bytes": size}
            needed = manifest_objects(manifest)
            # 4. archived files not yet in this backup folder
            new_objects = new_bytes = 0
            for i, (obj, info) in enumerate(sorted(needed.items()), start=1):
                target = folder / _object_rel(obj)
                if target.is_file() and (info.size < 0 or target.stat().st_size == info.size):
                    continue
                new_bytes += _copy_object(paths.archive / "objects", obj, info, target)
                new_objects += 1
                if new_objects % 200 == 0:
                    progress(f"archived files: {i}/{len(needed)} looked at, {new_objects} new")
            n_lines = manifest.count(b"\n")
            progress(
                f"archive: {n_lines} manifest lines, {len(needed)} files needed, "
                f"{new_objects} new ({_mb(new_bytes)}), {len(needed) - new_objects} already in {folder.name}/"
            )
            objects = {obj: (folder / _object_rel(obj)).stat().st_size for obj in needed}
            if facts is not None:
                not_archived = sorted(set(facts["sha256s"]) - set(objects))
                if not_archived:
                    raise BackupError(
                        f"the published warehouse shows {len(not_archived)} file(s) the archive's manifest does not name "
                        f"(first {not_archived[0][:12]}): the archive is damaged"
                    )
            snapshot = {
                "format": FORMAT,
                "name": name,
                "created_at": (now or datetime.now(tz)).replace(tzinfo=None).isoformat(timespec="seconds"),
                "data_dir": str(data),
                "warehouse": None if facts is None else {k: facts[k] for k in ("quarters", "staff_rows", "schema_version")},
                "archive": {
                    "manifest_lines": n_lines,
                    "quarters": sorted({i.quarter for i in needed.values()}),
                },
                "files": files,
                "objects": dict(sorted(objects.items())),
            }
            _write_snapshot_manifest(staging, snapshot)
            final = folder / name
            os.replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

        # 5. read everything back (a bad object already in the folder is copied again from the archive)
        problems = verify_snapshot(final)
        repaired = _repair_objects(final, problems, paths, needed)
        if repaired:
            progress(f"copied again {repaired} archived file(s) that were damaged in {folder.name}/")
            problems = verify_snapshot(final)
        if problems:  # a disk that does not keep what is written: no snapshot rather than a bad one
            shutil.rmtree(final, ignore_errors=True)
            raise BackupError(f"snapshot {name} did not read back from {folder}, not kept: {problems[0]} ({len(problems)} problem(s))")
        progress(f"verified: {len(files)} files and {len(objects)} archived files read back with their sha256")

        removed, removed_objects = prune(folder, keep, protect=name)
        if removed or removed_objects:
            progress(f"retention (keep {keep}): removed {len(removed)} snapshot(s) {', '.join(removed)}; {removed_objects} unused archived file(s)")

    return BackupSummary(
        folder=folder,
        snapshot=final,
        files=len(files),
        objects=len(objects),
        new_objects=new_objects,
        new_bytes=new_bytes,
        snapshot_bytes=sum(f["bytes"] for f in files.values()) + new_bytes,
        quarters=[] if facts is None else facts["quarters"],
        staff_rows=None if facts is None else facts["staff_rows"],
        removed_snapshots=removed,
        removed_objects=removed_objects,
        seconds=time.perf_counter() - started,
        warnings=warnings,
    )


def _write_snapshot_manifest(staging: Path, snapshot: dict) -> None:
    body = (json.dumps(snapshot, indent=1, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    manifest_sha, _ = _write_bytes(body, staging / SNAPSHOT_FILE)
    lines = [f"{manifest_sha}  {SNAPSHOT_FILE}"]
    lines += [f"{f['sha256']}  {rel}" for rel, f in sorted(snapshot["files"].items())]
    lines += [f"{sha}  ../{_object_rel(sha)}" for sha in sorted(snapshot["objects"])]
    _write_bytes(("\n".join(lines) + "\n").encode("ascii"), staging / SUMS_FILE)


def _remove_leftovers(folder: Path) -> None:
    """Partial snapshots and temporary copies left by a killed backup (under the exclusive lock)."""
    for p in folder.glob(".*.partial"):
        shutil.rmtree(p, ignore_errors=True)
    objects = folder / OBJECTS_DIR
    if objects.is_dir():
        for p in objects.glob("*/.*.tmp"):
            p.unlink(missing_ok=True)


def _repair_objects(snapshot: Path, problems: list[str], paths: Paths, needed: dict[str, ArchivedFile]) -> int:
    """Copy again from the archive the objects that verification found damaged or missing."""
    bad = [sha for sha in needed if any(p.startswith(f"archived file {sha[:12]}") for p in problems)]
    for sha in bad:
        _copy_object(paths.archive / "objects", sha, needed[sha], snapshot.parent / _object_rel(sha))
    return len(bad)


def read_snapshot(snapshot: Path) -> dict:
    try:
        meta = json.loads((snapshot / SNAPSHOT_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{snapshot / SNAPSHOT_FILE}: not readable ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise BackupError(f"{snapshot / SNAPSHOT_FILE}: not a PMIS backup snapshot ({FORMAT})")
    return meta


def verify_snapshot(snapshot: Path, object_hashes: dict[str, str | None] | None = None) -> list[str]:
    """Problems of one snapshot (empty: it restores). ``object_hashes`` caches
    the objects already hashed (they are shared between snapshots)."""
    cache = {} if object_hashes is None else object_hashes
    try:
        meta = read_snapshot(snapshot)
    except BackupError as exc:
        return [str(exc)]
    problems: list[str] = []
    # the manifest checks itself through SHA256SUMS (also usable with `sha256sum -c`)
    sums: dict[str, str] = {}
    try:
        for line in (snapshot / SUMS_FILE).read_text(encoding="ascii").splitlines():
            sha, _, rel = line.partition("  ")
            sums[rel] = sha
    except (OSError, UnicodeDecodeError):
        problems.append(f"{SUMS_FILE} is missing or not readable")
    if sums and sums.get(SNAPSHOT_FILE) != sha256_file(snapshot / SNAPSHOT_FILE):
        problems.append(f"{SNAPSHOT_FILE} was changed after the backup (its sha256 differs from {SUMS_FILE})")
    files: dict = meta.get("files", {})
    objects: dict = meta.get("objects", {})
    expected = {SNAPSHOT_FILE, *files, *(f"../{_object_rel(s)}" for s in objects)}
    if sums and set(sums) != expected:
        problems.append(f"{SUMS_FILE} and {SNAPSHOT_FILE} do not list the same files")

    for rel, entry in sorted(files.items()):
        path = snapshot / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
        elif path.stat().st_size != entry["bytes"] or sha256_file(path) != entry["sha256"]:
            problems.append(f"{rel}: content changed since the backup (sha256 differs)")

    archived = {}
    manifest_path = snapshot / MANIFEST
    if manifest_path.is_file():
        archived = manifest_objects(manifest_path.read_bytes())
        missing = sorted(set(archived) - set(objects))
        if missing:
            problems.append(f"{MANIFEST} names {len(missing)} archived file(s) the snapshot does not hold (first {missing[0][:12]})")
    for sha, size in sorted(objects.items()):
        info = archived.get(sha)
        label = f"archived file {sha[:12]}" + (f" ({info.quarter} {info.file_name})" if info else "")
        if sha not in cache:
            path = snapshot.parent / _object_rel(sha)
            cache[sha] = sha256_file(path) if path.is_file() and path.stat().st_size == size else None
        if cache[sha] != sha:
            path = snapshot.parent / _object_rel(sha)
            problems.append(f"{label}: {'missing' if not path.is_file() else 'damaged (its content no longer matches its sha256)'}")

    db = snapshot / PUBLISHED
    if PUBLISHED in files and db.is_file() and not any(p.startswith(PUBLISHED) for p in problems):
        try:
            facts = _published_facts(db)
        except duckdb.Error as exc:
            problems.append(f"{PUBLISHED}: does not open ({str(exc).splitlines()[0]})")
        else:
            recorded = meta.get("warehouse") or {}
            if (facts["quarters"], facts["staff_rows"]) != (recorded.get("quarters"), recorded.get("staff_rows")):
                problems.append(f"{PUBLISHED}: holds other quarters or staff rows than {SNAPSHOT_FILE} records")
            unknown = set(facts["sha256s"]) - set(objects)
            if unknown:
                problems.append(f"{PUBLISHED}: shows {len(unknown)} file(s) the snapshot's archive does not hold")
    return problems


@dataclass
class SnapshotCheck:
    snapshot: Path
    problems: list[str]
    meta: dict | None


def verify(path: Path, progress: Progress | None = None) -> list[SnapshotCheck]:
    """Verify one snapshot (``FOLDER/NAME``) or every snapshot of a backup folder."""
    progress = progress or _quiet
    path = Path(path).resolve()
    if (path / SNAPSHOT_FILE).is_file():
        folder, snapshots = path.parent, [path]
    else:
        folder, snapshots = path, list_snapshots(path)
        if not snapshots:
            raise BackupError(f"{path} holds no backup snapshot")
    out = []
    cache: dict[str, str | None] = {}
    with _folder_lock(folder, shared=True):
        for snap in snapshots:
            problems = verify_snapshot(snap, cache)
            try:
                meta = read_snapshot(snap)
            except BackupError:
                meta = None
            out.append(SnapshotCheck(snap, problems, meta))
            progress(f"{snap.name}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
    return out


def prune(folder: Path, keep: int, protect: str | None = None) -> tuple[list[str], int]:
    """Keep the last ``keep`` snapshots (0 = all; never ``protect``), then remove
    the archived files no remaining snapshot names. The caller holds the lock.
    If a remaining snapshot's manifest cannot be read, no archived file is removed."""
    snapshots = list_snapshots(folder)
    removed: list[str] = []
    if keep > 0:
        others = [s for s in snapshots if s.name != protect]
        n_others = keep - 1 if protect and any(s.name == protect for s in snapshots) else keep
        for snap in others[: max(0, len(others) - n_others)]:
            shutil.rmtree(snap)
            removed.append(snap.name)
    needed: set[str] = set()
    for snap in list_snapshots(folder):
        try:
            needed |= set(read_snapshot(snap).get("objects", {}))
        except BackupError:
            return removed, 0  # cannot tell what it needs: remove nothing
    # a folder that no longer names any file in a snapshot keeps none (not even partial copies)
    n = 0
    objects = folder / OBJECTS_DIR
    if objects.is_dir():
        for path in objects.glob("*/*"):
            if path.is_file() and path.name not in needed:
                path.unlink()
                n += 1
    return removed, n


# ----------------------------------------------------------------- restore


@dataclass
class RestoreSummary:
    snapshot: Path
    target: Path
    files: int
    objects: int
    bytes: int
    quarters: list[str]
    staff_rows: int | None
    moved_aside: Path | None
    seconds: float


def find_snapshot(folder: Path, name: str | None = None) -> Path:
    folder = Path(folder).resolve()
    if (folder / SNAPSHOT_FILE).is_file() and name is None:
        return folder
    snapshots = list_snapshots(folder)
    if not snapshots:
        raise BackupError(f"{folder} holds no backup snapshot")
    if name is None:
        return snapshots[-1]
    for snap in snapshots:
        if snap.name == name:
            return snap
    raise BackupError(f"{folder} has no snapshot {name!r} (it has {', '.join(s.name for s in snapshots[-5:])})")


def _move_aside(target: Path, stamp: str) -> Path | None:
    """With --force: the data folder's current warehouse, catalog and configuration
    go to ``<target>/replaced-<stamp>/`` (nothing is deleted); the inbox stays."""
    aside = target / f"replaced-{stamp}"
    moved = False
    for rel in ("warehouse", "catalog"):
        folder = target / rel
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir()):
            if entry.name == ".gitkeep":
                continue
            (aside / rel).mkdir(parents=True, exist_ok=True)
            os.replace(entry, aside / rel / entry.name)
            moved = True
    if (target / CONFIG).is_file():
        aside.mkdir(parents=True, exist_ok=True)
        os.replace(target / CONFIG, aside / CONFIG)
        moved = True
    return aside if moved else None


def restore(
    folder: Path,
    target: Path,
    snapshot: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> RestoreSummary:
    """Verify a snapshot, then bring it back into the data folder ``target``:
    the published warehouse (also as the build database the pipeline goes on
    from), the archive, the catalog and the configuration. The inbox gets an
    empty folder per archived quarter (every file is in the archive; and
    ``./run up`` never writes the demo over it); a non-empty ``target`` is refused
    unless ``force`` (its warehouse, catalog and configuration are moved aside)."""
    progress = progress or _quiet
    started = time.perf_counter()
    snap = find_snapshot(folder, snapshot)
    target = Path(target).resolve()
    if not force and not is_empty_data_folder(target):
        raise BackupError(
            f"{target} is not empty; restore into an empty folder, or add --force "
            "(its warehouse, catalog and config.toml are then moved to replaced-<time>/ inside it)"
        )
    with _folder_lock(snap.parent, shared=True):
        problems = verify_snapshot(snap)
        if problems:
            raise BackupError(
                f"snapshot {snap.name} failed verification, nothing restored: {problems[0]}"
                + (f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else "")
            )
        meta = read_snapshot(snap)
        progress(f"{snap.name}: verified ({len(meta['files'])} files, {len(meta['objects'])} archived files)")
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        staging = target / f".restoring-{stamp}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        total = 0
        try:
            def take(source: Path, rel: str, expected: str, mode: int = 0o444) -> None:
                nonlocal total
                sha, size = _copy_file(source, staging / rel, mode)
                if sha != expected:
                    raise BackupError(f"{source}: changed while being restored")
                total += size

            paths_rel = {PUBLISHED: "warehouse/pmis.duckdb", MANIFEST: "warehouse/archive/manifest.jsonl"}
            for rel, entry in sorted(meta["files"].items()):
                mode = 0o644 if rel in (MANIFEST, UNITS, DEADLINES, CONFIG) else 0o444  # the clerk edits these
                take(snap / rel, paths_rel.get(rel, rel), entry["sha256"], mode)
            if PUBLISHED in meta["files"]:  # the pipeline goes on from the published state
                take(snap / PUBLISHED, "warehouse/build.duckdb", meta["files"][PUBLISHED]["sha256"], 0o644)
            for i, sha in enumerate(sorted(meta["objects"]), start=1):
                take(snap.parent / _object_rel(sha), f"warehouse/archive/{_object_rel(sha)}", sha)
                if i % 500 == 0:
                    progress(f"archived files: {i}/{len(meta['objects'])}")
            progress(f"copied {_mb(total)}")
            moved = _move_aside(target, stamp) if force else None
            if moved:
                progress(f"the folder's previous warehouse, catalog and configuration are in {moved}")
            for path in sorted(p for p in staging.rglob("*") if p.is_file()):
                rel = path.relative_to(staging)
                (target / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target / rel)
            for quarter in meta.get("archive", {}).get("quarters", []):  # where the clerk puts the next files
                (target / "inbox" / quarter).mkdir(parents=True, exist_ok=True)
            (target / "inbox").mkdir(exist_ok=True)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    warehouse = meta.get("warehouse") or {}
    return RestoreSummary(
        snapshot=snap,
        target=target,
        files=len(meta["files"]),
        objects=len(meta["objects"]),
        bytes=total,
        quarters=warehouse.get("quarters", []),
        staff_rows=warehouse.get("staff_rows"),
        moved_aside=moved,
        seconds=time.perf_counter() - started,
    )


# ----------------------------------------------------------------- rebuild from the archive


@dataclass
class RebuildSummary:
    target: Path
    quarters: list[str]
    objects: int
    bytes: int
    staff_rows: int | None
    seconds: float


def rebuild_quarters(data: Path, today: date | None = None) -> list[str]:
    """The quarters a rebuild of ``data`` builds, in order: those in the
    archive's manifest and the configured range (as the automation does)."""
    settings = load_settings(Path(data))
    today = today or datetime.now(settings.tz).date()
    p = settings.model.partitions
    quarters = {q.key for q in configured_quarters(p.first_quarter, p.last_quarter, today)}
    quarters |= {i.quarter for i in manifest_objects(read_manifest_bytes(settings.paths.archive / "manifest.jsonl")).values()}
    return sorted(quarters)


def rebuild_preflight(source: Path, target: Path) -> None:
    """Refuse a rebuild that cannot go on, before anything is written."""
    source, target = Path(source).resolve(), Path(target).resolve()
    if source == target:
        raise BackupError("rebuild into another folder than the one it reads")
    if not is_empty_data_folder(target):
        raise BackupError(f"{target} is not empty: a rebuild writes into a fresh data folder")
    if not Paths(source).units_csv.is_file():
        raise BackupError(f"{Paths(source).units_csv} does not exist: a rebuild needs the unit catalog")


def rebuild(
    source: Path,
    target: Path,
    run_quarter: Callable[[str], None],
    publish: Callable[[], None],
    progress: Progress | None = None,
    today: date | None = None,
) -> RebuildSummary:
    """Rebuild the whole warehouse of ``source`` from its archive alone into the
    fresh data folder ``target``: copy the archive (objects checked against
    their names, manifest up to its last complete line), the catalog, the
    deadlines and the configuration; leave the inbox empty; then
    ``run_quarter(q)`` for every quarter in order and ``publish()``."""
    progress = progress or _quiet
    started = time.perf_counter()
    source, target = Path(source).resolve(), Path(target).resolve()
    rebuild_preflight(source, target)
    src = Paths(source)
    manifest = read_manifest_bytes(src.archive / "manifest.jsonl")
    needed = manifest_objects(manifest)
    dst = Paths(target)
    total = 0
    for rel_source, rel_target in ((src.units_csv, dst.units_csv), (src.deadlines_csv, dst.deadlines_csv), (config_path(source), target / CONFIG)):
        if rel_source.is_file():
            total += _copy_file(rel_source, rel_target, 0o644)[1]
    total += _write_bytes(manifest, dst.archive / "manifest.jsonl", 0o644)[1]
    for i, (sha, info) in enumerate(sorted(needed.items()), start=1):
        total += _copy_object(src.archive / "objects", sha, info, dst.archive / "objects" / sha[:2] / sha)
        if i % 500 == 0:
            progress(f"archived files: {i}/{len(needed)}")
    n_lines = manifest.count(b"\n")
    progress(f"copied the archive ({len(needed)} files, {n_lines} manifest lines), catalog and configuration: {_mb(total)}")
    quarters = rebuild_quarters(target, today)
    for i, quarter in enumerate(quarters, start=1):
        t = time.perf_counter()
        run_quarter(quarter)
        progress(f"[{i}/{len(quarters)}] {quarter} built in {time.perf_counter() - t:.1f}s")
    publish()
    staff_rows = None
    if dst.published_db.is_file():
        staff_rows = _published_facts(dst.published_db)["staff_rows"]
        progress(f"published {dst.published_db}")
    return RebuildSummary(target, quarters, len(needed), total, staff_rows, time.perf_counter() - started)

"""A quarter's intake: archived files -> submissions, records, photos, declared units.

Plain functions over the archive and polars frames; the Dagster asset only
calls :func:`ingest_quarter` and hands the frames to the warehouse. One bad
file never stops the others: its failure becomes its submission's ``error``.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pmis_pipeline import legacy, schema
from pmis_pipeline.archive import Archive, Receipt
from pmis_pipeline.catalog import reporting_units
from pmis_pipeline.isolation import IntakeLimits, ReaderPool, ReadTask, shared_pool
from pmis_pipeline.normalize import detect_file_encoding, invisible_counts, normalize_batch, prepare_file
from pmis_pipeline.quarters import parse_quarter_text
from pmis_pipeline.readcache import ReadCache, entry_key
from pmis_pipeline.reader import DEFAULT_LIMITS, RawWorkbook, ReadLimits, RejectedFile, read_submission
from pmis_pipeline.textnorm import header_key

Progress = Callable[[str], None]
PROGRESS_SECONDS = 2.0
#: Records normalised and handed to the warehouse at a time (whole files; ``[quarter] batch_records``).
DEFAULT_BATCH_RECORDS = 100_000
#: Files the reader processes may read ahead of the one being processed.
READ_AHEAD_FILES = 32

SUBMISSION_SCHEMA: dict[str, pl.DataType] = {
    "quarter": pl.Utf8,
    "submission_id": pl.Utf8,
    "file_name": pl.Utf8,
    "sha256": pl.Utf8,
    "size_bytes": pl.Int64,
    "received_at": pl.Datetime("us"),
    "received_source": pl.Utf8,
    "first_seen_at": pl.Datetime("us"),
    "seq": pl.Int32,
    "reporting_unit": pl.Utf8,
    "reporting_unit_name": pl.Utf8,
    "declared_quarter": pl.Utf8,
    "prepared_by": pl.Utf8,
    "phone": pl.Utf8,
    "exported_at": pl.Utf8,
    "readable": pl.Boolean,
    "error": pl.Utf8,  # one line, Vietnamese, for the unit
    "error_detail": pl.Utf8,  # the technical reason (library text, English), for the operator
    "n_records": pl.Int32,
    "encoding": pl.Utf8,
    "legacy_cells": pl.Int32,
    "extra_columns": pl.List(pl.Utf8),
    "warnings": pl.List(pl.Utf8),
    "duplicate_of": pl.Utf8,
    "n_photos": pl.Int32,
    "handover_unit": pl.Utf8,
}

PHOTO_SCHEMA: dict[str, pl.DataType] = {
    "quarter": pl.Utf8,
    "submission_id": pl.Utf8,
    "ma_cb": pl.Utf8,
    "entry": pl.Utf8,
    "photo_sha256": pl.Utf8,
    "is_valid": pl.Boolean,
    "problem": pl.Utf8,
}

DECLARED_UNIT_KEYS = tuple(f.key for f in schema.UNIT_FIELDS)


def submission_id(receipt: Receipt) -> str:
    """Stable id of a hand-over: quarter, name, content and its place in the
    archive's manifest (a version copied back is a hand-over of its own)."""
    text = f"{receipt.quarter}\x00{receipt.file_name}\x00{receipt.sha256}\x00{receipt.seq}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class QuarterIntake:
    quarter: str
    submissions: pl.DataFrame
    records: pl.DataFrame
    photos: pl.DataFrame
    declared_units: pl.DataFrame
    messages: list[str] = field(default_factory=list)

    @property
    def n_rejected(self) -> int:
        return int((~self.submissions["readable"]).sum()) if self.submissions.height else 0


def _validate_info(raw: RawWorkbook, quarter: str, reporting: dict[str, str], name: str) -> tuple[str, list[str]]:
    """The reporting unit declared in ThongTin; raises RejectedFile when ThongTin fails."""
    code = (raw.info.get("reporting_unit") or "").strip().upper().replace(" ", "")
    if not code:
        raise RejectedFile(f"{name}, sheet {schema.SHEET_INFO}: thiếu 'Mã đơn vị báo cáo'")
    if code not in reporting:
        raise RejectedFile(
            f"{name}, sheet {schema.SHEET_INFO}: mã đơn vị báo cáo '{code}' không có trong danh mục đơn vị báo cáo"
        )
    declared = raw.info.get("quarter")
    if not declared:
        raise RejectedFile(f"{name}, sheet {schema.SHEET_INFO}: thiếu 'Quý'")
    parsed = parse_quarter_text(declared)
    if parsed is None:
        raise RejectedFile(
            f"{name}, sheet {schema.SHEET_INFO}: không đọc được quý '{declared}' (ví dụ đúng: 2009-Q1, Q1/2009, Quý 1 năm 2009)",
            detail=f"ThongTin quarter {declared!r} matches no accepted form",
        )
    if parsed.key != quarter:
        raise RejectedFile(
            f"{name}, sheet {schema.SHEET_INFO}: quý '{declared}' ({parsed.key}) khác thư mục nhận {quarter}"
        )
    warnings: list[str] = []
    name_key = header_key(name)
    if header_key(code) not in name_key:
        others = [c for c in _codes_in(name_key, reporting) if c != code]
        if others:
            warnings.append(f"{name}: tên tệp gợi ý đơn vị {others[0]} nhưng sheet ThongTin khai báo {code}")
    return code, warnings


@dataclass
class _CodeIndex:
    reporting: dict[str, str]
    order: dict[str, int]
    by_key: dict[str, list[str]]
    lengths: list[int]


_code_index: _CodeIndex | None = None


def _codes_in(name_key: str, reporting: dict[str, str]) -> list[str]:
    """The reporting codes whose header key occurs in ``name_key``, in the
    catalog's order: each substring of the (short) file name is looked up,
    instead of every code of a national catalog searched in the name."""
    global _code_index
    index = _code_index
    if index is None or index.reporting is not reporting:  # the same catalog for every file of a quarter
        by_key: dict[str, list[str]] = {}
        for c in reporting:
            by_key.setdefault(header_key(c), []).append(c)
        index = _code_index = _CodeIndex(reporting, {c: i for i, c in enumerate(reporting)}, by_key, sorted({len(k) for k in by_key}))
    found: set[str] = set()
    for length in index.lengths:
        if length == 0:
            found.update(index.by_key.get("", ()))
            continue
        for start in range(len(name_key) - length + 1):
            found.update(index.by_key.get(name_key[start:start + length], ()))
    return sorted(found, key=index.order.__getitem__)


def _refused_file_unit(receipt: Receipt, row: dict, reporting: dict[str, str]) -> str | None:
    """The reporting unit a refused file reaches (its feedback names the file
    and why): the unit the clerk wrote in ``receipts.csv``; else, for a file
    that could not say who sent it (nothing read of its ThongTin), the one
    reporting unit whose code its name carries."""
    if receipt.reporting_unit in reporting:
        return receipt.reporting_unit
    if row.get("declared_quarter") is None and row.get("reporting_unit_name") is None:
        named = _codes_in(header_key(Path(receipt.file_name).stem), reporting)
        if len(named) == 1:
            return named[0]
    return None


def _declared_units(raw: RawWorkbook, quarter: str, sid: str, unit: str, encoding: legacy.Encoding) -> pl.DataFrame | None:
    if raw.units is None or raw.units.height == 0:
        return None
    frame = raw.units
    for key in DECLARED_UNIT_KEYS:
        if key not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias(key))
    frame = frame.select(DECLARED_UNIT_KEYS).with_columns(
        [legacy.decode_series(frame[k], encoding).str.strip_chars().alias(k) for k in DECLARED_UNIT_KEYS]
    )
    return frame.with_columns(
        pl.col("ma_don_vi").str.replace_all(r"\s+", "").str.to_uppercase(),
        pl.lit(quarter).alias("quarter"),
        pl.lit(sid).alias("submission_id"),
        pl.lit(unit).alias("reporting_unit"),
    ).filter(pl.col("ma_don_vi").is_not_null())


@dataclass
class _FileResult:
    """What reading one file version gave: a submission row, and for a readable
    file its prepared records, declared units and photo rows."""

    row: dict
    records: pl.DataFrame | None = None
    declared: pl.DataFrame | None = None
    photos: list[dict] = field(default_factory=list)


@dataclass
class FileOutcome:
    """What reading one file gives, without the receipt's own fields: the
    submission fields it fills (plain JSON values), and for a readable file its
    prepared records, declared units and photo rows. This is what a reader
    process hands back (:mod:`pmis_pipeline.isolation`)."""

    fields: dict
    records: pl.DataFrame | None = None
    declared: pl.DataFrame | None = None
    photos: list[dict] = field(default_factory=list)

    @classmethod
    def rejected(cls, exc: RejectedFile, reporting_unit: str | None = None) -> FileOutcome:
        fields = {"readable": False, "error": str(exc), "error_detail": exc.detail}
        if reporting_unit:
            fields["reporting_unit"] = reporting_unit
        return cls(fields)


def read_one(
    path: Path, file_name: str, quarter: str, sid: str, reporting: dict[str, str], limits: ReadLimits = DEFAULT_LIMITS
) -> FileOutcome:
    """Read, validate and prepare one file (in whatever process runs it); a
    RejectedFile becomes the outcome's error (Vietnamese, for the unit) and
    error_detail (for the operator)."""
    raw = None
    try:
        raw = read_submission(path, file_name, limits)
        info_values = [v for k, v in raw.info.items() if k in ("reporting_unit_name", "prepared_by")]
        encoding = detect_file_encoding(raw.records, info_values)
        raw.info = {k: (legacy.decode(v, encoding) if v is not None else None) for k, v in raw.info.items()}
        unit, name_warnings = _validate_info(raw, quarter, reporting, file_name)
        records = prepare_file(raw.records, encoding).with_columns(
            pl.lit(quarter).alias("quarter"), pl.lit(sid).alias("submission_id"), pl.lit(unit).alias("reporting_unit")
        )
    except RejectedFile as exc:
        declared = (raw.info.get("reporting_unit") or "").strip().upper() if raw is not None else ""
        # e.g. a wrong quarter: the unit is told in its feedback workbook
        return FileOutcome.rejected(exc, declared if declared in reporting else None)
    photos = [
        {
            "quarter": quarter,
            "submission_id": sid,
            "ma_cb": photo.ma_cb,
            "entry": photo.entry,
            "photo_sha256": photo.sha256,
            "is_valid": photo.problem is None,
            "problem": photo.problem,
        }
        for photo in raw.photos
    ]
    invisible = invisible_counts(records)
    if invisible:
        listed = ", ".join(f"{schema.FIELD_BY_KEY[k].header} {n}" for k, n in invisible.items())
        name_warnings.append(
            f"{file_name}: đã xoá ký tự ẩn hoặc ký tự điều khiển (không nhìn thấy) trong "
            f"{sum(invisible.values())} ô: {listed}"
        )
    fields = {
        "readable": True,
        "reporting_unit": unit,
        "reporting_unit_name": raw.info.get("reporting_unit_name"),
        "declared_quarter": raw.info.get("quarter"),
        "prepared_by": raw.info.get("prepared_by"),
        "phone": raw.info.get("phone"),
        "exported_at": raw.info.get("exported_at"),
        "n_records": records.height,
        "encoding": encoding,
        "extra_columns": raw.extras,
        "warnings": raw.warnings + name_warnings,
        "n_photos": len(raw.photos),
    }
    return FileOutcome(fields, records, _declared_units(raw, quarter, sid, unit, encoding), photos)


def _base_row(receipt: Receipt, quarter: str) -> dict:
    return {
        "quarter": quarter,
        "submission_id": submission_id(receipt),
        "file_name": receipt.file_name,
        "sha256": receipt.sha256,
        "size_bytes": receipt.size,
        "received_at": receipt.received_at,
        "received_source": receipt.received_source,
        "first_seen_at": receipt.first_seen_at,
        "seq": receipt.seq,
        "readable": False,
        "n_records": 0,
        "legacy_cells": 0,
        "extra_columns": [],
        "warnings": [],
        "n_photos": 0,
    }


def _result(receipt: Receipt, quarter: str, outcome: FileOutcome) -> _FileResult:
    row = _base_row(receipt, quarter)
    row.update(outcome.fields)
    return _FileResult(row, outcome.records, outcome.declared, outcome.photos)


def _read_file(
    archive: Archive, receipt: Receipt, quarter: str, reporting: dict[str, str], limits: ReadLimits = DEFAULT_LIMITS
) -> _FileResult:
    """Read one file in this process (no isolation: tests and debugging)."""
    path = archive.object_path(receipt.sha256)
    return _result(receipt, quarter, read_one(path, receipt.file_name, quarter, submission_id(receipt), reporting, limits))


def _read_alone(archive: Archive, receipt: Receipt, quarter: str, reporting: dict[str, str], limits: IntakeLimits) -> FileOutcome:
    """Read one file now, in a reader process of its own (or in this process
    without isolation): a read-cache entry found damaged after the quarter's
    files were handed to the shared pool."""
    path = archive.object_path(receipt.sha256)
    sid = submission_id(receipt)
    if not limits.isolate:
        return read_one(path, receipt.file_name, quarter, sid, reporting, limits.read_limits())
    pool = ReaderPool(limits)
    try:
        return next(iter(pool.read([ReadTask(str(path), receipt.file_name, quarter, sid, reporting)])))[1]
    finally:
        pool.close()


class _ReadAhead:
    """The reader pool's outcomes, in order, fetched by a background thread up
    to ``ahead`` files ahead of the consumer: the reader processes keep reading
    while this process normalises and loads the previous files. A consumer that
    stops early stops the thread, and the pool's workers (whose answers nobody
    will read) are closed."""

    _END = object()

    def __init__(self, outcomes: Iterator[tuple[int, FileOutcome]], ahead: int, abandon: Callable[[], None]) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, ahead))
        self._stop = threading.Event()
        self._abandon = abandon
        self._thread = threading.Thread(target=self._run, args=(outcomes,), name="pmis-read-ahead", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, outcomes: Iterator[tuple[int, FileOutcome]]) -> None:
        finished = False
        try:
            for item in outcomes:
                if not self._put(item):
                    break
            else:
                finished = True
                self._put(self._END)
        except BaseException as exc:  # a reader process that would not start, ...: raised in the consumer
            self._put(exc)
        finally:
            close = getattr(outcomes, "close", None)
            if close is not None:
                close()
            if not finished:
                self._abandon()

    def __iter__(self) -> Iterator[tuple[int, FileOutcome]]:
        while True:
            item = self._queue.get()
            if item is self._END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        """Stop the thread (after the file it waits for, if any)."""
        self._stop.set()
        self._thread.join()


def _read_files(
    archive: Archive,
    receipts: list[Receipt],
    quarter: str,
    reporting: dict[str, str],
    limits: IntakeLimits,
    cache: ReadCache | None = None,
) -> Iterator[tuple[Receipt, _FileResult]]:
    """Every receipt's result, in order, one at a time (never the quarter at
    once). Each file is read by a pool of worker processes with memory and
    time limits (:mod:`pmis_pipeline.isolation`), so an abort, a panic, a bomb
    or a hang rejects that file alone; with ``limits.isolate`` false, in this
    process. With a ``cache``, a file already read (by content,
    :mod:`pmis_pipeline.readcache`) is not read again: its outcome is loaded
    when its turn comes."""
    keys: dict[int, str] = {}
    cached: set[int] = set()
    to_read: list[int] = []
    for n, r in enumerate(receipts):
        if r.quarantine_reason is not None:
            continue
        if cache is not None:
            keys[n] = entry_key(r.sha256, r.file_name, quarter, reporting)
            if cache.probe(keys[n]):  # read before (same content, name, quarter, units, reader, limits)
                cached.add(n)
                continue
        to_read.append(n)

    def inline() -> Iterator[tuple[int, FileOutcome]]:
        for i, n in enumerate(to_read):
            r = receipts[n]
            outcome = read_one(archive.object_path(r.sha256), r.file_name, quarter, submission_id(r), reporting, limits.read_limits())
            if cache is not None:
                cache.put(keys[n], outcome)
            yield i, outcome

    def isolated() -> Iterator[tuple[int, FileOutcome]]:
        tasks = [
            ReadTask(str(archive.object_path(receipts[n].sha256)), receipts[n].file_name, quarter, submission_id(receipts[n]), reporting)
            for n in to_read
        ]
        for i, outcome in shared_pool(limits).read(tasks):
            if cache is not None:
                cache.put(keys[to_read[i]], outcome)
            yield i, outcome

    ahead: _ReadAhead | None = None
    if not to_read:
        outcomes: Iterator[tuple[int, FileOutcome]] = iter(())
    elif limits.isolate:
        ahead = _ReadAhead(isolated(), READ_AHEAD_FILES, lambda: shared_pool(limits).close())
        outcomes = iter(ahead)
    else:
        outcomes = inline()
    try:
        for n, receipt in enumerate(receipts):
            if receipt.quarantine_reason is not None:  # set aside by an operator: not read at all
                reason = f"{receipt.file_name}: tệp được Phòng TCCB tạm cách ly, không đọc ({receipt.quarantine_reason})"
                yield receipt, _result(receipt, quarter, FileOutcome({"readable": False, "error": reason}))
            elif n in cached:
                assert cache is not None
                kept = cache.get(keys[n], submission_id(receipt))
                if kept is None:  # damaged since it was probed: read the file again
                    kept = _read_alone(archive, receipt, quarter, reporting, limits)
                    cache.put(keys[n], kept)
                yield receipt, _result(receipt, quarter, kept)
            else:
                _, outcome = next(outcomes)
                yield receipt, _result(receipt, quarter, outcome)
    finally:
        if ahead is not None:
            ahead.close()
        close = getattr(outcomes, "close", None)
        if close is not None:
            close()


@dataclass
class RecordBatch:
    """Normalised records of whole files (at least ``batch_records`` of them,
    or what is left), with those files' photos and declared units: what the
    warehouse appends at a time."""

    records: pl.DataFrame
    photos: pl.DataFrame
    declared_units: pl.DataFrame


def _empty_declared() -> pl.DataFrame:
    return pl.DataFrame(schema={k: pl.Utf8 for k in ("quarter", "submission_id", "reporting_unit", *DECLARED_UNIT_KEYS)})


class QuarterStream:
    """A quarter's intake, file by file: iterating gives :class:`RecordBatch`
    es (whole files, about ``batch_records`` records each, in the order the
    files were handed over), so memory grows with a batch, not with the
    quarter. Once iterated, :attr:`submissions` holds one row per file version
    (small), with what was decided across files (``duplicate_of`` by sha256,
    legacy cells per submission) exactly as for the whole quarter at once.

    Everything decided per file stays per file (its encoding, its ThongTin);
    normalisation (:func:`normalize_batch`) works value by value, so a batch
    of files gives the rows the whole quarter would."""

    def __init__(
        self,
        archive: Archive,
        quarter: str,
        units: pl.DataFrame,
        progress: Progress | None = None,
        limits: IntakeLimits | None = None,
        cache: ReadCache | None = None,
        batch_records: int = DEFAULT_BATCH_RECORDS,
    ) -> None:
        self.archive = archive
        self.quarter = quarter
        self.units = units
        self.progress = progress
        self.limits = limits or IntakeLimits()
        self.cache = cache
        self.batch_records = max(1, int(batch_records))
        self.messages: list[str] = []
        self.n_records = 0
        self.n_photos = 0
        self.n_batches = 0
        self._submissions: pl.DataFrame | None = None
        self._started = False

    @property
    def submissions(self) -> pl.DataFrame:
        if self._submissions is None:
            raise RuntimeError("QuarterStream.submissions is known once its batches have been read")
        return self._submissions

    @property
    def n_rejected(self) -> int:
        subs = self.submissions
        return int((~subs["readable"]).sum()) if subs.height else 0

    def __iter__(self) -> Iterator[RecordBatch]:
        if self._started:
            raise RuntimeError("a QuarterStream is read once")
        self._started = True
        quarter = self.quarter
        say = self.progress or (lambda _msg: None)
        reporting = dict(reporting_units(self.units).select("ma_don_vi", "loai").iter_rows())
        receipts = sorted(self.archive.receipts(quarter), key=lambda r: (r.received_at, r.seq))
        first_by_sha: dict[str, str] = {}
        sub_rows: list[dict] = []
        cells: dict[str, int] = {}  # legacy cells decoded, per submission
        pending: list[pl.DataFrame] = []
        pending_rows = 0
        photo_rows: list[dict] = []
        unit_frames: list[pl.DataFrame] = []
        last_said = 0.0

        def tell(i: int, message: str, always: bool = False) -> None:
            """A line every PROGRESS_SECONDS (each is an event in the run's log), the last one, and every rejection."""
            nonlocal last_said
            now = time.monotonic()
            if always or i == len(receipts) or now - last_said >= PROGRESS_SECONDS:
                last_said = now
                say(f"[{i}/{len(receipts)}] {message}")

        def flush() -> RecordBatch:
            nonlocal pending, pending_rows, photo_rows, unit_frames
            records = pl.DataFrame()
            if pending:
                # one vectorised pass over the batch's records
                records = normalize_batch(pl.concat(pending, how="vertical_relaxed")).rename({"_row": "row_number"})
                counted = records.group_by("submission_id").agg(pl.col("_decoded_cells").sum().cast(pl.Int32).alias("n"))
                cells.update(dict(counted.iter_rows()))
                records = records.drop("_decoded_cells")
            batch = RecordBatch(
                records,
                pl.DataFrame(photo_rows, schema=PHOTO_SCHEMA),
                pl.concat(unit_frames, how="diagonal_relaxed") if unit_frames else _empty_declared(),
            )
            self.n_records += records.height
            self.n_photos += batch.photos.height
            self.n_batches += 1
            pending, pending_rows, photo_rows, unit_frames = [], 0, [], []
            return batch

        files = _read_files(self.archive, receipts, quarter, reporting, self.limits, self.cache)
        try:
            for i, (receipt, result) in enumerate(files, start=1):
                row = result.row
                row["handover_unit"] = receipt.reporting_unit
                if row.get("reporting_unit") is None:
                    row["reporting_unit"] = _refused_file_unit(receipt, row, reporting)
                row["duplicate_of"] = first_by_sha.get(receipt.sha256)
                first_by_sha.setdefault(receipt.sha256, row["submission_id"])
                sub_rows.append(row)
                if result.records is None:
                    self.messages.append(row["error"])
                    tell(i, f"{receipt.file_name}: rejected", always=True)
                    continue
                pending.append(result.records)
                pending_rows += result.records.height
                photo_rows.extend(result.photos)
                if result.declared is not None:
                    unit_frames.append(result.declared)
                tell(i, f"{receipt.file_name}: {row['n_records']} records ({row['encoding']})")
                if pending_rows >= self.batch_records:
                    yield flush()
        finally:
            files.close()
        if pending or photo_rows or unit_frames:
            yield flush()
        if self.cache is not None and receipts:
            say(f"{self.cache.hits} of {len(receipts)} files already read (cache by content), {self.cache.misses} read now")
        submissions = pl.DataFrame(sub_rows, schema=SUBMISSION_SCHEMA)
        if cells:
            counted = pl.DataFrame({"submission_id": list(cells), "n": list(cells.values())}, schema={"submission_id": pl.Utf8, "n": pl.Int32})
            submissions = (
                submissions.join(counted, on="submission_id", how="left", maintain_order="left")
                .with_columns(pl.coalesce("n", "legacy_cells").alias("legacy_cells"))
                .drop("n")
            )
        self._submissions = submissions


def ingest_quarter(
    archive: Archive,
    quarter: str,
    units: pl.DataFrame,
    progress: Progress | None = None,
    limits: IntakeLimits | None = None,
    cache: ReadCache | None = None,
    batch_records: int = DEFAULT_BATCH_RECORDS,
) -> QuarterIntake:
    """Read every file version ever received for ``quarter`` from the archive,
    each in a reader process of its own limits (``limits``: the ``[intake]``
    section; default: the package defaults), except those ``cache`` already
    holds, and normalise the records batch by batch; the whole quarter in
    memory (tests, benchmarks). The quarter step streams instead
    (:class:`QuarterStream`)."""
    stream = QuarterStream(archive, quarter, units, progress, limits, cache, batch_records)
    batches = list(stream)
    records = [b.records for b in batches if b.records.height]
    declared = [b.declared_units for b in batches if b.declared_units.height]
    return QuarterIntake(
        quarter,
        stream.submissions,
        pl.concat(records, how="vertical_relaxed") if records else pl.DataFrame(),
        pl.concat([b.photos for b in batches]) if batches else pl.DataFrame(schema=PHOTO_SCHEMA),
        pl.concat(declared, how="diagonal_relaxed") if declared else _empty_declared(),
        stream.messages,
    )

"""Each submitted file is read in a worker process of its own limits.

A hostile or damaged file can bring the reader library down in ways no
``try`` catches: calamine aborts the interpreter when an allocation fails
(rc 134), a Rust panic raises ``PanicException`` (a ``BaseException``), a
bomb exhausts memory, a loop never ends. So the files of a quarter are read
by a small pool of long-lived worker processes (one per core by default),
each with a data-memory limit (``RLIMIT_DATA``) and a time limit per file
(the parent kills a worker that does not answer in time). A worker that
dies is replaced; its file is rejected with a Vietnamese message saying
why (too large, took too long, crashed the reader) and the technical
detail (exit status, the last lines it wrote to stderr) for the operator.
Every other file is read as usual.

Workers are started once per process and reused (a national quarter has
~10,000 files; a fresh interpreter per file would cost ~0.5 s each). The
protocol is plain: a length-prefixed JSON task on the worker's stdin; the
answer is a JSON header (the submission fields, photo rows) followed by the
record frames as Arrow IPC bytes, never pickles (the parent does not
unpickle what a process reading hostile bytes wrote).

Unix only (``resource``, ``select``): the pipeline runs on Linux.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import IO, Any

from pmis_pipeline.reader import ReadLimits, RejectedFile, reader_crashed, too_large, took_too_long

_MB = 1024 * 1024
_HEADER = struct.Struct("<Q")  # length prefix of every message
#: An allocation request above this is no real workbook's need but damaged or
#: hostile bytes (a byte-damaged .xls asks for terabytes): "crashed", not "too large".
_DAMAGED_REQUEST = 16 * 1024**3
FILES_PER_WORKER = 500  # a worker is replaced after this many files (memory the allocator keeps)


@dataclass(frozen=True)
class IntakeLimits:
    """The ``[intake]`` section of the configuration (see default_config.toml)."""

    workers: int = 0  # reader processes; 0 = one per core
    file_memory_mb: int = 2048  # data memory of a reader process (libraries take ~200 MB of it)
    file_seconds: float = 300.0  # time to read one file before its reader is killed
    max_file_mb: int = 200  # a workbook as stored (a file, or the one inside a .zip, inflated)
    max_expanded_mb: int = 1024  # the XML inside an .xlsx, inflated
    max_sheet_cells: int = 20_000_000  # rows x columns spanned by one sheet's cells
    max_photo_mb: int = 10  # one photo, inflated
    max_photos_mb: int = 1024  # all photos of one .zip, inflated
    max_photo_pixels: int = 40_000_000  # width x height of one photo
    isolate: bool = True  # false: read in the pipeline's own process (debugging only)

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> IntakeLimits:
        """From the ``[intake]`` section; an unknown key is an error naming it."""
        section = dict(section or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(section) - known)
        if unknown:
            raise ValueError(f"[intake]: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**section)

    def read_limits(self) -> ReadLimits:
        return ReadLimits(
            max_file_bytes=self.max_file_mb * _MB,
            max_expanded_bytes=self.max_expanded_mb * _MB,
            max_sheet_cells=self.max_sheet_cells,
            max_photo_bytes=self.max_photo_mb * _MB,
            max_photos_bytes=self.max_photos_mb * _MB,
            max_photo_pixels=self.max_photo_pixels,
        )

    @property
    def n_workers(self) -> int:
        return self.workers if self.workers > 0 else max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ReadTask:
    """One file to read (the arguments of :func:`pmis_pipeline.intake.read_one`)."""

    path: str
    file_name: str
    quarter: str
    submission_id: str
    reporting: dict[str, str]


# -- messages -------------------------------------------------------------------------------------


def _send(stream: IO[bytes], *parts: bytes) -> None:
    stream.write(_HEADER.pack(len(parts)))
    for part in parts:
        stream.write(_HEADER.pack(len(part)))
        stream.write(part)
    stream.flush()


def _recv(stream: IO[bytes]) -> list[bytes] | None:
    """A message's parts; None when the other side is gone (EOF, or cut short)."""

    def exactly(n: int) -> bytes | None:
        data = stream.read(n)
        return data if data is not None and len(data) == n else None

    head = exactly(_HEADER.size)
    if head is None:
        return None
    parts = []
    for _ in range(_HEADER.unpack(head)[0]):
        size = exactly(_HEADER.size)
        if size is None:
            return None
        part = exactly(_HEADER.unpack(size)[0])
        if part is None:
            return None
        parts.append(part)
    return parts


def _frame_bytes(frame: Any) -> bytes:
    if frame is None:
        return b""
    buf = io.BytesIO()
    frame.write_ipc(buf, compression="uncompressed")
    return buf.getvalue()


def _frame_of(data: bytes) -> Any:
    if not data:
        return None
    import polars as pl

    return pl.read_ipc(io.BytesIO(data))


def encode_outcome(outcome: Any) -> list[bytes]:
    header = json.dumps({"fields": outcome.fields, "photos": outcome.photos}, ensure_ascii=False).encode()
    return [header, _frame_bytes(outcome.records), _frame_bytes(outcome.declared)]


def decode_outcome(parts: Sequence[bytes]) -> Any:
    from pmis_pipeline.intake import FileOutcome

    header = json.loads(parts[0])
    return FileOutcome(header["fields"], _frame_of(parts[1]), _frame_of(parts[2]), header["photos"])


# -- the worker -------------------------------------------------------------------------------------


def _worker_main(memory_mb: int, limits_json: str) -> int:
    """A reader process: limits itself, then reads files until its stdin closes."""
    import resource

    limit = memory_mb * _MB
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # anything a library prints goes to the stderr file, never into the protocol

    from pmis_pipeline.intake import FileOutcome, read_one  # the heavy imports, once

    limits = ReadLimits(**json.loads(limits_json))
    _send(proto_out, b"ready")
    reporting: dict[str, str] = {}
    while True:
        message = _recv(proto_in)
        if message is None:
            return 0
        if len(message) > 1 and message[1]:  # the catalog's reporting units, sent when they change
            reporting = json.loads(message[1])
        task = ReadTask(**json.loads(message[0]), reporting=reporting)
        _restart_stderr()
        fatal = False
        try:
            outcome = read_one(Path(task.path), task.file_name, task.quarter, task.submission_id, task.reporting, limits)
        except MemoryError:
            fatal = True
            outcome = FileOutcome.rejected(
                too_large(task.file_name, f"bảng tính cần hơn {memory_mb} MB bộ nhớ để đọc", "MemoryError in the reader")
            )
        except BaseException as exc:  # a panic, or a bug: this file is rejected, the others go on
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            fatal = True
            outcome = FileOutcome.rejected(reader_crashed(task.file_name, traceback.format_exc(limit=8)))
        try:
            parts = encode_outcome(outcome)
        except MemoryError:
            fatal = True
            parts = encode_outcome(
                FileOutcome.rejected(too_large(task.file_name, "kết quả đọc quá lớn", "MemoryError encoding the result"))
            )
        _send(proto_out, *parts)
        if fatal:
            return 0  # the state of a process that ran out of memory or panicked is not trusted


def _restart_stderr() -> None:
    """Each file's stderr starts empty, so a crash report shows that file's lines only."""
    try:
        os.ftruncate(2, 0)
        os.lseek(2, 0, os.SEEK_SET)
    except OSError:
        pass


# -- the pool -------------------------------------------------------------------------------------------


class _Worker:
    def __init__(self, limits: IntakeLimits) -> None:
        self.stderr = tempfile.TemporaryFile(prefix="pmis-reader-")
        env = dict(os.environ, POLARS_MAX_THREADS="1", RAYON_NUM_THREADS="1", RUST_BACKTRACE="0")
        read_limits = json.dumps(asdict(limits.read_limits()))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pmis_pipeline.isolation", str(limits.file_memory_mb), read_limits],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=env,
            close_fds=True,
        )
        self.files = 0
        self.ready = False
        self.reporting: Mapping[str, str] | None = None  # the reporting units this worker holds

    def fileno(self) -> int:
        assert self.proc.stdout is not None
        return self.proc.stdout.fileno()

    def send(self, task: ReadTask) -> None:
        """The task's fields; its reporting units only when they differ from the
        last ones this worker got (a national catalog's are ~150 KB of JSON, the
        same for every file of a quarter)."""
        assert self.proc.stdin is not None
        head = {f.name: getattr(task, f.name) for f in fields(task) if f.name != "reporting"}
        reporting = b""
        if task.reporting is not self.reporting:
            reporting = json.dumps(task.reporting, ensure_ascii=False).encode()
            self.reporting = task.reporting
        _send(self.proc.stdin, json.dumps(head, ensure_ascii=False).encode(), reporting)
        self.files += 1

    def receive(self) -> list[bytes] | None:
        assert self.proc.stdout is not None
        return _recv(self.proc.stdout)

    def stderr_tail(self, limit: int = 4000) -> str:
        try:
            self.stderr.seek(0, os.SEEK_END)
            size = self.stderr.tell()
            self.stderr.seek(max(0, size - limit))
            return self.stderr.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass

    def close(self) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()
        self.stderr.close()


def _death_reason(worker: _Worker, task: ReadTask, limits: IntakeLimits) -> RejectedFile:
    """The rejection of a file whose reader process died."""
    worker.kill()
    code = worker.proc.returncode
    tail = worker.stderr_tail()
    how = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit status {code}"
    detail = f"reader process died ({how})" + (f"\n{tail}" if tail else "")
    request = re.search(r"memory allocation of (\d+) bytes failed", tail)
    if (request and int(request.group(1)) <= _DAMAGED_REQUEST) or "MemoryError" in tail:
        return too_large(task.file_name, f"bảng tính cần hơn {limits.file_memory_mb} MB bộ nhớ để đọc", detail)
    return reader_crashed(task.file_name, detail)  # a panic, a signal, or a request only damaged bytes make


class ReaderPool:
    """Long-lived reader processes; :meth:`read` reads files, each in one of them."""

    def __init__(self, limits: IntakeLimits) -> None:
        self.limits = limits
        self.workers: list[_Worker] = []

    def _spawn(self) -> _Worker:
        worker = _Worker(self.limits)
        self.workers.append(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        worker.kill()
        worker.stderr.close()
        self.workers.remove(worker)

    def read(self, tasks: Sequence[ReadTask]) -> Iterator[tuple[int, Any]]:
        """``(index, FileOutcome)`` of every task, in the order of ``tasks``."""
        from pmis_pipeline.intake import FileOutcome

        limits = self.limits
        while len(self.workers) < min(limits.n_workers, max(1, len(tasks))):
            self._spawn()
        pending = list(range(len(tasks)))[::-1]
        busy: dict[_Worker, tuple[int, float]] = {}  # worker -> (task index, deadline)
        done: dict[int, Any] = {}
        next_out = 0
        starting: dict[_Worker, float] = {w: time.monotonic() + 120 for w in self.workers if not w.ready}
        while next_out < len(tasks):
            for worker in list(self.workers):
                if pending and worker.ready and worker not in busy:
                    index = pending.pop()
                    try:
                        worker.send(tasks[index])
                    except OSError:  # died while idle: replace it and try again
                        pending.append(index)
                        self._retire(worker)
                        starting[self._spawn()] = time.monotonic() + 120
                        continue
                    busy[worker] = (index, time.monotonic() + limits.file_seconds)
            watched = [w for w in self.workers if w in busy or w in starting]
            deadline = min([d for _, d in busy.values()] + list(starting.values()), default=time.monotonic() + 1)
            readable, _, _ = select.select(watched, [], [], max(0.0, deadline - time.monotonic()))
            now = time.monotonic()
            for worker in readable:
                message = worker.receive()
                if worker in starting:
                    del starting[worker]
                    if message != [b"ready"]:
                        raise RuntimeError(f"a reader process failed to start: {worker.stderr_tail() or 'no output'}")
                    worker.ready = True
                    continue
                index, _ = busy.pop(worker)
                if message is None:
                    done[index] = FileOutcome.rejected(_death_reason(worker, tasks[index], limits))
                else:
                    done[index] = decode_outcome(message)
                if message is None or worker.proc.poll() is not None or worker.files >= FILES_PER_WORKER:
                    self._retire(worker)
                    starting[self._spawn()] = time.monotonic() + 120
            for worker, (index, limit) in list(busy.items()):
                if worker not in readable and now >= limit:
                    del busy[worker]
                    done[index] = FileOutcome.rejected(took_too_long(tasks[index].file_name, limits.file_seconds))
                    self._retire(worker)
                    starting[self._spawn()] = time.monotonic() + 120
            for worker, limit in list(starting.items()):
                if worker not in readable and now >= limit:
                    raise RuntimeError(f"a reader process did not start in time: {worker.stderr_tail() or 'no output'}")
            while next_out in done:
                yield next_out, done.pop(next_out)
                next_out += 1

    def close(self) -> None:
        for worker in self.workers:  # every worker sees its end of input at once, then each is waited for
            try:
                if worker.proc.stdin is not None:
                    worker.proc.stdin.close()
            except OSError:
                pass
        for worker in self.workers:
            worker.close()
        self.workers.clear()


_POOLS: dict[IntakeLimits, ReaderPool] = {}


def shared_pool(limits: IntakeLimits) -> ReaderPool:
    """The process's pool for these limits (started on first use, closed at exit)."""
    pool = _POOLS.get(limits)
    if pool is None:
        pool = _POOLS[limits] = ReaderPool(limits)
    return pool


@atexit.register
def close_pools() -> None:
    for pool in _POOLS.values():
        pool.close()
    _POOLS.clear()


if __name__ == "__main__":
    sys.exit(_worker_main(int(sys.argv[1]), sys.argv[2]))

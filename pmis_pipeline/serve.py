"""Serve the reports folder read-only on 127.0.0.1, so a click in the Dagster
UI (or on a quarter page) opens a page or downloads a workbook.

``python -m pmis_pipeline.serve --root data/warehouse/reports --port 3001``
(``./run up`` starts it beside Dagster and stops it with Dagster; the base
address is in ``PMIS_REPORTS_URL``).

Only GET and HEAD; any other method gets 405. Only regular files inside
the root are served (a folder answers with its ``index.html``, never with a
listing); a path with ``..``, a hidden part (``.staging-*``), a backslash or
a NUL, or one that leads outside the root through a symbolic link, gets 404.
Workbooks are sent as ``application/vnd.openxmlformats-officedocument.
spreadsheetml.sheet`` with ``Content-Disposition: attachment`` (the
Vietnamese file name kept), so the browser downloads them; pages are sent
with a Content-Security-Policy that lets them load nothing from anywhere
(the quarter pages are self-contained). Standard library only
(:mod:`http.server`), always bound to the loopback address.
"""

from __future__ import annotations

import argparse
import email.utils
import os
import posixpath
import sys
import threading
import time
import unicodedata
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote, urlsplit

HOST = "127.0.0.1"
DEFAULT_PORT = 3001
PORT_ENV = "PMIS_REPORTS_PORT"
URL_ENV = "PMIS_REPORTS_URL"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xls": "application/vnd.ms-excel",
    ".pdf": "application/pdf",
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
    ".zip": "application/zip",
    ".parquet": "application/vnd.apache.parquet",
}
#: Types a browser shows in the tab; everything else is sent as an attachment (downloaded).
INLINE = {".html", ".htm", ".pdf", ".txt", ".png", ".jpg", ".jpeg", ".svg"}
#: Pages may load nothing from anywhere: inline styles and inline SVG only.
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
CHUNK = 1 << 16
NOT_FOUND_TEXT = "Không có tệp này trong thư mục báo cáo (tệp có thể đã được lập lại dưới tên khác: mở lại trang của quý)."


def report_url(base: str, path_relative_to_reports: str | PurePosixPath | os.PathLike) -> str:
    """The address of a file of the reports folder on the reports server.

    ``report_url("http://127.0.0.1:3001", "2009-Q1/phan-hoi/Phòng 1.xlsx")``
    -> ``"http://127.0.0.1:3001/2009-Q1/phan-hoi/Ph%C3%B2ng%201.xlsx"``: each
    part NFC and percent-encoded as UTF-8. The path is relative to the reports
    folder (a ``Path`` or text with ``/`` or ``\\``); an absolute path or one
    with ``..`` raises :class:`ValueError`."""
    text = os.fspath(path_relative_to_reports).replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        raise ValueError(f"{text!r}: give the path relative to the reports folder")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ValueError(f"{text!r}: a path with '..' leaves the reports folder")
    encoded = "/".join(quote(unicodedata.normalize("NFC", p), safe="") for p in parts)
    return f"{base.rstrip('/')}/{encoded}"


def reports_base_url(environ: Mapping[str, str] | None = None) -> str | None:
    """``PMIS_REPORTS_URL`` (set by ``./run up``), without a trailing slash; None when unset."""
    value = (environ if environ is not None else os.environ).get(URL_ENV, "").strip()
    return value.rstrip("/") or None


class ReadOnlyHandler(BaseHTTPRequestHandler):
    """GET and HEAD of the files under ``server.root``; nothing else."""

    server_version = "pmis-reports"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    error_content_type = "text/html; charset=utf-8"
    error_message_format = (  # http.server's own errors (malformed requests); ours go through _error
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>%(code)d</title></head>'
        "<body><h1>%(code)d %(message)s</h1><p>%(explain)s</p></body></html>"
    )

    # -------------------------------------------------------------- methods

    def do_GET(self) -> None:  # noqa: N802 (http.server's names)
        self._send(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._send(body=False)

    def _error(self, status: HTTPStatus, text: str, headers: dict[str, str] | None = None) -> None:
        """A short Vietnamese page (the status line itself stays ASCII, as HTTP wants)."""
        body = (
            f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{status.value}</title></head>'
            f"<body><h1>{status.value}</h1><p>{text}</p></body></html>"
        ).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", PAGE_POLICY)
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def _refuse_method(self) -> None:
        self._error(
            HTTPStatus.METHOD_NOT_ALLOWED,
            "Chỉ được xem và tải về (GET, HEAD); thư mục báo cáo không nhận ghi.",
            {"Allow": "GET, HEAD"},
        )

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse_method  # noqa: N815
    do_PROPFIND = do_MKCOL = do_COPY = do_MOVE = do_LOCK = do_UNLOCK = _refuse_method  # noqa: N815

    # ------------------------------------------------------------- the file

    def resolve(self) -> Path | None:
        """The file a request path names, or None (not found, or outside the root)."""
        root: Path = self.server.root  # type: ignore[attr-defined]
        raw = urlsplit(self.path).path
        text = unquote(raw, errors="strict") if "%" in raw else raw
        if "\x00" in text or "\\" in text or not text.startswith("/"):
            return None
        parts = text.split("/")[1:]
        if any(p in ("..", ".") or p.startswith(".") for p in parts if p):
            return None
        rel = PurePosixPath(posixpath.normpath("/" + "/".join(p for p in parts if p))).relative_to("/")
        target = root.joinpath(*rel.parts) if rel.parts else root
        try:
            real = target.resolve(strict=True)
        except (OSError, RuntimeError):
            real = None
        if real is None and rel.parts:
            # the name as a Vietnamese user typed it may be NFD; files are written NFC
            target = root.joinpath(*(unicodedata.normalize("NFC", p) for p in rel.parts))
            try:
                real = target.resolve(strict=True)
            except (OSError, RuntimeError):
                return None
        if real is None or (real != root and root not in real.parents):
            return None
        if real.is_dir():
            if not raw.endswith("/"):
                return real  # redirected by _send
            real = real / "index.html"
            if not real.is_file():
                return None
        return real if real.is_file() else None

    def _send(self, body: bool) -> None:
        try:
            path = self.resolve()
        except UnicodeDecodeError:
            path = None
        if path is None:
            self._error(HTTPStatus.NOT_FOUND, NOT_FOUND_TEXT)
            return
        if path.is_dir():  # /2009-Q1 -> /2009-Q1/ (relative links resolve against the folder)
            split = urlsplit(self.path)
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", split.path + "/" + (f"?{split.query}" if split.query else ""))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        suffix = path.suffix.lower()
        try:
            fh = path.open("rb")
        except OSError:
            self._error(HTTPStatus.NOT_FOUND, NOT_FOUND_TEXT)
            return
        with fh:
            stat = os.fstat(fh.fileno())
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", CONTENT_TYPES.get(suffix, "application/octet-stream"))
            self.send_header("Content-Length", str(stat.st_size))
            self.send_header("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True))
            self.send_header("Cache-Control", "no-cache")  # documents are rewritten by every run
            self.send_header("X-Content-Type-Options", "nosniff")
            if suffix in (".html", ".htm"):
                self.send_header("Content-Security-Policy", PAGE_POLICY)
            if suffix not in INLINE:
                name = unicodedata.normalize("NFC", path.name)
                ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
                self.send_header(
                    "Content-Disposition", f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
                )
            self.end_headers()
            if body:
                while chunk := fh.read(CHUNK):
                    self.wfile.write(chunk)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)


class ReportsServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, root: Path, port: int, *, verbose: bool = False) -> None:
        self.root = Path(root).resolve()
        self.verbose = verbose
        super().__init__((HOST, port), ReadOnlyHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def _watch_parent(pid: int, server: ReportsServer) -> None:
    """Stop when the process that started us is gone (``./run up`` killed hard)."""
    while True:
        time.sleep(0.5)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            server.shutdown()
            return
        except PermissionError:
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pmis_pipeline.serve",
        description="Serve the reports folder read-only on 127.0.0.1 (GET and HEAD only).",
    )
    parser.add_argument("--root", required=True, type=Path, help="the reports folder (data/warehouse/reports)")
    parser.add_argument("--port", type=int, default=int(os.environ.get(PORT_ENV) or DEFAULT_PORT),
                        help=f"port on 127.0.0.1 (default ${PORT_ENV} or {DEFAULT_PORT}; 0 = any free port)")
    parser.add_argument("--watch-pid", type=int, default=None, help="stop when this process ends")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    root = args.root
    if not root.is_dir():
        print(f"pmis serve: {root}: no such folder", file=sys.stderr)
        return 2
    try:
        server = ReportsServer(root, args.port, verbose=args.verbose)
    except OSError as exc:
        print(f"pmis serve: cannot listen on {HOST}:{args.port} ({exc.strerror or exc}); "
              f"{PORT_ENV} chooses another port", file=sys.stderr)
        return 1
    if args.watch_pid:
        threading.Thread(target=_watch_parent, args=(args.watch_pid, server), daemon=True).start()
    print(f"pmis serve: {server.url}/ serves {server.root} read-only", flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

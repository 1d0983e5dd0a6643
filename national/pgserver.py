"""A PostgreSQL server of the distribution's packages, in a folder of its own, on localhost.

For the ministry's location on one machine (``./run national-up``) and for
its test: ``initdb`` into the folder (first time), ``pg_ctl start`` on a free
(or given) port of 127.0.0.1 with the socket in the folder, a database for
Dagster, ``pg_ctl stop`` at the end. Nothing is installed here: the binaries
come from the distribution's ``postgresql`` package (Debian puts them in
``/usr/lib/postgresql/<version>/bin``, off the PATH).

PostgreSQL refuses to run as root: as root, the server's binaries run as the
``postgres`` system user the package creates (``subprocess`` switches user),
and the folder is handed to that user. Local connections are trusted
(``-A trust``, 127.0.0.1 only): a try-out and a test, not the ministry's
server, which has its own (``PMIS_PG_URL``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
from pathlib import Path

SERVER_USER = "postgres"  # the system user of Debian's postgresql package
ROLE = "pmis"
DATABASE = "dagster"


class PostgresUnavailable(RuntimeError):
    """The server could not be set up or started (one clear line)."""


class PostgresMissing(PostgresUnavailable):
    """No PostgreSQL binaries here, or (as root) no user to run them as."""


def find_binaries() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``: on the PATH, else Debian's newest
    ``/usr/lib/postgresql/<version>/bin``."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1]
    raise PostgresMissing(
        "PostgreSQL is not installed (no pg_ctl on the PATH nor in /usr/lib/postgresql/*/bin): "
        "apt-get install postgresql (./run test does it as root)"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalPostgres:
    """``with LocalPostgres(folder) as pg: pg.url`` (a server of its own; stopped on exit)."""

    def __init__(self, folder: Path, port: int | None = None, durable: bool = True) -> None:
        self.folder = Path(folder).resolve()
        self.port = port or free_port()
        self.durable = durable  # False (tests): no fsync, the data are thrown away
        self.bin = find_binaries()
        self.user: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise PostgresMissing(
                    f"running as root and there is no '{SERVER_USER}' user to run PostgreSQL as "
                    "(the distribution's postgresql package creates it)"
                ) from None
            self.user = SERVER_USER

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    @property
    def url(self) -> str:
        """The database's SQLAlchemy URL, as ``dagster.yaml`` takes it. The driver is named: SQLAlchemy 2.1
        maps a bare ``postgresql://`` to psycopg 3, where dagster-postgres installs psycopg2."""
        return f"postgresql+psycopg2://{ROLE}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *args: str, server: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        as_user = {"user": self.user} if server and self.user else {}
        proc = subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            capture_output=True, text=True, timeout=timeout, cwd=self.folder, **as_user,
        )
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise PostgresUnavailable(f"{args[0]} failed: {detail[-1] if detail else proc.returncode} (see {self.log})")
        return proc

    def _hand_over(self) -> None:
        """As root: the folder belongs to the server's user, and every folder above it lets that user through."""
        if not self.user:
            return
        entry = pwd.getpwnam(self.user)
        for path in (self.folder, *self.folder.rglob("*")):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        for parent in self.folder.parents:
            if not os.stat(parent).st_mode & 0o001:
                raise PostgresUnavailable(
                    f"{parent} is closed to other users, so PostgreSQL (user '{self.user}') cannot reach {self.folder}: "
                    "choose a folder under /tmp or /srv"
                )

    def start(self) -> str:
        """initdb (the first time), start, create the database; returns the URL."""
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        self._hand_over()
        if not (self.data / "PG_VERSION").is_file():
            self._run("initdb", "-D", str(self.data), "-U", ROLE, "-A", "trust", "-E", "UTF8", "--no-locale",
                      *([] if self.durable else ["--no-sync"]))
        options = [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-c unix_socket_directories={self.folder}"]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", " ".join(options), "start")
        try:  # pg_ctl -w returned once the server accepts connections
            self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", ROLE, DATABASE, server=False)
        except PostgresUnavailable as exc:
            if "already exists" not in str(exc):
                raise
        return self.url

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def __enter__(self) -> LocalPostgres:
        try:
            self.start()
        except BaseException:
            self.stop_quietly()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop_quietly(self) -> None:
        try:
            self.stop()
        except (PostgresUnavailable, subprocess.TimeoutExpired):
            pass

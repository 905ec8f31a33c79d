"""A throw-away PostgreSQL server for the tests, from the Debian ``postgresql`` package.

The server listens on 127.0.0.1 on a free port, keeps its data and unix socket in a fresh
temporary directory, and is stopped and deleted by :meth:`PgServer.stop`. ``initdb``
refuses to run as root, so under root the server runs as the ``postgres`` OS user
(``runuser -u postgres --``); as any other user it runs as that user.

Usage::

    with PgServer() as server:
        url = server.create_database("sales")   # postgres://postgres:<pw>@127.0.0.1:<port>/sales
"""
from __future__ import annotations

import atexit
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class PgUnavailable(RuntimeError):
    """The PostgreSQL binaries (or the ``postgres`` OS user needed under root) are missing."""


def find_pg_bin() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb and pg_ctl."""
    candidates = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not candidates:
        raise PgUnavailable("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin: "
                            "install the Debian package `postgresql` (apt-get install -y postgresql)")

    def version(path: str) -> tuple[int, ...]:
        part = Path(path).parents[1].name
        return tuple(int(x) for x in part.split(".") if x.isdigit())

    return Path(max(candidates, key=version)).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgServer:
    """One PostgreSQL cluster: ``start()``, ``create_database(name) -> url``, ``stop()``."""

    superuser = "postgres"

    def __init__(self) -> None:
        self.bin_dir = find_pg_bin()
        self.password = secrets.token_hex(12)
        self.port = 0
        self.tmp: Path | None = None
        self._prefix: list[str] = []
        self._owner: pwd.struct_passwd | None = None
        self.running = False
        if os.geteuid() == 0:
            try:
                self._owner = pwd.getpwnam("postgres")
            except KeyError:
                raise PgUnavailable("running as root but there is no `postgres` OS user to run the server as "
                                    "(the Debian package `postgresql` creates it)") from None
            runuser = shutil.which("runuser")
            if runuser is None:
                raise PgUnavailable("running as root and `runuser` is missing (package util-linux)")
            self._prefix = [runuser, "-u", "postgres", "--"]

    @property
    def data_dir(self) -> Path:
        assert self.tmp is not None
        return self.tmp / "data"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = [*self._prefix, *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n"
                               f"{self._log_tail()}")
        return proc

    def _log_tail(self) -> str:
        if self.tmp is None:
            return ""
        log = self.tmp / "server.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""

    def start(self) -> PgServer:
        self.tmp = Path(tempfile.mkdtemp(prefix="sales-workbook-pg-"))
        atexit.register(self.stop)  # never leave a server behind, even if the caller forgets
        pwfile = self.tmp / "pw"
        pwfile.write_text(self.password + "\n")
        if self._owner is not None:
            os.chown(self.tmp, self._owner.pw_uid, self._owner.pw_gid)
            os.chown(pwfile, self._owner.pw_uid, self._owner.pw_gid)
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", self.superuser,
                  f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        pwfile.unlink()
        options = " ".join([
            "-c listen_addresses=127.0.0.1", f"-c unix_socket_directories={self.tmp}",
            "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
            "-c max_connections=20", "-c shared_buffers=64MB", "-c TimeZone=Europe/Berlin",
        ])
        # A non-UTC server time zone on purpose: results must not depend on it.
        for _attempt in range(3):  # the free port may be taken between probing and binding
            self.port = free_port()
            try:
                self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.tmp / "server.log"),
                          "-o", f"{options} -p {self.port}", "-w", "-t", "60", "start")
                self.running = True
                break
            except RuntimeError:
                if _attempt == 2:
                    self.stop()
                    raise
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgres://{self.superuser}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.tmp is None:
            return
        if self.running:
            subprocess.run([*self._prefix, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir),
                            "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)
            self.running = False
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp = None

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

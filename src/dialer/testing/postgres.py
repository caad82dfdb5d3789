"""A throwaway PostgreSQL server from the installed binaries, on 127.0.0.1 and a free port.

Used by the test suite and the benchmarks. As root it runs the server as the ``postgres`` user,
since PostgreSQL refuses to run as root. Durability is switched off: the data dies with the run.
"""

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

INSTALL_HINT = "apt-get install -y postgresql"


class PostgresUnavailable(RuntimeError):
    pass


def find_bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if Path(folder, "pg_ctl").exists():
            return Path(folder)
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise PostgresUnavailable(
        f"PostgreSQL's server binaries are missing; install them: {INSTALL_HINT}"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    def __init__(self) -> None:
        self.bin_dir = find_bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="dialer-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise PostgresUnavailable(
                    f"running as root needs the 'postgres' system user; {INSTALL_HINT}"
                ) from exc
            self.user = "postgres"
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        # next() on a count is atomic: the tests make databases from a second thread too.
        self._numbers = itertools.count(1)

    def _run(self, *args: str) -> None:
        subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            check=True,
            user=self.user,
            cwd=self.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def start(self) -> "PostgresServer":
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "dialer",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port}"
            f" -c unix_socket_directories={self.root}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=2):
                    break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        return self

    def url(self, database: str) -> str:
        return f"postgresql://dialer@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "t", template: str | None = None) -> str:
        """A new database, empty or a copy of the database named ``template`` (which nobody
        may be connected to meanwhile); returns its URL."""
        name = f"{prefix}_{os.getpid()}_{next(self._numbers)}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy}'.encode())
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

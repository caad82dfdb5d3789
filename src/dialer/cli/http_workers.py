"""``dialer serve --workers N``: N processes answering the APIs on one listening socket.

One Python process tops out near one core of request handling (the GIL), so on a small machine
the APIs' latency under concurrent clients is queueing behind one core. The serving process
starts N-1 API-only copies of itself, each given its own socket on the same address with
SO_REUSEPORT (bound by the parent, cli/listening.py, so nobody else can join), so the kernel
spreads new connections across them (one shared accept queue would not: the busiest
process, the first to wake, took every connection in a test). Only the first process runs the
dialing engine. The copies die with
their parent (PR_SET_PDEATHSIG), so a killed server never leaves orphans holding the port.
"""

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
from types import FrameType

import uvicorn

from dialer.cli import logs, redaction

_PR_SET_PDEATHSIG = 1


PARENT_VARIABLE = "DIALER_SERVE_PARENT"


def die_with_parent() -> None:
    """In a copy: be sent SIGTERM when the serving process dies, however it dies.

    Set up in the copy itself, not with preexec_fn: the parent has threads by then, and running
    Python between fork and exec in a threaded process can deadlock.
    """
    parent = int(os.environ.get(PARENT_VARIABLE, "0"))
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if parent and os.getppid() != parent:  # the parent died before prctl took effect
        raise SystemExit(0)


def spawn(
    sockets: list[socket.socket],
    host: str,
    port: int,
    database: str | None,
    access_log: bool,
    log: tuple[logs.LogFormat, str] = ("text", "info"),
) -> list[subprocess.Popen[bytes]]:
    """Start one API-only copy on each of ``sockets`` (they skip migrations: already run)."""
    env = {**os.environ, PARENT_VARIABLE: str(os.getpid())}
    if database is not None:
        # In the environment, not the command line: ps shows every user a process's arguments,
        # and a PostgreSQL URL may carry its password.
        env["DIALER_DATABASE_URL"] = database
    children = []
    for sock in sockets:
        args = [sys.executable, "-m", "dialer", "serve", "--no-engine", "--api-copy"]
        args += ["--host", host, "--port", str(port), "--listen-fd", str(sock.fileno())]
        args += ["--log-format", log[0], "--log-level", log[1]]
        if access_log:
            args.append("--access-log")
        children.append(subprocess.Popen(args, env=env, pass_fds=[sock.fileno()]))
    return children


def inherited_socket(fd: int) -> socket.socket:
    """In a copy: the listening socket its parent bound for it."""
    return socket.socket(fileno=fd)


def stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()


def run(
    app: object,
    sock: socket.socket,
    access_log: bool,
    log: tuple[logs.LogFormat, str] = ("text", "info"),
) -> None:
    fmt, level = log
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        log_level=level,
        access_log=access_log,
        log_config=logs.uvicorn_config(fmt, level) or uvicorn.config.LOGGING_CONFIG,
    )
    if fmt == "text":
        # uvicorn's config leaves the root alone: the engine's lines go through this handler.
        logs.configure("text", level)
    else:
        logs.quiet_native()
    redaction.install()  # after Config, which sets up uvicorn's log handlers
    _DrainingServer(config, getattr(getattr(app, "state", None), "draining", None)).run(
        sockets=[sock]
    )


class _DrainingServer(uvicorn.Server):
    """Tells the app (``app.state.draining``) the moment a stop signal arrives. uvicorn waits
    for every open response to finish before it stops, and an agent's event stream never
    finishes by itself: the stream ends when told, and its client reconnects elsewhere."""

    def __init__(self, config: uvicorn.Config, draining: threading.Event | None) -> None:
        super().__init__(config)
        self._draining = draining

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._draining is not None:
            self._draining.set()
        super().handle_exit(sig, frame)

"""Hearing of new work committed by other processes: PostgreSQL LISTEN, or a SQLite watch."""

import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)


class WorkListener:
    """Calls ``ring`` for each notification on ``channel`` until stopped; reconnects on loss."""

    def __init__(self, url: str, channel: str, ring: Callable[[], None]) -> None:
        self._url = url
        self._channel = channel
        self._ring = ring
        self._stopping = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="dialer-listen", daemon=True)
        self._thread.start()
        # Returns once LISTEN is in place (or after 5 s): a commit made just after must ring.
        self._listening.wait(timeout=5)

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {self._channel}")
                    self._listening.set()
                    while not self._stopping.is_set():
                        # The timeout bounds how long stop() waits for this thread.
                        for _ in conn.notifies(timeout=0.5):
                            self._ring()
            except psycopg.Error as exc:
                # Engines still poll, so a lost listener costs latency, not work.
                log.warning("listening for new work failed (%s); retrying", exc)
                self._stopping.wait(1.0)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)


class SqliteWatcher:
    """SQLite has no NOTIFY: watch ``PRAGMA data_version``, which moves whenever another
    connection (an API server, another worker) commits, and ring when it does."""

    def __init__(self, path: Path, ring: Callable[[], None], interval: float = 0.02) -> None:
        self._path = path
        self._ring = ring
        self._interval = interval
        self._stopping = threading.Event()
        # The baseline is read before the constructor returns, not in the thread: a commit made
        # just after (a key rotated as a stream joined) must ring, not become the baseline.
        self._raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._seen = self._raw.execute("PRAGMA data_version").fetchone()[0]
        self._thread = threading.Thread(target=self._watch, name="dialer-watch", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        raw, seen = self._raw, self._seen
        try:
            while not self._stopping.wait(self._interval):
                version = raw.execute("PRAGMA data_version").fetchone()[0]
                if version != seen:
                    seen = version
                    self._ring()
        except sqlite3.Error as exc:
            log.warning("watching the SQLite store for new work failed: %s", exc)
        finally:
            raw.close()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

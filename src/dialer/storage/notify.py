"""PostgreSQL LISTEN on a thread of its own: engines of every process hear of new work."""

import logging
import threading
from collections.abc import Callable

import psycopg

log = logging.getLogger(__name__)


class WorkListener:
    """Calls ``ring`` for each notification on ``channel`` until stopped; reconnects on loss."""

    def __init__(self, url: str, channel: str, ring: Callable[[], None]) -> None:
        self._url = url
        self._channel = channel
        self._ring = ring
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="dialer-listen", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {self._channel}")
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

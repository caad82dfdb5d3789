"""Hearing of any committed change that live events show (api/live_hub.py), from any process:
PostgreSQL by LISTEN on the channel migration 0017's triggers notify, SQLite by watching
PRAGMA data_version, the memory store by its own commits that add work (one process only)."""

from collections.abc import Callable

from dialer.storage.memory import MemoryStore
from dialer.storage.notify import SqliteWatcher, WorkListener
from dialer.storage.sql_store import SqlStore

CHANGES_CHANNEL = "dialer_changes"
# SQLite: how often the watch looks at data_version (a PRAGMA read, no I/O when idle).
SQLITE_INTERVAL = 0.05


def watch_changes(store: SqlStore | MemoryStore, ring: Callable[[], None]) -> Callable[[], None]:
    """Call ``ring`` (from another thread) after each change; returns the function that stops."""
    if isinstance(store, MemoryStore):
        return store.subscribe(ring)
    database = store.database
    if database.dialect == "postgres":
        listener = WorkListener(database.url, CHANGES_CHANNEL, ring)  # type: ignore[union-attr]
        return listener.stop
    watcher = SqliteWatcher(database.path, ring, interval=SQLITE_INTERVAL)  # type: ignore[union-attr]
    return watcher.stop

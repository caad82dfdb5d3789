"""A quick look at whether a store can be reached, before a pool waits 30 s to find out."""

import psycopg

from dialer.storage.database import DatabaseUrl


class StoreUnreachable(OSError):
    """The store's server did not accept a connection (down, wrong host, wrong password)."""


def check_reachable(url: str, timeout_seconds: int = 10) -> None:
    """Raise StoreUnreachable with the server's own reason (its first line); ValueError for a
    URL that names no supported store. SQLite files are opened, not reached: nothing to do."""
    parsed = DatabaseUrl.parse(url)
    if parsed.dialect != "postgres":
        return
    try:
        psycopg.connect(parsed.target, connect_timeout=timeout_seconds).close()
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreUnreachable(f"cannot reach the database: {reason}") from exc

"""Store queries for the web console's browser sessions (migration 0019)."""

from datetime import datetime

from dialer.domain.console_session import ConsoleKind, ConsoleSession
from dialer.domain.ids import TenantId
from dialer.storage.database import Connection
from dialer.storage.rows import from_us, to_us

_COLUMNS = (
    "token_hash, kind, tenant_id, agent_id, credential_hash, csrf_token, created_at,"
    " expires_at, last_seen_at"
)


class ConsoleSessionQueries:
    _conn: Connection

    def add_console_session(self, session: ConsoleSession) -> None:
        self._conn.execute(
            f"INSERT INTO console_sessions ({_COLUMNS})"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                session.token_hash,
                session.kind.value,
                session.tenant_id,
                session.agent_id,
                session.credential_hash,
                session.csrf_token,
                to_us(session.created_at),
                to_us(session.expires_at),
                to_us(session.last_seen_at),
            ),
        )

    def console_session(self, token_hash: str) -> ConsoleSession | None:
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM console_sessions WHERE token_hash = %s", (token_hash,)
        )
        if not rows:
            return None
        token, kind, tenant, agent, credential, csrf, created, expires, seen = rows[0]
        return ConsoleSession(
            token,
            ConsoleKind(kind),
            TenantId(tenant),
            agent,
            credential,
            csrf,
            from_us(created),
            from_us(expires),
            from_us(seen),
        )

    def touch_console_session(self, token_hash: str, now: datetime) -> None:
        self._conn.execute(
            "UPDATE console_sessions SET last_seen_at = %s WHERE token_hash = %s",
            (to_us(now), token_hash),
        )

    def end_console_session(self, token_hash: str) -> bool:
        rows = self._conn.execute(
            "DELETE FROM console_sessions WHERE token_hash = %s RETURNING token_hash",
            (token_hash,),
        )
        return bool(rows)

    def forget_console_sessions(self, now: datetime, idle_since: datetime) -> int:
        rows = self._conn.execute(
            "DELETE FROM console_sessions WHERE expires_at <= %s OR last_seen_at <= %s"
            " RETURNING token_hash",
            (to_us(now), to_us(idle_since)),
        )
        return len(rows)

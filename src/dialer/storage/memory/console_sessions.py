"""The memory store's console sessions, as storage/sql_console_sessions.py keeps them."""

import dataclasses
from datetime import datetime

from dialer.domain.console_session import ConsoleSession
from dialer.storage.memory.base import SessionBase
from dialer.storage.memory.tables import from_us, to_us


def _rounded(moment: datetime) -> datetime:
    return from_us(to_us(moment))  # as the SQL columns keep it: microseconds, UTC


class ConsoleSessionParts(SessionBase):
    def add_console_session(self, session: ConsoleSession) -> None:
        if session.token_hash in self._t.console_sessions:
            raise ValueError("duplicate console session token")  # the SQL primary key refuses it
        self._w("console_sessions")[session.token_hash] = dataclasses.replace(
            session,
            created_at=_rounded(session.created_at),
            expires_at=_rounded(session.expires_at),
            last_seen_at=_rounded(session.last_seen_at),
        )

    def console_session(self, token_hash: str) -> ConsoleSession | None:
        found: ConsoleSession | None = self._t.console_sessions.get(token_hash)
        return found

    def touch_console_session(self, token_hash: str, now: datetime) -> None:
        found = self._t.console_sessions.get(token_hash)
        if found is not None:
            self._w("console_sessions")[token_hash] = dataclasses.replace(
                found, last_seen_at=_rounded(now)
            )

    def end_console_session(self, token_hash: str) -> bool:
        return bool(self._delete("console_sessions", lambda s: s.token_hash == token_hash))

    def forget_console_sessions(self, now: datetime, idle_since: datetime) -> int:
        until, idle = to_us(now), to_us(idle_since)
        return len(
            self._delete(
                "console_sessions",
                lambda s: to_us(s.expires_at) <= until or to_us(s.last_seen_at) <= idle,
            )
        )

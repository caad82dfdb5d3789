"""A console session: what a browser holds instead of an API key or agent token.

The browser keeps a random session token in an HttpOnly cookie; the store keeps only its hash,
who it speaks for (a tenant's manager, or one agent of a tenant), the hash of the credential it
was opened with, and the CSRF token every change must carry. The credential's hash is checked
again on each request, so rotating the API key or revoking the agent's token ends the sessions
it opened at once, without a list of sessions to hunt down.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from dialer.domain.ids import TenantId

# A session lives at most this long from log-in (a working day and some), and ends sooner when
# the browser sends nothing for IDLE_LIMIT.
LIFETIME = timedelta(hours=12)
IDLE_LIMIT = timedelta(hours=2)
# last_seen_at is written at most this often: a page polling every few seconds must not turn
# every read into a write.
TOUCH_EVERY = timedelta(minutes=1)


class ConsoleKind(StrEnum):
    MANAGER = "manager"
    AGENT = "agent"


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    token_hash: str
    kind: ConsoleKind
    tenant_id: TenantId
    agent_id: int | None  # set for an agent's session only
    credential_hash: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime

    def alive(self, now: datetime) -> bool:
        return now < self.expires_at and now < self.last_seen_at + IDLE_LIMIT

    def stale(self, now: datetime) -> bool:
        """Its last_seen_at is old enough to be written again."""
        return now >= self.last_seen_at + TOUCH_EVERY

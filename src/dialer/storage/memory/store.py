"""The Store in memory: every role of the SQL store, for tests and demos (data is lost at exit).

Transactions are copy-on-write: a write works on a fork of the committed tables, copying each
table the first time it changes it, and commits by publishing the fork in one assignment; an
exception drops the fork, so nothing of a failed transaction is seen. One writer at a time (a
lock, as SQLite's BEGIN IMMEDIATE); a read works on the tables committed when it began, so it
never sees half a transaction and never waits for the writer.
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dialer.storage.memory.abandonment import AbandonmentParts
from dialer.storage.memory.accounts import AccountParts
from dialer.storage.memory.agent_sessions import AgentSessionParts
from dialer.storage.memory.campaigns import CampaignParts
from dialer.storage.memory.console_sessions import ConsoleSessionParts
from dialer.storage.memory.lifecycle import LifecycleParts
from dialer.storage.memory.limits import LimitParts
from dialer.storage.memory.number_pages import NumberPageParts
from dialer.storage.memory.outbox import OutboxParts
from dialer.storage.memory.pacing_history import PacingHistoryParts
from dialer.storage.memory.queue import QueueParts
from dialer.storage.memory.tables import Tables
from dialer.storage.roles import AllRoles, EveryRole


class MemorySession(
    EveryRole,
    AccountParts,
    AgentSessionParts,
    CampaignParts,
    NumberPageParts,
    LimitParts,
    QueueParts,
    OutboxParts,
    AbandonmentParts,
    LifecycleParts,
    ConsoleSessionParts,
    PacingHistoryParts,
):
    """One transaction; like SqlSession it is every role at once, seen through each port.
    (QueueParts brings SmsParts and ResultParts: the queue queues texts, a text settled sends
    its attempt's results row to the webhook.)"""


class MemoryStore:
    dialect = "memory"

    def __init__(self) -> None:
        self._committed = Tables()
        self._writer = threading.Lock()
        self._local = threading.local()
        self._listeners: list[Callable[[], None]] = []

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        # As the SQLite store: a thread holds one transaction at a time, and a nested write
        # would wait for itself forever, so refuse at once.
        if getattr(self._local, "busy", False):
            raise RuntimeError("a store transaction was opened inside another on this thread")
        self._local.busy = True
        try:
            yield
        finally:
            self._local.busy = False

    @contextmanager
    def read(self) -> Iterator[MemorySession]:
        with self._transaction():
            yield MemorySession(self._committed, writable=False)

    @contextmanager
    def write(self) -> Iterator[MemorySession]:
        with self._transaction(), self._writer:
            session = MemorySession(self._committed.fork(), writable=True)
            yield session
            self._committed = session._t  # commit: one assignment, seen whole by readers
        if session.work_added:
            for listener in list(self._listeners):
                listener()

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after a commit that added work; returns the unsubscriber."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def close(self) -> None:
        """Nothing to release; the data stays readable until the store is dropped."""


def _every_role(session: MemorySession) -> AllRoles:
    return session  # mypy checks here that a MemorySession implements every role it gives

"""The one watcher behind every open GET /api/events stream of this process.

The store rings the hub when another process (or this one) commits a change: PostgreSQL by
LISTEN on 'dialer_changes' (migration 0017's triggers), SQLite by its data_version watch. The hub
then reads, once for all streams, the summaries of the campaigns of each tenant that has a stream
open and the agents' state changes since its last read, and offers what changed to each of that
tenant's streams. It reads at most once per ``MIN_GAP`` (so a campaign's message is sent at most
once a second, however fast the engine records), and every ``REFRESH`` without a ring, for
what changes with time alone (a Scheduled campaign whose first window opens).

A stream's queue is bounded: one entry per campaign and per agent, the latest winning (a slow
client gets the newest summary, never a backlog), and at most ``MAX_KEYS`` entries, the oldest
dropped beyond. The cost of N open streams is N such queues and N sends per change; the store
is read the same whatever N is. A stream opened with an API key ends (``event: revoked``) at
the first read after that key stopped opening its tenant: a rotation, in any process, rings
the watcher as any change does."""

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool

from dialer.domain.ids import TenantId
from dialer.domain.tenant import Tenant
from dialer.services.live_feed import LiveFeed

log = logging.getLogger(__name__)

# Start watching the store; the function given is called (from any thread) after a change is
# committed. Returns the function that stops watching.
Watch = Callable[[Callable[[], None]], Callable[[], None]]

MIN_GAP = 1.0
REFRESH = 10.0
MAX_KEYS = 10_000


def frame(event: str, data: Any) -> bytes:
    return b"event: %s\ndata: %s\n\n" % (event.encode(), orjson.dumps(data))


class Subscriber:
    """One stream's queue: latest wins per key, at most ``max_keys`` keys."""

    def __init__(
        self, tenant: Tenant, max_keys: int = MAX_KEYS, credential: str | None = None
    ) -> None:
        self.tenant = tenant
        # The SHA-256 of the API key a bearer stream was opened with: the hub ends the stream
        # once it no longer names the tenant (rotated). None: a session's stream, checked by
        # api/session_auth.py's until_session_ends.
        self.credential = credential
        self.revoked = False
        self._max_keys = max_keys
        self._pending: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self.wake = asyncio.Event()
        self.dropped = 0

    def offer(self, key: tuple[str, int], message: bytes) -> None:
        if self.revoked:
            return  # nothing more reaches a stream whose key was rotated
        self._pending.pop(key, None)
        self._pending[key] = message
        while len(self._pending) > self._max_keys:
            self._pending.popitem(last=False)
            self.dropped += 1
        self.wake.set()

    def revoke(self) -> None:
        """Its key no longer opens the tenant: the stream sends ``event: revoked`` and ends."""
        self.revoked = True
        self._pending.clear()
        self.wake.set()

    def take(self) -> list[bytes]:
        messages = list(self._pending.values())
        self._pending.clear()
        self.wake.clear()
        return messages

    def __len__(self) -> int:
        return len(self._pending)


class _TenantView:
    """What the hub last read for one tenant: its summaries as sent, its last agent change."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.campaigns: dict[int, bytes] = {}
        self.agents: dict[int, bytes] = {}
        self.agent_after: int | None = None
        self.subscribers: set[Subscriber] = set()


class LiveHub:
    def __init__(
        self,
        feed: LiveFeed,
        watch: Watch | None,
        *,
        min_gap: float = MIN_GAP,
        refresh: float = REFRESH,
    ) -> None:
        self._feed = feed
        self._watch = watch
        self._stop_watching: Callable[[], None] | None = None
        self._min_gap = min_gap
        self._refresh = refresh
        self._views: dict[TenantId, _TenantView] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.reads = 0  # how many times the store was read (tests, metrics)

    @property
    def streams(self) -> int:
        return sum(len(v.subscribers) for v in self._views.values())

    def ring(self) -> None:
        """From any thread: something was committed."""
        loop, changed = self._loop, self._changed
        if loop is not None and changed is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(changed.set)

    async def join(self, tenant: Tenant, credential: str | None = None) -> Subscriber:
        """A new stream: its queue holds the tenant's current summaries and agents first.
        ``credential``: the hash of the API key it was opened with, checked at each read."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._changed = asyncio.Event()
            self._task = None
        if self._stop_watching is None and self._watch is not None:
            self._stop_watching = self._watch(self.ring)
        subscriber = Subscriber(tenant, credential=credential)
        view = self._views.get(tenant.id)
        if view is None:
            fresh = _TenantView(tenant)
            await self._read(fresh)
            # Another stream of the tenant may have joined while this one read.
            view = self._views.setdefault(tenant.id, fresh)
        view.subscribers.add(subscriber)
        for campaign_id, message in view.campaigns.items():
            subscriber.offer(("campaign", campaign_id), message)
        for agent_id, message in view.agents.items():
            subscriber.offer(("agent", agent_id), message)
        if credential is not None:
            # A rotation between the request's authentication and this join rang before the
            # stream was here to be checked.
            await self._check_credentials(view, [subscriber])
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())
        return subscriber

    def leave(self, subscriber: Subscriber) -> None:
        view = self._views.get(subscriber.tenant.id)
        if view is None:
            return
        view.subscribers.discard(subscriber)
        if not view.subscribers:
            # Nobody of the tenant watches: forget it, read nothing more for it.
            del self._views[subscriber.tenant.id]

    async def _run(self) -> None:
        changed = self._changed
        assert changed is not None
        while self._views:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), self._refresh)
            changed.clear()
            for view in list(self._views.values()):
                try:
                    await self._read(view)
                except Exception:  # a failed read must not end every stream
                    log.exception("reading live events for tenant %s failed", view.tenant.id)
            await asyncio.sleep(self._min_gap)

    async def _read(self, view: _TenantView) -> None:
        self.reads += 1
        summaries = await run_in_threadpool(self._feed.campaigns, view.tenant)
        if view.agent_after is None:
            news = await run_in_threadpool(self._feed.agents_now, view.tenant)
        else:
            news = await run_in_threadpool(self._feed.agents_after, view.tenant, view.agent_after)
        view.agent_after = news.last_id
        for campaign_id, body in summaries.items():
            message = frame("campaign", body)
            if view.campaigns.get(campaign_id) != message:
                view.campaigns[campaign_id] = message
                self._offer(view, ("campaign", campaign_id), message)
        for gone in set(view.campaigns) - set(summaries):
            del view.campaigns[gone]  # deleted: nothing more is sent for it
        for agent_id, body in news.changes.items():
            message = frame("agent", body)
            view.agents[agent_id] = message
            self._offer(view, ("agent", agent_id), message)
        await self._check_credentials(view, list(view.subscribers))

    async def _check_credentials(self, view: _TenantView, subscribers: list[Subscriber]) -> None:
        """End the bearer streams whose API key no longer opens the tenant (rotated): one
        look-up per distinct key, at each read the store's change watch rings for (a rotation
        in any process rings it, as every write does) and at least every ``refresh``."""
        keys = {s.credential for s in subscribers if s.credential is not None}
        if not keys:
            return
        alive = await run_in_threadpool(self._feed.keys_alive, view.tenant, keys)
        for subscriber in subscribers:
            if subscriber.credential is not None and subscriber.credential not in alive:
                subscriber.revoke()

    @staticmethod
    def _offer(view: _TenantView, key: tuple[str, int], message: bytes) -> None:
        for subscriber in view.subscribers:
            subscriber.offer(key, message)

    def close(self) -> None:
        if self._stop_watching is not None:
            self._stop_watching()
            self._stop_watching = None

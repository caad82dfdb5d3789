"""GET /api/events opened with ``Authorization: Bearer`` ends once that key is rotated, on
SQLite and PostgreSQL: with ``event: revoked``, as a console session's stream does, also when
the rotation is made by another process (the stream hears of it through the store's change
watch: PostgreSQL's LISTEN, migration 0022's trigger on tenants; SQLite's data_version)."""

import asyncio
import os
import time
from functools import partial

import httpx

from dialer.api.live_hub import LiveHub
from dialer.bootstrap import Container
from dialer.services.live_feed import LiveFeed
from dialer.services.tenants import hash_key
from dialer.settings import Settings
from dialer.storage.change_watch import watch_changes
from dialer.testing.server import serving
from tests.conftest import Account


def test_a_rotated_key_ends_its_streams_at_the_change_the_watch_hears(
    container: Container, account: Account, other_account: Account
) -> None:
    # No refresh without a ring: only the store's notification of the rotation may end it.
    hub = LiveHub(
        LiveFeed(container.store, container.clock, container.summaries),
        partial(watch_changes, container.store),
        refresh=3600,
    )

    async def scenario() -> None:
        ours = await hub.join(account.tenant, hash_key(account.key))
        theirs = await hub.join(other_account.tenant, hash_key(other_account.key))
        assert not ours.revoked
        await asyncio.to_thread(container.tenants.rotate_key, account.tenant.id)
        while not ours.revoked:
            await asyncio.wait_for(ours.wake.wait(), 30)
            ours.take()
        assert ours.take() == []  # nothing more reaches it
        assert not theirs.revoked  # another tenant's key still works
        # A stream opened with a key already rotated ends at once.
        stale = await hub.join(account.tenant, hash_key(account.key))
        assert stale.revoked
        for subscriber in (ours, theirs, stale):
            hub.leave(subscriber)

    try:
        asyncio.run(scenario())
    finally:
        hub.close()


def test_a_bearer_stream_ends_when_another_process_rotates_its_key(
    settings: Settings, container: Container, account: Account
) -> None:
    env = {**os.environ, "DIALER_DATABASE_URL": settings.database_url}
    with (
        serving(env, "--no-engine") as (_, base),
        httpx.Client(base_url=base, timeout=httpx.Timeout(30.0, read=60.0)) as http,
    ):
        with http.stream("GET", "/api/events", headers=account.headers) as stream:
            assert stream.status_code == 200
            lines = stream.iter_lines()
            assert next(lines).startswith("retry:")
            # This test's process, not the server's: the server learns of it from the store.
            container.tenants.rotate_key(account.tenant.id)
            rest = []
            deadline = time.monotonic() + 60  # pings come every 15 s: a stream going on ends
            for line in lines:
                rest.append(line)
                if time.monotonic() > deadline:
                    break
        assert "event: revoked" in rest
        # Reconnecting with the old key is refused.
        assert http.get("/api/events", headers=account.headers).status_code == 401

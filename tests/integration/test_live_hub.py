"""The live hub behind GET /api/events, on SQLite and PostgreSQL: one read of the store per
change serves every open stream of a tenant (the cost of N browsers is not N reads), a change
committed through another connection reaches them, and another tenant's streams get nothing."""

import asyncio
import json
from functools import partial
from typing import Any

from fastapi.testclient import TestClient

from dialer.api.live_hub import LiveHub, Subscriber
from dialer.bootstrap import Container
from dialer.domain.ids import CampaignId
from dialer.domain.lifecycle import Transition
from dialer.services.live_feed import LiveFeed
from dialer.storage.change_watch import watch_changes
from tests.conftest import Account
from tests.integration.agent_support import Desk

STREAMS = 50


def _campaigns(subscriber: Subscriber) -> list[dict[str, Any]]:
    found = []
    for message in subscriber.take():
        event, data = message.decode().split("\n")[:2]
        if event == "event: campaign":
            found.append(json.loads(data.removeprefix("data: ")))
    return found


def test_one_read_per_change_serves_every_stream_and_tenants_see_only_theirs(
    container: Container, account: Account, other_account: Account
) -> None:
    campaign = CampaignId(
        container.campaigns.create(account.tenant, account.campaign()).campaign.id
    )
    hub = container.live_hub

    async def scenario() -> None:
        ours = [await hub.join(account.tenant) for _ in range(STREAMS)]
        theirs = await hub.join(other_account.tenant)
        assert hub.streams == STREAMS + 1
        # Each stream begins with the campaign as it is.
        for subscriber in ours:
            assert [c["state"] for c in _campaigns(subscriber)] == ["Scheduled"]
        assert _campaigns(theirs) == []
        reads = hub.reads
        # Committed by another connection of the store, as a worker's change would be.
        await asyncio.to_thread(container.summaries.act, account.tenant, campaign, Transition.PAUSE)
        seen: list[list[dict[str, Any]]] = [[] for _ in ours]
        while not all(seen):
            await asyncio.wait_for(ours[-1].wake.wait(), 30)
            for got, subscriber in zip(seen, ours, strict=True):
                got.extend(_campaigns(subscriber))
        assert all(got[-1]["state"] == "Paused" for got in seen)
        # One tenant view read per ring (or a few, if the watcher rang again meanwhile),
        # never one per stream.
        assert hub.reads - reads < 5
        assert _campaigns(theirs) == []
        for subscriber in [*ours, theirs]:
            hub.leave(subscriber)
        assert hub.streams == 0

    asyncio.run(scenario())


def test_the_events_endpoint_needs_the_api_key(client: TestClient) -> None:
    response = client.get("/api/events")
    assert response.status_code == 401
    assert response.json()["title"]


def _agents(subscriber: Subscriber) -> list[dict[str, Any]]:
    found = []
    for message in subscriber.take():
        event, data = message.decode().split("\n")[:2]
        if event == "event: agent":
            found.append(json.loads(data.removeprefix("data: ")))
    return found


def test_agents_state_changes_reach_their_tenants_streams_only(
    container: Container, client: TestClient, account: Account, other_account: Account
) -> None:
    desk = Desk(container, client, account)
    alice = desk.agent("SIPSIP1")
    token = desk.token(alice)
    hub = container.live_hub

    async def next_agent_state(subscriber: Subscriber) -> dict[str, Any]:
        while True:
            await asyncio.wait_for(subscriber.wake.wait(), 30)
            found = _agents(subscriber)
            if found:
                return found[-1]

    async def scenario() -> None:
        ours = await hub.join(account.tenant)
        theirs = await hub.join(other_account.tenant)
        assert _agents(ours) == []  # nobody has logged in yet
        await asyncio.to_thread(desk.post, token, "login", {"phone": "sim:agent-1"})
        seen = await next_agent_state(ours)
        assert (seen["agentId"], seen["state"], seen["reason"]) == (
            alice,
            "paused",
            "phone-connecting",
        )
        await asyncio.to_thread(desk.answered, alice)
        assert (await next_agent_state(ours))["state"] == "ready"
        assert _agents(theirs) == []
        # A stream opened now begins with the agent's current state.
        late = await hub.join(account.tenant)
        assert [a["state"] for a in _agents(late)] == ["ready"]
        for subscriber in (ours, theirs, late):
            hub.leave(subscriber)

    asyncio.run(scenario())


def test_a_saved_pacing_decision_reaches_the_streams_with_its_counts(
    container: Container, account: Account
) -> None:
    spec = account.campaign(type="agent")
    campaign = CampaignId(container.campaigns.create(account.tenant, spec).campaign.id)
    # No refresh without a ring: only the store's notification of the change may bring it.
    hub = LiveHub(
        LiveFeed(container.store, container.clock, container.summaries),
        partial(watch_changes, container.store),
        refresh=3600,
    )

    def save() -> None:
        with container.store.write() as s:
            s.abandonment.save_pacing(campaign, 2.0, "ratio 2", container.clock.now(), (1, 2, 3))

    async def scenario() -> None:
        subscriber = await hub.join(account.tenant)
        assert [c["waitingForAgent"] for c in _campaigns(subscriber)] == [None]
        # Only campaign_pacing changes: on PostgreSQL its own trigger must notify.
        await asyncio.to_thread(save)
        got: list[dict[str, Any]] = []
        while not got:
            await asyncio.wait_for(subscriber.wake.wait(), 30)
            got.extend(_campaigns(subscriber))
        assert (got[-1]["agentsReady"], got[-1]["waitingForAgent"]) == (1, 3)
        hub.leave(subscriber)

    try:
        asyncio.run(scenario())
    finally:
        hub.close()

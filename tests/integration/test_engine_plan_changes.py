"""A running engine dials with what the campaign says now: a PUT that changes the caller ID or
the call flow reaches the next call, from this process or another store on the same database."""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from dialer.bootstrap import Container, build
from dialer.domain.ids import CampaignId
from dialer.engine.scheduler import Engine
from dialer.ports import Call, OriginateRequest
from dialer.services.zones import CalleeZones
from dialer.settings import EngineSettings, Settings
from dialer.telephony.sim_network import SimulatedNetwork
from dialer.telephony.sim_profile import SimProfile
from dialer.telephony.sms import SimulatedSmsGateway
from tests.integration.engine_support import RULES, Rig, drama


class RecordingNetwork:
    """The simulated network, noting each call's number and caller ID as it is placed; runs
    ``on_first_call`` (in a thread, as an API request would) before placing the first one."""

    def __init__(self, inner: SimulatedNetwork, on_first_call: Callable[[], None]) -> None:
        self._inner = inner
        self._on_first_call: Callable[[], None] | None = on_first_call
        self.placed: list[tuple[str, str]] = []

    async def originate(self, request: OriginateRequest) -> Call:
        if self._on_first_call is not None:
            hook, self._on_first_call = self._on_first_call, None
            await asyncio.to_thread(hook)
        self.placed.append((request.number, request.caller_id))
        return await self._inner.originate(request)

    async def close(self) -> None:
        await self._inner.close()


def engine_on(rig: Rig, container: Container, network: RecordingNetwork) -> Engine:
    sms = SimulatedSmsGateway(rig.timer)
    # One line: the second number is claimed only after the first call has ended.
    settings = EngineSettings(max_in_flight=1)
    return Engine(container.store, network, sms, rig.timer, settings, CalleeZones())


def body(rig: Rig, numbers: list[str], **overrides: Any) -> dict[str, Any]:
    return rig.account.campaign(
        phoneNumbers=[{"number": n} for n in numbers], **{"attempts": RULES, **overrides}
    )


@pytest.mark.parametrize("api", ["same store", "another store"])
def test_a_put_changing_the_caller_id_reaches_the_next_call(
    rig: Rig, database_url: str, api: str
) -> None:
    # "another store": the PUT comes through its own connections, as from an API process.
    other = build(Settings(database_url=database_url), clock=rig.timer)
    api_side = rig.container if api == "same store" else other
    try:
        numbers = [drama(0), drama(2)]
        campaign = rig.campaign(numbers)
        new_cli = rig.container.catalog.add_cli(rig.account.tenant, "+44 1632 960111")

        def put() -> None:
            changed = body(rig, numbers, cli_Id=new_cli.id)
            api_side.campaigns.update(rig.account.tenant, CampaignId(campaign), changed)

        inner = SimulatedNetwork(SimProfile.default(), rig.timer, seed=7)
        network = RecordingNetwork(inner, put)
        engine = engine_on(rig, rig.container, network)
        asyncio.run(asyncio.wait_for(engine.run_until_done(), 60))
        assert network.placed == [
            (drama(0), "+441632960000"),  # placed as the PUT was committed
            (drama(2), "+441632960111"),
        ]
    finally:
        other.close()


def test_a_put_between_reading_campaigns_and_claiming_still_reaches_the_call(rig: Rig) -> None:
    """The window a cycle's read leaves open: the claim itself checks what to dial with."""
    campaign = rig.campaign([drama(0)])
    network = RecordingNetwork(SimulatedNetwork(SimProfile.default(), rig.timer), lambda: None)
    engine = engine_on(rig, rig.container, network)
    (context,) = engine._read_contexts()
    old_flow = engine._plans[CampaignId(campaign)].flow
    # Nothing dialled yet, so the call flow may change too.
    tenant = rig.account.tenant
    new_cli = rig.container.catalog.add_cli(tenant, "+44 1632 960222")
    flow = "message: 'Bye {Name}.'\nsms: Bye\n"
    new_flow = rig.container.catalog.add_callflow(tenant, "Other", flow)
    changed = body(rig, [drama(0)], cli_Id=new_cli.id, callflow_Id=new_flow.id)
    rig.container.campaigns.update(tenant, CampaignId(campaign), changed)
    jobs, _ = engine._claim(context, rig.timer.now(), 1, None)
    assert len(jobs) == 1
    plan = engine._plans[CampaignId(campaign)]
    assert plan.cli == "+441632960222"
    assert plan.flow != old_flow


def test_finished_campaigns_leave_the_engines_caches(rig: Rig) -> None:
    first = rig.campaign([drama(0), drama(1)])
    second = rig.campaign([drama(2)])
    runtime = rig.run()
    engine = runtime.engine
    assert rig.attempts(first)
    assert rig.attempts(second)
    assert engine._plans == {}
    assert engine._campaign_buckets == {}
    assert dict(engine._active) == {}

"""The dispatcher claims what its pacing policy allows, and nothing more: a policy given to the
Engine replaces today's caps-and-rate as one object (the seam a predictive pacer plugs into)."""

import asyncio

from dialer.domain.events import AttemptStarted, CallEnded, Recording
from dialer.domain.pacing import CapsAndRate, ClaimRequest, Load
from dialer.engine.scheduler import Engine
from dialer.services.zones import CalleeZones
from dialer.settings import EngineSettings
from dialer.telephony.sim_network import SimulatedNetwork
from dialer.telephony.sim_profile import SimProfile
from dialer.telephony.sms import SimulatedSmsGateway
from tests.integration.engine_support import Rig, drama


class OneLine:
    """Today's policy, but never a second call on the line; notes every load it is shown."""

    def __init__(self) -> None:
        self._default = CapsAndRate(claim_batch=100, campaign_max_in_flight=100)
        self.loads: list[Load] = []

    def request(self, load: Load) -> ClaimRequest:
        self.loads.append(load)
        asked = self._default.request(load)
        return ClaimRequest(min(asked.lines, 1 - load.on_line), 1, asked.rate, asked.look_again)


def test_the_engine_claims_only_what_its_pacing_policy_allows(rig: Rig) -> None:
    numbers = [drama(0), drama(2), drama(3), drama(9)]  # answered calls, each some seconds long
    campaign = rig.campaign(numbers)
    events = Recording()
    policy = OneLine()
    engine = Engine(
        rig.container.store,
        SimulatedNetwork(SimProfile.default(), rig.timer, seed=7),
        SimulatedSmsGateway(rig.timer),
        rig.timer,
        EngineSettings(),
        CalleeZones(),
        events=events,
        pacing=policy,
    )
    asyncio.run(asyncio.wait_for(engine.run_until_done(), 60))
    on_line = most = 0
    for event in events.events:
        if isinstance(event, AttemptStarted):
            on_line += 1
            most = max(most, on_line)
        elif isinstance(event, CallEnded):
            on_line -= 1
    assert most == 1
    assert sorted(rig.attempts(campaign)) == sorted(numbers)
    assert {load.campaign.id for load in policy.loads} == {campaign}
    # Shown the campaign's calls on the line and the engine's free lines (--max-calls 200).
    # (Whether it is asked while a call is up depends on how the cycles fall.)
    shown = {(load.on_line, load.free_lines) for load in policy.loads}
    assert (0, 200) in shown
    assert shown <= {(0, 200), (1, 199)}

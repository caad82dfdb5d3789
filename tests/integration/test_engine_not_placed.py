"""A call the driver could not place is no attempt: the destination goes back to the queue.

On the SIP driver that is a dial the stack refused before sending anything (a full process:
no line number left, a full command queue); the network never saw the call, so it must not
use up an attempt or be recorded as the network's fault (NoConnection).
"""

import asyncio

from dialer.bootstrap import Container, build_engine
from dialer.clocks import RealTimer
from dialer.domain.call import CallNotPlaced, OriginateRequest
from dialer.domain.codes import Outcome
from dialer.engine.scheduler import NOT_PLACED_RETRY
from dialer.ports import Call, TelephonyDriver
from dialer.settings import EngineSettings, NetworkSettings, SipSettings
from tests.integration.engine_support import START, Rig, drama


class RefusesFirst:
    """The simulated network, except that the first ``refusals`` calls cannot be placed."""

    def __init__(self, network: TelephonyDriver, refusals: int) -> None:
        self.network = network
        self.refusals = refusals
        self.tried: list[OriginateRequest] = []

    async def originate(self, request: OriginateRequest) -> Call:
        self.tried.append(request)
        if len(self.tried) <= self.refusals:
            raise CallNotPlaced("dial failed: No such file or directory")
        return await self.network.originate(request)

    async def close(self) -> None:
        await self.network.close()


def test_a_call_not_placed_is_dialled_again_without_using_an_attempt(rig: Rig) -> None:
    campaign = rig.campaign([drama(0)])  # answers: one attempt, Answered
    runtime = rig.engine()
    driver = RefusesFirst(runtime.driver, refusals=2)
    runtime.engine._runner._driver = driver
    asyncio.run(asyncio.wait_for(runtime.engine.run_until_done(), 120))

    rows = rig.attempts(campaign)[drama(0)]
    assert [(r.attempt_number, r.outcome) for r in rows] == [(1, Outcome.ANSWERED)]
    references = [r.reference for r in driver.tried]
    assert len(references) == 3
    assert len(set(references)) == 1
    assert references[0].endswith(":1"), "every try is still attempt 1"
    assert runtime.engine.stats.not_placed == 2
    # Dialled again later, not at once (a full process would refuse it again).
    assert rows[0].originated_at is not None
    assert rows[0].originated_at - START >= 2 * NOT_PLACED_RETRY


def test_the_engine_never_offers_a_sip_process_more_calls_than_its_lines(
    container: Container,
) -> None:
    network = NetworkSettings(kind="sip", speed=1.0, sip=SipSettings(max_calls=40))
    runtime = build_engine(container, network, EngineSettings(max_in_flight=200), RealTimer())
    assert runtime.engine._settings.max_in_flight == 40

"""Digest authentication on the trunk: the SIP driver against SIPp's number 160.

The carrier challenges the first INVITE with 401 and checks the retried one's credentials with
SIPp's verifyauth: the right ones are answered, a wrong password is 403, and another user
(what a trunk without credentials sends) is challenged again, which fails the call with 401.

baresip allows one live Runtime per process, tied to the loop that started it, and a new one
only after the previous one closed. The credentials are the trunk's settings, so each test
builds its own driver with its own, and closes it before the next test starts one.
"""

import asyncio
import shutil
import time
from collections.abc import Coroutine, Iterator
from datetime import timedelta
from typing import Any, TypeVar

import pytest

from dialer.bootstrap import build_sip_network
from dialer.clocks import RealTimer
from dialer.domain.call import Answered, AnsweredBy, Failed, OriginateRequest
from dialer.domain.codes import Outcome
from dialer.settings import NetworkSettings, SipSettings
from dialer.telephony.sip import SipNetwork
from dialer.testing.sipp import INSTALL_HINT, Number, SippCarrier, SippMessage

pytestmark = pytest.mark.skipif(
    shutil.which("sipp") is None, reason=f"SIPp is not installed ({INSTALL_HINT})"
)

T = TypeVar("T")
USER = "dialer-trunk"
PASSWORD = "s3cret"


class Line:
    """One loop and one driver with the given trunk credentials."""

    def __init__(self, carrier: SippCarrier, username: str | None, password: str | None) -> None:
        self.loop = asyncio.new_event_loop()
        trunk = SipSettings(
            host=carrier.host,
            port=carrier.port,
            local_address="127.0.0.1",
            username=username,
            password=password,
            min_ring_seconds=1.0,
            provisional_timeout_seconds=2.0,
        )
        network = NetworkSettings(kind="sip", sip=trunk)
        self.network: SipNetwork = build_sip_network(network, RealTimer())

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.run(self.network.close())
        self.loop.close()


@pytest.fixture(scope="module")
def carrier() -> Iterator[SippCarrier]:
    with SippCarrier(auth_user=USER, auth_password=PASSWORD) as sipp:
        yield sipp


def call_160(
    carrier: SippCarrier, username: str | None, password: str | None
) -> tuple[Answered | Failed, str]:
    """Dial 160 with these credentials: how it went, and the call's Call-ID at the carrier."""
    line = Line(carrier, username, password)
    try:

        async def scenario() -> Answered | Failed:
            request = OriginateRequest(
                number=Number.AUTH_REQUIRED,
                caller_id="+441632960000",
                ring_timeout=timedelta(seconds=10),
                reference=f"auth:{username}:{password}",
            )
            call = await line.network.originate(request)
            result = await call.progress()
            if isinstance(result, Answered):
                await call.hangup()
            return result

        result = line.run(scenario())
        line.run(asyncio.sleep(0.5))  # SIPp writes its message log as it goes
    finally:
        # Closed before the next test's Runtime starts: baresip allows one at a time.
        line.close()
    invites = [m for m in carrier.messages() if m.direction == "R" and m.method == "INVITE"]
    return result, invites[-1].call_id


def of_call(carrier: SippCarrier, call_id: str) -> list[SippMessage]:
    return [m for m in carrier.messages() if m.call_id == call_id]


def test_right_credentials_are_answered_after_the_challenge(carrier: SippCarrier) -> None:
    result, call_id = call_160(carrier, USER, PASSWORD)

    assert isinstance(result, Answered)
    assert result.by is AnsweredBy.HUMAN, "past the challenge it is the person of 100"
    seen = [(m.direction, m.method or m.status) for m in of_call(carrier, call_id)]
    assert seen[:5] == [("R", "INVITE"), ("S", 401), ("R", "ACK"), ("R", "INVITE"), ("S", 180)]
    assert ("S", 200) in seen
    assert ("R", "BYE") in seen
    invites = [m.cseq for m in of_call(carrier, call_id) if m.method == "INVITE"]
    assert len(invites) == 2
    assert invites[0] != invites[1], "the retry is a new transaction"
    (authorization,) = [a for c, a in carrier.authorizations() if c == call_id]
    assert authorization.startswith("Digest ")
    assert f'username="{USER}"' in authorization
    assert 'realm="dialer.sipp.test"' in authorization


def test_a_wrong_password_is_forbidden(carrier: SippCarrier) -> None:
    result, call_id = call_160(carrier, USER, "wrong")

    assert isinstance(result, Failed)
    assert result.outcome is Outcome.UNKNOWN
    assert result.cause.startswith("403"), result.cause
    statuses = [m.status for m in of_call(carrier, call_id) if m.direction == "S"]
    assert statuses == [401, 403]
    (authorization,) = [a for c, a in carrier.authorizations() if c == call_id]
    assert f'username="{USER}"' in authorization


def test_no_credentials_fail_on_the_challenge(carrier: SippCarrier) -> None:
    result, call_id = call_160(carrier, None, None)

    assert isinstance(result, Failed)
    assert result.outcome is Outcome.UNKNOWN
    assert result.cause.startswith("401"), result.cause
    # baresip still answers the challenge, as its own user with an empty password; the carrier
    # challenges an unknown user again, and a second challenge of the same realm ends the call.
    statuses = [m.status for m in of_call(carrier, call_id) if m.direction == "S"]
    assert statuses == [401, 401]
    (authorization,) = [a for c, a in carrier.authorizations() if c == call_id]
    assert 'username="+441632960000"' in authorization


def test_the_carrier_saw_nothing_unexpected(carrier: SippCarrier) -> None:
    time.sleep(1.5)  # SIPp writes its statistics once a second
    assert carrier.stats().failed == 0, carrier.errors()
    assert carrier.errors() == ""

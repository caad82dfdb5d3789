"""Shared by the SMPP tests: a provider bound to the test SMSC on a virtual-time loop.

The loop's clock moves only when every task waits, so rates, receipt delays, enquire_link
intervals and back-offs are counted in virtual seconds and no test depends on the machine's
speed; the TCP traffic on 127.0.0.1 is real.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from dialer.domain.sms import DeliveryReport, InboundSms, OutboundSms, SmppSettings
from dialer.sim_clock import LoopTimer, VirtualTimeLoop
from dialer.telephony.smpp import SmppProvider
from dialer.testing.smpp_server import SmppTestServer

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "s3cret-pw"


@dataclass
class Reports:
    """An SmsReports that keeps what it is given, and the order of everything."""

    receipts: list[DeliveryReport] = field(default_factory=list)
    inbound_texts: list[InboundSms] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    async def delivery_report(self, report: DeliveryReport) -> None:
        self.receipts.append(report)
        self.events.append(f"receipt {report.provider_id}")

    async def inbound(self, message: InboundSms) -> None:
        self.inbound_texts.append(message)
        self.events.append(f"inbound {message.text}")


@dataclass
class Rig:
    timer: LoopTimer
    server: SmppTestServer
    provider: SmppProvider
    reports: Reports

    async def until(self, condition: Callable[[], bool], seconds: float = 120.0) -> None:
        """Let virtual time pass until `condition` holds (fails after `seconds` of it)."""
        deadline = self.timer.now() + timedelta(seconds=seconds)
        while not condition():
            assert self.timer.now() < deadline, "the condition never held"
            await self.timer.sleep_until(self.timer.now() + timedelta(seconds=0.01))

    async def idle(self, seconds: float) -> None:
        await self.timer.sleep_until(self.timer.now() + timedelta(seconds=seconds))


def settings(port: int, **changes: Any) -> SmppSettings:
    base = SmppSettings(
        host="127.0.0.1",
        port=port,
        system_id="dialer",
        password=PASSWORD,
        throughput=10.0,
        window=10,
        enquire_link_interval=30.0,
        response_timeout=5.0,
        reconnect_min=1.0,
        reconnect_max=8.0,
    )
    return replace(base, **changes)


def run(
    scenario: Callable[[Rig], Awaitable[None]],
    *,
    bind: bool = True,
    server_options: dict[str, Any] | None = None,
    server_password: str = PASSWORD,
    **setting_changes: Any,
) -> None:
    """Start the test SMSC and a provider bound to it, run `scenario`, close both."""
    timer = LoopTimer(VirtualTimeLoop(), START)

    async def main() -> None:
        server = SmppTestServer("dialer", server_password, clock=timer, **(server_options or {}))
        await server.start()
        provider = SmppProvider(settings(server.port, **setting_changes), timer)
        reports = Reports()
        try:
            await provider.start(reports)
            if bind:
                assert await provider.wait_bound()
            await scenario(Rig(timer, server, provider, reports))
        finally:
            await provider.close()
            await server.close()

    timer.run(main())


def sms(number: int, text: str, sender: str = "+442071838750") -> OutboundSms:
    return OutboundSms(f"msg-{number}", f"+4477009001{number:02d}", sender, text)

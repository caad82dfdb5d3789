"""The simulated SMS provider: accepts every text except to the test number that rejects,
publishes each as an SmsSent event (tests read them back by subscribing; it keeps none itself:
it runs in production too), and reports each accepted text delivered, as a carrier's receipt
would, a moment after its submit returns."""

import asyncio
import math

from dialer.domain.events import NullSink, SmsSent
from dialer.domain.sms import (
    DeliveryReport,
    DeliveryState,
    OutboundSms,
    SubmitResult,
    SubmitStatus,
)
from dialer.domain.sms_outbox import PREFIX_LENGTH
from dialer.ports import Clock, EventSink
from dialer.ports.sms import SmsReports
from dialer.telephony.sim_network import SMS_REJECTING_NUMBER

# One part of a GSM 03.38 text holds 160 characters; a concatenated one 153.
_SINGLE, _CONCATENATED = 160, 153


def sim_parts(text: str) -> int:
    return 1 if len(text) <= _SINGLE else math.ceil(len(text) / _CONCATENATED)


class SimulatedSmsGateway:
    """An SmsProvider on the simulated network: every text is taken (and published as an
    SmsSent event) except those to the test number that rejects."""

    name = "sim"

    def __init__(self, clock: Clock, events: EventSink | None = None) -> None:
        self.clock = clock  # any Clock; the engine's Timer is one
        self.events: EventSink = events or NullSink()
        self._count = 0
        self._reports: SmsReports | None = None
        self._pending: set[asyncio.Task[None]] = set()

    async def start(self, reports: SmsReports) -> None:
        self._reports = reports

    async def submit(self, message: OutboundSms) -> SubmitResult:
        self._count += 1
        reference = f"sim-sms-{self._count}"
        accepted = message.to != SMS_REJECTING_NUMBER
        to, now = message.to, self.clock.now()
        self.events.publish(SmsSent(to, message.sender, message.text, now, reference, accepted))
        if not accepted:
            return SubmitResult(SubmitStatus.FAILED, reason="rejected by the simulated network")
        parts = sim_parts(message.text)
        ids = tuple(f"{reference}.{n}" if parts > 1 else reference for n in range(parts))
        if self._reports is not None:
            # Scheduled, not awaited: like a carrier's, the receipt may come before the outbox
            # has stored the submit's answer.
            task = asyncio.create_task(self._deliver(self._reports, ids, message))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        return SubmitResult(SubmitStatus.ACCEPTED, ids, parts)

    async def _deliver(
        self, reports: SmsReports, ids: tuple[str, ...], message: OutboundSms
    ) -> None:
        for provider_id in ids:
            await reports.delivery_report(
                DeliveryReport(
                    provider_id,
                    DeliveryState.DELIVERED,
                    self.clock.now(),
                    recipient=message.to,
                    text_prefix=message.text[:PREFIX_LENGTH],
                )
            )

    async def settle(self) -> None:
        """Wait for the receipts already scheduled to be handed over."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def close(self) -> None:
        await self.settle()
        self._reports = None


class UnconfiguredSms:
    """The default provider of a process that dials real phones with no ``--sms``: every text
    of a tenant with no provider of its own fails, saying why (docs/sms.md)."""

    name = "none"
    REASON = (
        "no SMS provider: this server dials real phones and has no --sms default; set the"
        " tenant's provider (PUT /api/settings/sms)"
    )

    async def start(self, reports: SmsReports) -> None:
        return None

    async def submit(self, message: OutboundSms) -> SubmitResult:
        return SubmitResult(SubmitStatus.FAILED, reason=self.REASON)

    async def close(self) -> None:
        return None

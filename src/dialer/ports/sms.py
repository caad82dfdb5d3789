"""The port every SMS provider implements (simulated, SMPP 3.4, HTTP gateway)."""

from typing import Protocol

from dialer.domain.sms import DeliveryReport, InboundSms, OutboundSms, SubmitResult


class SmsReports(Protocol):
    """Where a provider hands what comes back from its side: receipts and inbound texts.
    May be called before the `submit` that a receipt is for has returned."""

    async def delivery_report(self, report: DeliveryReport) -> None: ...

    async def inbound(self, message: InboundSms) -> None: ...


class SmsProvider(Protocol):
    name: str  # "sim", "smpp", "http": shown in results and logs

    async def start(self, reports: SmsReports) -> None:
        """Connect (or get ready) and begin handing receipts and inbound texts to `reports`."""
        ...

    async def submit(self, message: OutboundSms) -> SubmitResult:
        """Send one text (split into parts as its encoding needs). Never raises for the
        provider's refusals or a lost connection: those are SubmitResult statuses."""
        ...

    async def close(self) -> None: ...

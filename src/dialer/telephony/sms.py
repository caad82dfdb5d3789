"""The simulated SMS gateway: keeps every message it is given, so tests can read them back."""

from dataclasses import dataclass
from datetime import datetime

from dialer.domain.call import SmsReceipt
from dialer.ports import Clock
from dialer.telephony.sim_network import SMS_REJECTING_NUMBER


@dataclass(frozen=True, slots=True)
class SentSms:
    to: str
    sender: str
    text: str
    sent_at: datetime
    reference: str
    accepted: bool


class SimulatedSmsGateway:
    """An SmsGateway that accepts every message except to the test number that rejects."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock  # any Clock; the engine's Timer is one
        self.sent: list[SentSms] = []

    async def send(self, to: str, sender: str, text: str) -> SmsReceipt:
        reference = f"sim-sms-{len(self.sent) + 1}"
        accepted = to != SMS_REJECTING_NUMBER
        self.sent.append(SentSms(to, sender, text, self.clock.now(), reference, accepted))
        return SmsReceipt(accepted=accepted, reference=reference)

"""The simulated SMS gateway: publishes every message it is given as an SmsSent event, so
tests read them back by subscribing (it keeps none itself: it runs in production too)."""

from dialer.domain.call import SmsReceipt
from dialer.domain.events import NullSink, SmsSent
from dialer.ports import Clock, EventSink
from dialer.telephony.sim_network import SMS_REJECTING_NUMBER


class SimulatedSmsGateway:
    """An SmsGateway that accepts every message except to the test number that rejects."""

    def __init__(self, clock: Clock, events: EventSink | None = None) -> None:
        self.clock = clock  # any Clock; the engine's Timer is one
        self.events: EventSink = events or NullSink()
        self._count = 0

    async def send(self, to: str, sender: str, text: str) -> SmsReceipt:
        self._count += 1
        reference = f"sim-sms-{self._count}"
        accepted = to != SMS_REJECTING_NUMBER
        self.events.publish(SmsSent(to, sender, text, self.clock.now(), reference, accepted))
        return SmsReceipt(accepted=accepted, reference=reference)

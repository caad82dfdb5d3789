"""Text messages as the domain sees them: what is sent, what a provider answers, what comes back.

Shared by the SMS outbox (which sends and records) and the providers (simulated, SMPP, HTTP),
which implement `dialer.ports.sms.SmsProvider`.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


@dataclass(frozen=True)
class OutboundSms:
    """One text to send. `message_id` is ours (the outbox row's), the same on every resend."""

    message_id: str
    to: str  # E.164 with the leading +
    sender: str  # the campaign's caller ID (digits) or a tenant's alphanumeric sender ID
    text: str


class SubmitStatus(Enum):
    ACCEPTED = "accepted"  # the provider took it: provider_ids hold one id per part
    RETRY = "retry"  # certainly not taken (throttled, no bind, refused for now): send again later
    FAILED = "failed"  # refused for good (bad number, bad sender ...): reason says why
    UNKNOWN = "unknown"  # written to the provider but no answer came (connection lost)


@dataclass(frozen=True)
class SubmitResult:
    status: SubmitStatus
    provider_ids: tuple[str, ...] = ()  # one per part, in part order
    parts: int = 1
    reason: str = ""  # the provider's own words or code, e.g. "ESME_RTHROTTLED (0x58)"
    retry_after: float | None = None  # seconds, when the provider said how long to wait


class DeliveryState(Enum):
    ENROUTE = "enroute"  # an intermediate receipt: not final
    DELIVERED = "delivered"
    EXPIRED = "expired"
    UNDELIVERABLE = "undeliverable"
    REJECTED = "rejected"
    DELETED = "deleted"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class DeliveryReport:
    """A provider's receipt for one part. `recipient` and `text_prefix` (the start of the text,
    as SMPP receipts carry it) are given when known: they let a receipt be matched to a message
    whose submit got no answer, and so has no provider id on our side."""

    provider_id: str
    state: DeliveryState
    at: datetime
    error: str = ""  # the provider's error code or reason, as given
    recipient: str | None = None  # E.164
    text_prefix: str | None = None


@dataclass(frozen=True)
class InboundSms:
    """A text a person sent us (an SMPP deliver_sm that is not a receipt, an HTTP callback)."""

    sender: str  # the person's number, E.164
    recipient: str  # our number or sender ID
    text: str
    at: datetime


class SmppBindMode(Enum):
    TRANSMITTER = "transmitter"
    TRANSCEIVER = "transceiver"


@dataclass(frozen=True)
class SmppSettings:
    """How to reach one SMPP 3.4 carrier (one bind). Secrets are never logged or shown again."""

    host: str
    port: int
    system_id: str
    password: str = field(repr=False)  # never in a log line that prints the settings
    system_type: str = ""
    bind_mode: SmppBindMode = SmppBindMode.TRANSCEIVER
    throughput: float = 10.0  # messages (parts) per second on this bind
    window: int = 10  # submit_sm sent before their responses come back
    enquire_link_interval: float = 30.0  # seconds
    response_timeout: float = 10.0  # seconds to wait for a PDU's response
    reconnect_min: float = 1.0  # back-off between reconnects, doubling up to reconnect_max
    reconnect_max: float = 60.0
    registered_delivery: bool = True  # ask for delivery receipts

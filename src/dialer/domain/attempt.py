"""One attempt to call one number: when it was queued, placed, answered and ended, and how."""

from dataclasses import dataclass
from datetime import datetime

from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import DestinationId


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    destination_id: DestinationId
    attempt_number: int
    outcome: Outcome
    stage: Stage
    queued_at: datetime
    originated_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    cause: str | None = None
    keys: str = ""
    sms_sent: bool = False

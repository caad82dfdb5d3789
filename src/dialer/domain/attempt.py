"""One attempt to call one number: when it was queued, placed, answered and ended, and how."""

from dataclasses import dataclass
from datetime import datetime

from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId, DestinationId


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


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """One row of a campaign's results: an attempt with the number it called."""

    attempt_id: int
    campaign_id: CampaignId
    number: str  # E.164 when the number was possible, else as it was sent
    name: str | None
    attempt_number: int
    outcome: Outcome
    stage: Stage
    queued_at: datetime
    originated_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    cause: str | None
    keys: str
    sms_sent: bool

"""Rules of single destinations as the Dialer API speaks of them: when, and in what state."""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import NamedTuple
from zoneinfo import ZoneInfo

MIN_PRIORITY = -(2**31)
MAX_PRIORITY = 2**31 - 1


class DestinationState(Enum):
    """pending -> in_flight -> done, or back to pending for a retry; cancelled when removed
    while waiting for a retry (never-dialled destinations are deleted instead)."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DONE = "done"
    CANCELLED = "cancelled"


class CallStatus(Enum):
    """The seed's CallStatus of GetCampaignPendingCalls."""

    PENDING = 1
    ORIGINATED = 2

    @property
    def description(self) -> str:
        return "Pending" if self is CallStatus.PENDING else "Originated"


def originate_instant(epoch: int, is_date_local: bool, timezone: str) -> datetime:
    """The UTC instant an OriginateTime means.

    With ``IsDateLocal`` the epoch encodes a wall-clock time in the tenant's zone (read the epoch
    as if UTC, then place that clock time in the zone); otherwise it is a plain UTC epoch. A clock
    time that a DST change skips or repeats takes its first reading (fold=0).
    """
    moment = datetime.fromtimestamp(epoch, UTC)
    if not is_date_local:
        return moment
    wall = moment.replace(tzinfo=None)
    return wall.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class CampaignCounts:
    """What GetCampaignList and friends report about a campaign's waiting destinations."""

    pending: int = 0
    originated: int = 0
    awaiting: int = 0  # pending and due now: not held back by a future OriginateTime
    max_priority: int | None = None
    min_priority: int | None = None


class WaitingCall(NamedTuple):
    id: int
    raw: str
    e164: str | None
    name: str | None
    caller_id: str | None
    priority: int
    custom_data: str | None
    originate_time: int | None
    is_date_local: bool | None
    status: CallStatus


@dataclass(frozen=True, slots=True)
class DestinationPatch:
    """UpdateCall: the fields that were sent, and only those, replace the stored ones."""

    fields: dict[str, object]

"""A campaign's lifecycle state (docs/rest-api.md, "Campaign lifecycle"): derived from its
schedule, its numbers' counts and the clock, except what a user did (paused, cancelled), which
is stored.

Paused is the stored status Disabled (the Dialer API's StopCampaign, a PUT with status
Disabled, or POST .../pause all set it); cancelled is a stored instant, and a cancelled campaign
is Disabled too, so an engine claims nothing of either without knowing about states. In order of
precedence:

- Cancelled: a user cancelled it (final);
- Finished: it has numbers and every one is final (done or cancelled);
- Expired: its last window has closed and it did not finish (numbers were left, which the
  engine ends OutOfTime at the close, or it never had any);
- Paused: Disabled by a user;
- Scheduled: its first window has not opened yet;
- Running: otherwise (within its windows or between two of them).
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from dialer.domain.calendar import intervals
from dialer.domain.errors import Conflict
from dialer.domain.schedule import Schedule


class CampaignState(StrEnum):
    SCHEDULED = "Scheduled"
    RUNNING = "Running"
    PAUSED = "Paused"
    FINISHED = "Finished"
    EXPIRED = "Expired"
    CANCELLED = "Cancelled"


FINAL_STATES = frozenset({CampaignState.FINISHED, CampaignState.EXPIRED, CampaignState.CANCELLED})


@dataclass(frozen=True, slots=True)
class StateFacts:
    """What a campaign's state is derived from."""

    enabled: bool
    cancelled: bool
    total: int  # every number, cancelled ones included
    left: int  # pending or in flight
    out_of_time: int  # done with Outcome OutOfTime


def campaign_state(
    facts: StateFacts, schedule: Schedule, timezone: str, now: datetime
) -> CampaignState:
    if now.tzinfo is None:
        raise ValueError("campaign_state needs a timezone-aware time")
    if facts.cancelled:
        return CampaignState.CANCELLED
    windows = intervals(schedule, timezone)
    over = not windows or now >= windows[-1].finish
    if facts.total > 0 and facts.left == 0:
        return CampaignState.EXPIRED if facts.out_of_time else CampaignState.FINISHED
    if over:
        return CampaignState.EXPIRED
    if not facts.enabled:
        return CampaignState.PAUSED
    if windows and now < windows[0].start:
        return CampaignState.SCHEDULED
    return CampaignState.RUNNING


class Transition(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"


def check_transition(state: CampaignState, action: Transition) -> bool:
    """Whether ``action`` changes anything from ``state``: False when it is already so (an
    idempotent repeat); Conflict when it is illegal."""
    if state is CampaignState.CANCELLED:
        if action is Transition.CANCEL:
            return False
        raise Conflict(f"the campaign was cancelled; it cannot be {_done[action]}")
    if state in FINAL_STATES:
        raise Conflict(
            f"the campaign is {state.value.lower()}: nothing is left to {action.value}"
            " (add numbers or later dates with PUT to dial it again)"
        )
    if action is Transition.PAUSE:
        return state is not CampaignState.PAUSED
    if action is Transition.RESUME:
        return state is CampaignState.PAUSED
    return True


_done = {
    Transition.PAUSE: "paused",
    Transition.RESUME: "resumed",
    Transition.CANCEL: "cancelled",
}

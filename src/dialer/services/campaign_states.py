"""Campaigns' lifecycle states as a store session reads them (domain/lifecycle.py): from the
counters and the stored cancellations, in one batch for any number of campaigns."""

from collections.abc import Sequence
from datetime import datetime

from dialer.domain.campaign import Campaign, CampaignStatus
from dialer.domain.codes import Outcome
from dialer.domain.errors import Conflict
from dialer.domain.ids import CampaignId
from dialer.domain.lifecycle import CampaignState, StateFacts, campaign_state
from dialer.domain.progress import CampaignProgress
from dialer.ports.store import LifecycleRepo


def state_of(
    campaign: Campaign, progress: CampaignProgress, cancelled: bool, timezone: str, now: datetime
) -> CampaignState:
    p = progress
    facts = StateFacts(
        enabled=campaign.status is CampaignStatus.ENABLED,
        cancelled=cancelled,
        total=p.pending + p.in_flight + p.done + p.cancelled,
        left=p.pending + p.in_flight,
        out_of_time=p.outcomes.get(Outcome.OUT_OF_TIME, 0),
    )
    return campaign_state(facts, campaign.spec.schedule, timezone, now)


def states_of(
    lifecycle: LifecycleRepo, campaigns: Sequence[Campaign], timezone: str, now: datetime
) -> dict[CampaignId, CampaignState]:
    ids = [c.id for c in campaigns]
    progress = lifecycle.progress_of(ids)
    cancelled = lifecycle.cancelled_at(ids)
    return {c.id: state_of(c, progress[c.id], c.id in cancelled, timezone, now) for c in campaigns}


def refuse_if_cancelled(lifecycle: LifecycleRepo, campaign_id: CampaignId, what: str) -> None:
    """A Conflict for starting a cancelled campaign again: cancelling is final."""
    if lifecycle.cancelled_at([campaign_id]):
        raise Conflict(f"the campaign was cancelled; it cannot be {what}")

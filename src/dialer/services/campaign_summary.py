"""Campaign summaries (docs/rest-api.md, "Summaries"): each campaign's state, counts, rates and
estimated time to finish, without its numbers, read in batches from the counters (migration
0006) and the attempts' end-time index (migration 0016): the same cost for ten numbers or a
million. Also the lifecycle's user acts: pause, resume, cancel (domain/lifecycle.py)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dialer.domain.attempt import SETTLED_WITHOUT_CALL
from dialer.domain.campaign import Campaign, CampaignStatus
from dialer.domain.codes import Outcome
from dialer.domain.errors import NotFound, ValidationFailed
from dialer.domain.ids import CampaignId
from dialer.domain.lifecycle import CampaignState, Transition
from dialer.domain.lifecycle import check_transition as checked
from dialer.domain.progress import CampaignProgress
from dialer.domain.tenant import Tenant
from dialer.ports import Clock, Store, StoreSession
from dialer.services.abandonment_view import AbandonmentView, abandonment_json, abandonment_view
from dialer.services.campaign_states import state_of
from dialer.services.campaigns import refuse_without_message
from dialer.services.results import iso_utc

# The estimate of the time to finish divides what is left by the pace of this recent span.
PACE_SPAN = timedelta(minutes=15)
MAX_QUERY = 200  # characters of the q= filter


@dataclass(frozen=True, slots=True)
class Summary:
    campaign: Campaign
    state: CampaignState
    progress: CampaignProgress
    abandonment: AbandonmentView | None
    # Attempts that ended in the last PACE_SPAN (the pace of the estimate).
    recent_attempts: int
    at: datetime  # when it was read


def summaries_of(
    session: StoreSession, campaigns: Sequence[Campaign], timezone: str, now: datetime
) -> list[Summary]:
    """Each campaign's summary, in a few batched queries whatever their sizes."""
    ids = [c.id for c in campaigns]
    progress = session.lifecycle.progress_of(ids)
    cancelled = session.lifecycle.cancelled_at(ids)
    recent = session.lifecycle.attempts_since(ids, now - PACE_SPAN)
    return [
        Summary(
            campaign,
            state_of(campaign, progress[campaign.id], campaign.id in cancelled, timezone, now),
            progress[campaign.id],
            abandonment_view(session, campaign, now),
            recent.get(campaign.id, 0),
            now,
        )
        for campaign in campaigns
    ]


def parse_state(raw: str | None) -> CampaignState | None:
    if raw is None or raw == "":
        return None
    for state in CampaignState:
        if state.value.lower() == raw.strip().lower():
            return state
    names = ", ".join(s.value for s in CampaignState)
    raise ValidationFailed({"query.state": [f"One of {names}."]})


def _matches(campaign: Campaign, q: str) -> bool:
    """q matches the name (case-insensitive, anywhere in it) or is the campaign's id."""
    name = campaign.spec.name or ""
    return q.casefold() in name.casefold() or q == str(campaign.id)


class SummaryService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def summaries(
        self, tenant: Tenant, state: CampaignState | None = None, q: str | None = None
    ) -> list[Summary]:
        if q is not None and len(q) > MAX_QUERY:
            raise ValidationFailed({"query.q": [f"At most {MAX_QUERY} characters."]})
        now = self._clock.now()
        with self._store.read() as session:
            campaigns = [
                s.campaign
                for s in session.campaigns.list_campaigns(tenant.id, count_numbers=False)
                if not q or _matches(s.campaign, q.strip())
            ]
            found = summaries_of(session, campaigns, tenant.timezone, now)
        return [s for s in found if state is None or s.state is state]

    def summary(self, tenant: Tenant, campaign_id: CampaignId) -> Summary:
        now = self._clock.now()
        with self._store.read() as session:
            campaign = session.campaigns.get_campaign(tenant.id, campaign_id)
            if campaign is None:
                raise NotFound(f"campaign {campaign_id}")
            return summaries_of(session, [campaign], tenant.timezone, now)[0]

    def act(self, tenant: Tenant, campaign_id: CampaignId, action: Transition) -> Summary:
        """Pause, resume or cancel; a repeat of what is already so changes nothing."""
        now = self._clock.now()
        with self._store.write() as session:
            campaign = session.campaigns.get_campaign(tenant.id, campaign_id, for_update=True)
            if campaign is None:
                raise NotFound(f"campaign {campaign_id}")
            current = summaries_of(session, [campaign], tenant.timezone, now)[0]
            if checked(current.state, action):
                if action is Transition.PAUSE:
                    session.campaigns.set_campaign_status(campaign_id, CampaignStatus.DISABLED, now)
                elif action is Transition.RESUME:
                    refuse_without_message(session, tenant, campaign.spec, CampaignStatus.ENABLED)
                    session.campaigns.set_campaign_status(campaign_id, CampaignStatus.ENABLED, now)
                else:
                    session.lifecycle.cancel_campaign(campaign_id, now)
            after = session.campaigns.get_campaign(tenant.id, campaign_id)
            assert after is not None
            return summaries_of(session, [after], tenant.timezone, now)[0]


def _percent(part: int, whole: int) -> float | None:
    return None if whole <= 0 else round(100 * part / whole, 3)


def estimated_seconds(summary: Summary) -> int | None:
    """What is left over the recent pace: left numbers x (PACE_SPAN / attempts that ended in
    it). A lower bound (a number may need more attempts than one, and windows close at night);
    None when the campaign is not Running or made no attempt in the span."""
    p = summary.progress
    left = p.pending + p.in_flight
    if summary.state is not CampaignState.RUNNING or not summary.recent_attempts:
        return None
    return round(left * PACE_SPAN.total_seconds() / summary.recent_attempts)


def _floor_json(view: AbandonmentView | None) -> dict[str, Any]:
    """What the pacer's latest saved decision saw; null for ivr campaigns and until the engine
    saved one with its counts (the time says how fresh they are: a paused or finished campaign
    keeps its last)."""
    pacing = None if view is None else view.pacing
    if pacing is None or pacing.agents_ready is None:
        return dict.fromkeys(("agentsReady", "callsRinging", "waitingForAgent", "floorSeenAt"))
    return {
        "agentsReady": pacing.agents_ready,
        "callsRinging": pacing.ringing,
        "waitingForAgent": pacing.waiting,
        "floorSeenAt": iso_utc(pacing.at),
    }


def summary_json(summary: Summary) -> dict[str, Any]:
    campaign, p = summary.campaign, summary.progress
    dialled = sum(n for o, n in p.outcomes.items() if o not in SETTLED_WITHOUT_CALL)
    answered = p.outcomes.get(Outcome.ANSWERED, 0)
    view = summary.abandonment
    seconds = estimated_seconds(summary)
    abandonment = None if view is None else abandonment_json(view)
    return {
        "id": campaign.id,
        "name": campaign.spec.name,
        "type": campaign.spec.kind.value,
        "state": summary.state.value,
        "status": campaign.status.value.capitalize(),
        "total": p.pending + p.in_flight + p.done + p.cancelled,
        "done": p.done,
        "pending": p.pending,
        "claimed": p.in_flight,
        "inFlight": min(p.on_line, p.in_flight),
        "cancelled": p.cancelled,
        "answered": answered,
        "answerRate": _percent(answered, dialled),
        "abandoned": None if view is None else view.tally.abandoned,
        "abandonedRate": None if abandonment is None else abandonment["rate"],
        "abandonedLimit": None if abandonment is None else abandonment["limit"],
        "abandonedWindow": None if abandonment is None else abandonment["window"],
        "estimatedSecondsToFinish": seconds,
        "estimatedFinishAt": (
            None if seconds is None else iso_utc(summary.at + timedelta(seconds=seconds))
        ),
        **_floor_json(view),
        "outcomes": {o.api_name: p.outcomes.get(o, 0) for o in Outcome},
        "updatedAt": iso_utc(campaign.updated_at),
    }

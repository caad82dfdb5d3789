"""What a tenant sees of its agents: the supervisor view (each agent's state now, the call in
hand, the campaigns it takes calls for) and the day report (time per state per agent for one
day in the tenant's time zone, from the stored state changes)."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from dialer.domain.agent import Agent
from dialer.domain.agent_session import AgentSession, AgentState
from dialer.domain.agent_time import time_in_states
from dialer.domain.campaign import CampaignType
from dialer.domain.errors import NotFound, ValidationFailed
from dialer.domain.ids import CampaignId
from dialer.domain.tenant import Tenant
from dialer.ports import Clock
from dialer.ports.store import AgentDeskSession, CampaignRepo, UnitOfWork

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# One read of a day's changes; a day is read page by page.
_PAGE = 1000


class SupervisionSession(AgentDeskSession, Protocol):
    @property
    def campaigns(self) -> CampaignRepo: ...


@dataclass(frozen=True, slots=True)
class AgentOverview:
    """One agent in the supervisor view: its open session (else its last one, offline; None
    if it never logged in) and the agent campaigns it is a member of."""

    agent: Agent
    session: AgentSession | None
    campaigns: tuple[CampaignId, ...]
    campaign_name: str | None = None  # of the call on the session


@dataclass(frozen=True, slots=True)
class DayReport:
    day: date
    timezone: str
    start: datetime
    end: datetime  # the day's end, or now for today
    agents: list[tuple[Agent, dict[AgentState, timedelta]]]


class AgentSupervision:
    def __init__(self, store: UnitOfWork[SupervisionSession], clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def overview(
        self, tenant: Tenant, campaign_id: int | None = None
    ) -> tuple[datetime, list[AgentOverview]]:
        """Every agent of the tenant (or of one campaign), with the time the view was taken."""
        with self._store.read() as session:
            now = self._clock.now()
            if campaign_id is not None:
                found = session.campaigns.get_campaign(tenant.id, CampaignId(campaign_id))
                if found is None:
                    raise NotFound(f"campaign {campaign_id}")
            memberships: dict[int, list[CampaignId]] = {}
            names: dict[CampaignId, str | None] = {}
            for summary in session.campaigns.list_campaigns(tenant.id, count_numbers=False):
                campaign = summary.campaign
                names[campaign.id] = campaign.spec.name
                if campaign.spec.kind is not CampaignType.AGENT:
                    continue
                for member in session.agents.campaign_members(campaign.id):
                    memberships.setdefault(member.id, []).append(campaign.id)
            sessions: dict[int, AgentSession] = {}
            for agent_session in session.agent_sessions.tenant_sessions(tenant.id):
                known = sessions.get(agent_session.agent_id)
                if known is None or _newer(agent_session, known):
                    sessions[agent_session.agent_id] = agent_session
            agents = session.agents.list_agents(tenant.id)
        rows = []
        for agent in agents:
            held = sessions.get(agent.id)
            call = held.customer if held is not None else None
            rows.append(
                AgentOverview(
                    agent,
                    held,
                    tuple(sorted(memberships.get(agent.id, []))),
                    None if call is None else names.get(call.campaign_id),
                )
            )
        if campaign_id is not None:
            rows = [row for row in rows if campaign_id in row.campaigns]
        return now, rows

    def day_report(self, tenant: Tenant, day: str | None) -> DayReport:
        """Time in each state per agent over ``day`` (YYYY-MM-DD, the tenant's today if None)
        in the tenant's zone: midnight to midnight, 23 or 25 hours on a clock change, and up
        to now for today. Offline time is not counted."""
        zone = ZoneInfo(tenant.timezone)
        now = self._clock.now()
        wanted = now.astimezone(zone).date() if day is None else parse_day(day)
        start = datetime.combine(wanted, time(0), zone).astimezone(UTC)
        end = datetime.combine(wanted + timedelta(days=1), time(0), zone).astimezone(UTC)
        end = max(start, min(end, now))
        with self._store.read() as session:
            repo = session.agent_sessions
            changes = list(repo.last_changes_before(tenant.id, start))
            after = 0
            while True:
                page = repo.state_changes(
                    tenant.id, after_id=after, since=start, until=end, limit=_PAGE
                )
                changes.extend(page)
                if len(page) < _PAGE:
                    break
                after = page[-1].id or 0
            agents = session.agents.list_agents(tenant.id)
        spans = time_in_states(changes, start, end)
        return DayReport(
            wanted, tenant.timezone, start, end, [(a, spans.get(a.id, {})) for a in agents]
        )


def _newer(one: AgentSession, other: AgentSession) -> bool:
    if one.open != other.open:
        return one.open
    return (one.started_at, one.id) > (other.started_at, other.id)


def parse_day(raw: str) -> date:
    if not _DAY.match(raw):
        raise ValidationFailed({"day": ["A day as YYYY-MM-DD."]})
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationFailed({"day": [f"Not a real day: {exc}."]}) from exc


def parse_campaign_id(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= 2**63 - 1:
        raise ValidationFailed({"campaignId": ["A campaign id: a positive whole number."]})
    return int(raw)

"""Pacing: how many of a campaign's destinations to claim now, and when to look again.

The dispatcher asks its ``PacingPolicy`` once per campaign per pass and claims what the answer
allows. The answer is a ``ClaimRequest`` (at most N lines, under these limits, at this rate) so
that a claim which enforces the limits itself, across engines, can be told them as they are.
Today's policy, ``CapsAndRate``, fills free lines up to the caps as fast as the rate allows;
``Progressive`` holds an agent campaign further to one call per ready agent. A predictive pacer
(lines per free agent from the answer rate) replaces ``Progressive`` as one object.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dialer.domain.campaign import Campaign, CampaignType
from dialer.domain.ids import CampaignId

# Claim in quanta of 50 ms worth of the rate: one claim per token would cost a store round
# trip per call, and a virtual clock would jump a token at a time.
PACING_QUANTUM = 0.05  # seconds


class RateLimit(Protocol):
    """A calls-per-second limit with its tokens (dialer.engine.pacer.TokenBucket)."""

    @property
    def rate(self) -> float: ...

    def available(self, now: datetime) -> int: ...

    def next_token_at(self, now: datetime, count: int = 1) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Load:
    """What the dispatcher knows of one campaign as it is about to claim for it."""

    campaign: Campaign
    on_line: int  # the campaign's calls on the line, of this engine
    free_lines: int  # the engine's own capacity left (--max-calls less its calls)
    # Every rate this engine applies itself (its own, the campaign's); none: the claim paces.
    limits: Sequence[RateLimit]
    now: datetime
    # Agent campaigns: the ready agents of this campaign whose phone legs this engine holds
    # (None: an IVR campaign), and the campaign's calls here that have no agent yet (ringing,
    # detecting, or waiting for an agent).
    ready_agents: int | None = None
    without_agent: int = 0
    # The engine's ready agents no agent campaign has yet spoken for in this pass (None: no
    # shared budget). An agent who is a member of several campaigns counts in each one's
    # ``ready_agents`` but only once here, so two campaigns never dial for the same agent.
    agents_left: int | None = None


@dataclass(frozen=True, slots=True)
class ClaimRequest:
    """Claim at most ``lines`` now. ``max_in_flight`` and ``rate`` are the limits the answer
    was computed under, for a claim that enforces them itself. ``look_again``: when the rate
    allows more, if the rate is what holds the claim back (None: a line freed by a call's end,
    or new work, is what changes the answer)."""

    lines: int
    max_in_flight: int
    rate: float
    look_again: datetime | None = None


class PacingPolicy(Protocol):
    def request(self, load: Load) -> ClaimRequest: ...


def campaign_max_in_flight(campaign: Campaign, default: int) -> int:
    """The Dialer API strategy's MaximumCallers, when set, overrides the engine's default for
    an IVR campaign. The seed defines it as the most calls waiting in the monitored queue: an
    IVR campaign's calls reach that queue only from the line, so the calls on the line bound
    them. An agent campaign's callers wait in its own queue, which the agent calls cap at
    MaximumCallers (engine/agent_calls.py); capping its lines too would hold a team of ten to
    one line with the seed's own example (MaximumCallers 1)."""
    if campaign.spec.kind is CampaignType.AGENT:
        return default
    if campaign.strategy is not None and campaign.strategy.max_callers:
        return campaign.strategy.max_callers
    return default


class CapsAndRate:
    """Fill free lines up to the caps (the engine's, the campaign's MaximumCallers or
    --campaign-max-calls), as fast as the rates allow, at most ``claim_batch`` at a time."""

    def __init__(self, claim_batch: int, campaign_max_in_flight: int) -> None:
        self._batch = claim_batch
        self._campaign_max = campaign_max_in_flight

    def max_in_flight(self, campaign: Campaign) -> int:
        return campaign_max_in_flight(campaign, self._campaign_max)

    def request(self, load: Load) -> ClaimRequest:
        limit = self.max_in_flight(load.campaign)
        lines = max(0, min(self._batch, load.free_lines, limit - load.on_line))
        if not load.limits:
            # No rate here: a claim that enforces the rates itself (across engines) paces.
            return ClaimRequest(lines, limit, math.inf)
        rate = min(r.rate for r in load.limits)
        if lines == 0:
            return ClaimRequest(0, limit, rate)
        quantum = min(lines, max(1, int(rate * PACING_QUANTUM)))
        tokens = min(r.available(load.now) for r in load.limits)
        if tokens < quantum:
            later = max(r.next_token_at(load.now, quantum) for r in load.limits)
            return ClaimRequest(0, limit, rate, later)
        return ClaimRequest(min(lines, tokens), limit, rate)


class Progressive:
    """Agent campaigns: one call per ready agent of this engine, less the campaign's calls here
    that have no agent yet, and never more than ``caps`` allows nor what is left of the
    engine's ready agents shared by its agent campaigns (``agents_left``); IVR campaigns (no
    ``ready_agents``) get what ``caps`` says. With no agent to spare it asks for nothing and
    no time to look again: an agent becoming ready wakes the dispatcher."""

    def __init__(self, caps: PacingPolicy) -> None:
        self._caps = caps

    def request(self, load: Load) -> ClaimRequest:
        allowed = self._caps.request(load)
        if load.ready_agents is None:
            return allowed
        spare = max(0, load.ready_agents - load.without_agent)
        if load.agents_left is not None:
            spare = min(spare, max(0, load.agents_left))
        if spare >= allowed.lines:
            return allowed
        return ClaimRequest(spare, allowed.max_in_flight, allowed.rate)


def agents_to_share(ready_sessions: int, without_agent: int) -> int:
    """The budget of one dispatcher pass for all the engine's agent campaigns: its distinct
    ready agents, less every agent campaign's calls here that have no agent yet (each will
    take one of them). Each campaign's claim is taken from it in ``agent_turns`` order."""
    return max(0, ready_sessions - without_agent)


def agent_turns(
    campaigns: Iterable[CampaignId], last_given: Mapping[CampaignId, int]
) -> list[CampaignId]:
    """The order agent campaigns draw on the shared ready agents: the one given a call the
    longest ago (or never) first, then by id. Turn about, so a campaign with a long list
    never starves another sharing its agents (issue 13 refines this)."""
    return sorted(campaigns, key=lambda c: (last_given.get(c, -1), c))

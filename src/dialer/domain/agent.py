"""Agents (members of agent-dialer campaigns), queues, and an agent campaign's dialling strategy."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from dialer.domain.abandonment import InfoMessage
from dialer.domain.ids import TenantId


@dataclass(frozen=True, slots=True)
class Agent:
    id: int
    tenant_id: TenantId
    member: str  # the SIP extension code the Dialer API names agents by
    display_name: str
    created_at: datetime
    # The phone the tenant assigned (E.164, SIP URI or sim:); None: the agent may log in with
    # a SIP URI or sim: phone of their own, and never with a number (docs/agents-desk.md).
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Queue:
    id: int
    tenant_id: TenantId
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Strategy:
    """UpdateCampaignStrategy: queue to watch, its most waiting callers, rate coefficient."""

    queue_id: int
    max_callers: int
    coefficient: int


class PacingMode(StrEnum):
    """How many lines an agent campaign dials (docs/pacing.md)."""

    PROGRESSIVE = "progressive"  # one line per ready agent: cannot abandon
    RATIO = "ratio"  # ``ratio`` lines per ready agent, under the abandoned-call governor
    PREDICTIVE = "predictive"  # the model's lines, under the governor (the default)


@dataclass(frozen=True, slots=True)
class Pacing:
    mode: PacingMode = PacingMode.PREDICTIVE
    ratio: float | None = None  # RATIO: lines per ready agent (the strategy's coefficient)
    # The campaign's own abandoned-call target (fraction); None: the tenant's.
    target: float | None = None


@dataclass(frozen=True, slots=True)
class AgentOptions:
    """How an agent campaign hands answered calls to agents (docs/agents.md)."""

    # After each call; None: until the agent says ready.
    wrap_up: timedelta | None = timedelta(seconds=15)
    # How long an answered customer may wait for an agent (VICIdial's drop interval).
    max_wait: timedelta = timedelta(seconds=5)
    # Bridge at the answer, with no answering-machine detection: the agent hears the greeting.
    bridge_on_answer: bool = False
    pacing: Pacing = Pacing()
    # What this campaign's abandoned calls hear instead of the tenant's message (a tenant
    # dialling for several companies names each); None: the tenant's.
    message: InfoMessage | None = None


def strategy_problems(max_callers: int, coefficient: int) -> list[str]:
    problems = []
    if max_callers <= 0:
        problems.append("setQueueMaximumCallers must be greater than 0")
    if coefficient <= 1:
        problems.append("setCoefficient must be greater than 1")
    return problems

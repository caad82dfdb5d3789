"""Agents (members of agent-dialer campaigns), queues, and an agent campaign's dialling strategy."""

from dataclasses import dataclass
from datetime import datetime

from dialer.domain.ids import TenantId


@dataclass(frozen=True, slots=True)
class Agent:
    id: int
    tenant_id: TenantId
    member: str  # the SIP extension code the Dialer API names agents by
    display_name: str
    created_at: datetime


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


def strategy_problems(max_callers: int, coefficient: int) -> list[str]:
    problems = []
    if max_callers <= 0:
        problems.append("setQueueMaximumCallers must be greater than 0")
    if coefficient <= 1:
        problems.append("setCoefficient must be greater than 1")
    return problems

"""This engine's customers waiting for an agent: one first-in, first-out line per campaign.

Only the head of a line asks for an agent; an agent becoming ready on this engine wakes every
line's head, and a head that leaves (served, gone, or out of time) wakes the next, so a
customer who waits is given the next agent of the campaign before anyone behind them.
"""

import asyncio
from collections import Counter, deque
from dataclasses import dataclass, field

from dialer.domain.ids import CampaignId


@dataclass(eq=False)
class Waiter:
    campaign_id: CampaignId
    # Set when this waiter should ask for an agent: it reached the head, or an agent is ready.
    turn: asyncio.Event = field(default_factory=asyncio.Event)


class CustomerQueues:
    def __init__(self) -> None:
        self._lines: dict[CampaignId, deque[Waiter]] = {}

    def waiting(self, campaign_id: CampaignId) -> int:
        line = self._lines.get(campaign_id)
        return len(line) if line else 0

    def join(self, campaign_id: CampaignId) -> Waiter:
        waiter = Waiter(campaign_id)
        line = self._lines.setdefault(campaign_id, deque())
        line.append(waiter)
        if len(line) == 1:
            waiter.turn.set()
        return waiter

    def first(self, waiter: Waiter) -> bool:
        line = self._lines.get(waiter.campaign_id)
        return line is not None and bool(line) and line[0] is waiter

    def leave(self, waiter: Waiter) -> None:
        line = self._lines.get(waiter.campaign_id)
        if not line or waiter not in line:
            return
        was_first = line[0] is waiter
        line.remove(waiter)
        if not line:
            del self._lines[waiter.campaign_id]
        elif was_first:
            line[0].turn.set()  # another agent may be ready already

    def agent_ready(self) -> None:
        """An agent became ready on this engine: each campaign's first customer asks."""
        for line in self._lines.values():
            line[0].turn.set()


class Unserved:
    """One agent campaign's call counted among its campaign's calls here with no agent yet
    (what progressive pacing subtracts from the ready agents) until an agent takes it."""

    def __init__(self, counts: Counter[CampaignId], campaign_id: CampaignId) -> None:
        self._counts = counts
        self._campaign = campaign_id
        self._on = False
        self.again()

    def again(self) -> None:
        if not self._on:
            self._on = True
            self._counts[self._campaign] += 1

    def served(self) -> None:
        if self._on:
            self._on = False
            self._counts[self._campaign] -= 1
            if self._counts[self._campaign] <= 0:
                del self._counts[self._campaign]

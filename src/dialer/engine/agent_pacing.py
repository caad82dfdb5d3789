"""The pacer at run time (docs/agents-engine.md, Pacing at run time): each open agent
campaign's lines, as ``Pacer.decide`` says from what this engine sees of it
(engine/pacing_book.py), under the caps and rates; its tally read from the store; its
decisions published, and saved at most every 5 s.
"""

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, timedelta

from dialer.domain.abandonment import Tally
from dialer.domain.campaign import CampaignType, DialingContext
from dialer.domain.events import PacingDecided
from dialer.domain.ids import CampaignId
from dialer.domain.pacing import ClaimRequest, Load
from dialer.domain.predictive import Decision, Pacer
from dialer.engine.abandoned import MESSAGE_LEAD
from dialer.engine.pacing_book import PacingBook
from dialer.engine.state import EngineState
from dialer.ports import EventSink
from dialer.ports.store import EngineSession, UnitOfWork

log = logging.getLogger(__name__)

# While an agent campaign has calls ringing or agents busy, its pacer looks again this often.
REPASS = timedelta(seconds=0.5)


class AgentPacing:
    def __init__(
        self,
        store: UnitOfWork[EngineSession],
        events: EventSink,
        book: PacingBook,
        state: EngineState,
    ) -> None:
        self._store = store
        self._events = events
        self._state = state
        self.book = book
        self.pacer = Pacer()
        # Each with what it saw: agents ready, calls ringing, answered calls waiting.
        self._decisions: list[tuple[CampaignId, Decision, datetime, tuple[int, int, int]]] = []

    def request(self, context: DialingContext, load: Load, allowed: ClaimRequest) -> ClaimRequest:
        """An agent campaign's lines: the pacer's decision (its governor keeps the abandoned
        calls within the campaign's budget), under ``allowed`` (the caps and rates) and the
        engine's ready agents shared by its agent campaigns. While the campaign has calls
        ringing or agents busy, look again within ``REPASS``: who will be free, and which calls
        a person will answer, change with every second."""
        campaign, now = context.campaign, load.now
        pacing = campaign.spec.agent_options.pacing
        rules = context.rules
        if rules.enforced:
            # The model's grace for an agent to free is what the engine gives: it plays the
            # message MESSAGE_LEAD before the 2 s are up.
            rules = replace(rules, connect_within=rules.connect_within - MESSAGE_LEAD)
        without = load.without_agent
        ready = load.ready_agents or 0
        if load.agents_left is not None:
            # Agents an earlier campaign of this pass has spoken for are not this one's.
            ready = min(ready, max(0, load.agents_left) + without)
        book = self.book
        mine = book.of(campaign.id)
        # A wrap-up with a time limit ends at a known moment: its agents are told apart.
        wrap_known = campaign.spec.agent_options.wrap_up is not None
        floor = book.floor(campaign.id, now, ready, without - len(mine.ringing), wrap_known)
        tally = book.tally(campaign.id)
        decision = self.pacer.decide(pacing, floor, mine.stats, tally, rules)
        mine.last = decision
        self._events.publish(
            PacingDecided(
                campaign.id,
                decision.lines,
                decision.ratio,
                decision.reason,
                tally.rate(rules),
                rules.target,
                now,
            )
        )
        if book.save_due(campaign.id, now):
            mine.saved_at = now
            seen = (floor.ready, len(floor.ringing), floor.waiting)
            self._decisions.append((campaign.id, decision, now, seen))
        look_again = allowed.look_again
        if book.moving(campaign.id):
            soon = now + REPASS
            look_again = soon if look_again is None else min(look_again, soon)
        lines = max(0, min(decision.lines, allowed.lines))
        return ClaimRequest(lines, allowed.max_in_flight, allowed.rate, look_again)

    async def load_tallies(self, contexts: list[DialingContext], now: datetime) -> None:
        """The store's tally of each agent campaign in its rules' window: at its first pass
        here, and after every housekeeping (other engines' calls reach this one so)."""
        book = self.book
        due = [
            c
            for c in contexts
            if c.campaign.spec.kind is CampaignType.AGENT
            and (book.reload or book.of(c.campaign.id).stored is None)
        ]
        if not due:
            return
        book.reload = False

        def read() -> dict[CampaignId, Tally]:
            with self._store.read() as session:
                return {
                    c.campaign.id: session.abandonment.tally(c.campaign.id, now - c.rules.window)
                    for c in due
                }

        tallies = await asyncio.to_thread(read)
        # Read after the store answered: what ended meanwhile is in ``finished`` too.
        for campaign_id, stored in tallies.items():
            book.loaded(campaign_id, stored, self._state.finished)

    async def save(self) -> None:
        """The latest decisions, for GET campaign and the Dialer API (at most every 5 s per
        campaign); a failed write loses nothing the next one does not carry."""
        if not self._decisions:
            return
        decisions, self._decisions = self._decisions, []

        def write() -> None:
            with self._store.write() as session:
                for campaign_id, decision, at, seen in decisions:
                    session.abandonment.save_pacing(
                        campaign_id, decision.ratio, decision.reason, at, seen
                    )
                    # The chart of the ratio over time (docs/pacing.md): bounded, by minute.
                    session.abandonment.note_pacing(campaign_id, decision.ratio, at)

        try:
            await asyncio.to_thread(write)
        except Exception:
            log.exception("the pacer's decisions could not be saved")

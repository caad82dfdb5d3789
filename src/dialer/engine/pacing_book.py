"""What this engine knows of each agent campaign for its pacer (docs/agents-engine.md,
Pacing at run time): the calls it has ringing (since when), the agents busy with its customers
(since their bridge), the campaign's ``CampaignStats`` (fed as calls answer or fail and as
agents finish their calls), and its ``Tally`` in the rules' window: the store's, loaded at the
campaign's first pass and after every housekeeping, plus this engine's calls ended since and
not yet recorded, plus its calls bridged now (live from the bridge, recorded after the wrap-up).

The dispatcher turns it into the ``Floor`` the pacer decides on; the calls feed it. It lives in
the engine's process only: another engine's calls reach it through the store's tally.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dialer.domain.abandonment import Tally
from dialer.domain.attempt import AttemptRecord, FinishedAttempt
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId
from dialer.domain.predictive import CampaignStats, Decision, Floor

SAVE_EVERY = timedelta(seconds=5)  # the stored decision (GET campaign) at most this often


@dataclass
class CampaignBook:
    stats: CampaignStats = field(default_factory=CampaignStats)
    ringing: dict[str, datetime] = field(default_factory=dict)  # by call reference
    busy: dict[str, datetime] = field(default_factory=dict)  # bridged at, by call reference
    # Of those, the agents in a wrap-up with a time limit: when it began, by call reference.
    wrapping: dict[str, datetime] = field(default_factory=dict)
    stored: Tally | None = None  # the store's tally at the last load (None: not loaded yet)
    # This engine's calls ended since that load and not recorded when it was read.
    own: Tally = field(default_factory=Tally)
    # Calls bridged to an agent and not ended yet: live already (a person reached an agent),
    # though recorded only after the wrap-up; counted now, as the abandons are at their end.
    live_now: set[str] = field(default_factory=set)
    saved_at: datetime | None = None
    last: Decision | None = None


_MACHINES = frozenset({Outcome.ANSWERPHONE_MESSAGE_LEFT, Outcome.ANSWERPHONE_MESSAGE_NOT_LEFT})


def counted(record: AttemptRecord) -> Tally:
    """What one attempt adds to its campaign's tally, as the store's tally counts it
    (storage/sql_abandonment.py): live, an answered call (in an agent campaign, a person or no
    verdict of machine or fax); abandoned, one of them CallDropped; machines, the answerphones
    judged so."""
    if record.outcome is Outcome.ANSWERED:
        return Tally(live=1, abandoned=1 if record.stage is Stage.CALL_DROPPED else 0)
    if record.outcome in _MACHINES:
        return Tally(machines=1)
    return Tally()


class PacingBook:
    def __init__(self) -> None:
        self.campaigns: dict[CampaignId, CampaignBook] = {}
        self.reload = True  # the store's tallies are to be read again (housekeeping ran)

    def of(self, campaign_id: CampaignId) -> CampaignBook:
        book = self.campaigns.get(campaign_id)
        if book is None:
            book = self.campaigns[campaign_id] = CampaignBook()
        return book

    def forget(self, keep: Iterable[CampaignId]) -> None:
        kept = set(keep)
        for campaign_id in [c for c in self.campaigns if c not in kept]:
            book = self.campaigns[campaign_id]
            if not book.ringing and not book.busy and not book.live_now:
                del self.campaigns[campaign_id]

    # what the calls tell it

    def placed(self, campaign_id: CampaignId, reference: str, at: datetime) -> None:
        self.of(campaign_id).ringing[reference] = at

    def dial_ended(
        self, campaign_id: CampaignId, reference: str, at: datetime, person: bool
    ) -> None:
        """The call answered (``person``: a person, or any answer bridged on answer) or
        failed, ``at``: it rings no more."""
        book = self.of(campaign_id)
        placed = book.ringing.pop(reference, None)
        if placed is not None:
            book.stats.dial_ended(max(0.0, (at - placed).total_seconds()), person)

    def ringing_over(self, campaign_id: CampaignId, reference: str) -> None:
        """However the call ended (a fault, not placed): it rings no more, and tells nothing."""
        book = self.campaigns.get(campaign_id)
        if book is not None:
            book.ringing.pop(reference, None)

    def bridged(self, campaign_id: CampaignId, reference: str, at: datetime) -> None:
        book = self.of(campaign_id)
        book.busy[reference] = at
        book.live_now.add(reference)

    def wrap_up(self, campaign_id: CampaignId, reference: str, at: datetime) -> None:
        """The customer of this call is gone and its agent in a wrap-up with a time limit
        since ``at``: the pacer sees the agent free when such wrap-ups end. (A wrap-up until
        the agent says ready is not told: the agent stays busy from the bridge.)"""
        book = self.of(campaign_id)
        if reference in book.busy:
            book.wrapping[reference] = at

    def handled(self, campaign_id: CampaignId, reference: str, at: datetime) -> None:
        """The agent of this call is ready for another (its wrap-up is over)."""
        book = self.of(campaign_id)
        bridged = book.busy.pop(reference, None)
        if bridged is not None:
            book.stats.handled(max(0.0, (at - bridged).total_seconds()))
        wrapped = book.wrapping.pop(reference, None)
        if wrapped is not None:
            book.stats.wrapped(max(0.0, (at - wrapped).total_seconds()))

    def unbridged(self, campaign_id: CampaignId, reference: str) -> None:
        """The agent left the call without a wrap-up to wait for (their phone dropped)."""
        book = self.of(campaign_id)
        book.busy.pop(reference, None)
        book.wrapping.pop(reference, None)

    def ended(self, finished: FinishedAttempt) -> None:
        record = finished.record
        book = self.of(finished.campaign_id)
        book.live_now.discard(f"{record.destination_id}:{record.attempt_number}")
        add = counted(record)
        if add != Tally():
            book.own = book.own.plus(add.live, add.abandoned, add.machines)

    # what the dispatcher reads

    def loaded(
        self, campaign_id: CampaignId, stored: Tally, unwritten: Iterable[FinishedAttempt]
    ) -> None:
        """The store's tally was read; ``unwritten``: this engine's ended calls not yet
        recorded, the only ones of its own the store could not count."""
        book = self.of(campaign_id)
        book.stored = stored
        own = Tally()
        for finished in unwritten:
            if finished.campaign_id == campaign_id:
                add = counted(finished.record)
                own = own.plus(add.live, add.abandoned, add.machines)
        book.own = own

    def tally(self, campaign_id: CampaignId) -> Tally:
        book = self.of(campaign_id)
        stored = book.stored or Tally()
        live = book.own.live + len(book.live_now)
        return stored.plus(live, book.own.abandoned, book.own.machines)

    def floor(
        self,
        campaign_id: CampaignId,
        now: datetime,
        ready: int,
        waiting: int,
        wrap_known: bool = False,
    ) -> Floor:
        """``wrap_known``: the campaign's wrap-up has a time limit, so the agents in it are
        told apart (``Floor.wrapping``: seconds since each began); else every busy agent is
        seen from its bridge only."""
        book = self.of(campaign_id)

        def since(at: datetime) -> float:
            return max(0.0, (now - at).total_seconds())

        ringing = tuple(since(at) for at in book.ringing.values())
        if not wrap_known:
            busy = tuple(since(at) for at in book.busy.values())
            return Floor(now=now, ready=ready, busy=busy, ringing=ringing, waiting=max(0, waiting))
        wrapping = book.wrapping
        return Floor(
            now=now,
            ready=ready,
            busy=tuple(since(at) for ref, at in book.busy.items() if ref not in wrapping),
            ringing=ringing,
            waiting=max(0, waiting),
            wrapping=tuple(since(at) for at in wrapping.values()),
            wrapping_bridged=tuple(since(book.busy[ref]) for ref in wrapping),
        )

    def moving(self, campaign_id: CampaignId) -> bool:
        """The campaign has calls ringing or agents busy: the pacer must look again soon."""
        book = self.campaigns.get(campaign_id)
        return book is not None and bool(book.ringing or book.busy)

    def save_due(self, campaign_id: CampaignId, now: datetime) -> bool:
        book = self.of(campaign_id)
        return book.saved_at is None or now >= book.saved_at + SAVE_EVERY

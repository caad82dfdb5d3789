"""What this engine knows of each agent campaign for its pacer (docs/agents-engine.md,
Pacing at run time): the calls it has ringing (since when), the agents busy with its customers
(since their bridge), the campaign's ``CampaignStats`` (fed as calls answer or fail and as
agents finish their calls), and its ``Tally`` in the rules' window: the store's, loaded at the
campaign's first pass and after every housekeeping, plus this engine's calls ended since and
not yet recorded.

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
    stored: Tally | None = None  # the store's tally at the last load (None: not loaded yet)
    own: Tally = field(
        default_factory=Tally
    )  # this engine's calls ended since that load, and not then recorded
    saved_at: datetime | None = None
    last: Decision | None = None


def counted(record: AttemptRecord) -> Tally:
    """What one attempt adds to its campaign's tally (as the store's tally counts it): a live
    call is an agent call that was answered (a person, or no verdict of machine or fax);
    abandoned, those of them CallDropped; machines, the answerphones judged so."""
    if record.agent is not None:
        return Tally(live=1, abandoned=1 if record.stage is Stage.CALL_DROPPED else 0)
    if record.outcome in (
        Outcome.ANSWERPHONE_MESSAGE_LEFT,
        Outcome.ANSWERPHONE_MESSAGE_NOT_LEFT,
    ):
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
            if not book.ringing and not book.busy:
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
        self.of(campaign_id).busy[reference] = at

    def handled(self, campaign_id: CampaignId, reference: str, at: datetime) -> None:
        """The agent of this call is ready for another (its wrap-up is over)."""
        book = self.of(campaign_id)
        bridged = book.busy.pop(reference, None)
        if bridged is not None:
            book.stats.handled(max(0.0, (at - bridged).total_seconds()))

    def unbridged(self, campaign_id: CampaignId, reference: str) -> None:
        """The agent left the call without a wrap-up to wait for (their phone dropped)."""
        self.of(campaign_id).busy.pop(reference, None)

    def ended(self, finished: FinishedAttempt) -> None:
        add = counted(finished.record)
        if add != Tally():
            book = self.of(finished.campaign_id)
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
        return stored.plus(book.own.live, book.own.abandoned, book.own.machines)

    def floor(self, campaign_id: CampaignId, now: datetime, ready: int, waiting: int) -> Floor:
        book = self.of(campaign_id)
        return Floor(
            now=now,
            ready=ready,
            busy=tuple(max(0.0, (now - at).total_seconds()) for at in book.busy.values()),
            ringing=tuple(max(0.0, (now - at).total_seconds()) for at in book.ringing.values()),
            waiting=max(0, waiting),
        )

    def moving(self, campaign_id: CampaignId) -> bool:
        """The campaign has calls ringing or agents busy: the pacer must look again soon."""
        book = self.campaigns.get(campaign_id)
        return book is not None and bool(book.ringing or book.busy)

    def save_due(self, campaign_id: CampaignId, now: datetime) -> bool:
        book = self.of(campaign_id)
        return book.saved_at is None or now >= book.saved_at + SAVE_EVERY

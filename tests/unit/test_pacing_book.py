"""What the engine shows the pacer of a campaign (dialer.engine.pacing_book): ringing calls and
busy agents by their ages, statistics fed as calls answer and agents finish, and the tally: the
store's, plus this engine's calls it could not count yet, never one call twice."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from dialer.domain.abandonment import Tally
from dialer.domain.attempt import AgentCall, AttemptRecord, FinishedAttempt
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId, DestinationId, TenantId
from dialer.engine.pacing_book import PacingBook, counted

NOW = datetime(2025, 10, 1, 9, tzinfo=UTC)
C = CampaignId(3)
S = timedelta(seconds=1)


def finished(
    outcome: Outcome, stage: Stage, agent: bool, campaign: CampaignId = C
) -> FinishedAttempt:
    record = AttemptRecord(
        destination_id=DestinationId(1),
        attempt_number=1,
        outcome=outcome,
        stage=stage,
        queued_at=NOW,
        ended_at=NOW,
    )
    if agent:
        record = replace(record, agent=AgentCall(queued_at=NOW))
    return FinishedAttempt(record, campaign, TenantId(1), 0, None, None)


DROPPED = finished(Outcome.ANSWERED, Stage.CALL_DROPPED, agent=True)
TALKED = finished(Outcome.ANSWERED, Stage.CORRECT_CALLEE, agent=True)
MACHINE = finished(Outcome.ANSWERPHONE_MESSAGE_NOT_LEFT, Stage.ANSWERPHONE_MESSAGE_NOT_LEFT, False)
BUSY = finished(Outcome.BUSY, Stage.NONE, agent=False)


def test_what_each_attempt_adds_to_the_tally() -> None:
    assert counted(DROPPED.record) == Tally(live=1, abandoned=1)
    assert counted(TALKED.record) == Tally(live=1)
    assert counted(MACHINE.record) == Tally(machines=1)
    assert counted(BUSY.record) == Tally()


def test_the_tally_is_the_stores_plus_what_it_could_not_count_yet() -> None:
    book = PacingBook()
    book.ended(DROPPED)  # before any load: counted as our own
    assert book.tally(C) == Tally(live=1, abandoned=1)
    # The store is read while TALKED waits to be written (and DROPPED has been written).
    book.loaded(C, Tally(live=10, abandoned=1), [TALKED, finished(Outcome.BUSY, Stage.NONE, False)])
    assert book.tally(C) == Tally(live=11, abandoned=1)
    book.ended(MACHINE)
    assert book.tally(C) == Tally(live=11, abandoned=1, machines=1)
    # Another campaign's unwritten calls are not ours.
    other = finished(Outcome.ANSWERED, Stage.CALL_DROPPED, agent=True, campaign=CampaignId(4))
    book.loaded(C, Tally(live=12, abandoned=1, machines=1), [other])
    assert book.tally(C) == Tally(live=12, abandoned=1, machines=1)


def test_the_floor_ages_ringing_calls_and_busy_agents() -> None:
    book = PacingBook()
    book.placed(C, "1:1", NOW)
    book.placed(C, "2:1", NOW + 2 * S)
    book.dial_ended(C, "1:1", NOW + 8 * S, person=True)
    book.bridged(C, "1:1", NOW + 9 * S)
    floor = book.floor(C, NOW + 10 * S, ready=2, waiting=0)
    assert (floor.ready, floor.ringing, floor.busy) == (2, (8.0,), (1.0,))
    assert book.moving(C)
    assert book.of(C).stats.dials == 1
    book.handled(C, "1:1", NOW + 40 * S)
    book.ringing_over(C, "2:1")
    assert not book.moving(C)
    book.forget([])
    assert C in book.campaigns  # its call is not recorded yet: still live on this engine
    book.ended(TALKED)
    book.forget([])
    assert C not in book.campaigns


def test_the_decision_is_saved_at_most_every_5_seconds() -> None:
    book = PacingBook()
    assert book.save_due(C, NOW)
    book.of(C).saved_at = NOW
    assert not book.save_due(C, NOW + 4 * S)
    assert book.save_due(C, NOW + 5 * S)


def test_a_bridged_call_is_live_from_the_bridge_and_counted_once() -> None:
    book = PacingBook()
    book.loaded(C, Tally(live=5), [])
    book.bridged(C, "1:1", NOW)
    assert book.tally(C) == Tally(live=6)  # a person reached an agent: live now
    book.ended(TALKED)  # destination 1, attempt 1: recorded after its wrap-up
    assert book.tally(C) == Tally(live=6)
    book.loaded(C, Tally(live=6), [])  # the store has it now
    assert book.tally(C) == Tally(live=6)


def test_agents_in_a_timed_wrap_up_are_told_apart_and_their_wrap_ups_learnt() -> None:
    book = PacingBook()
    book.bridged(C, "1:1", NOW)
    book.bridged(C, "2:1", NOW + 5 * S)
    book.wrap_up(C, "1:1", NOW + 20 * S)  # its customer hung up after 20 s of talk
    at = NOW + 24 * S
    told = book.floor(C, at, ready=0, waiting=0, wrap_known=True)
    assert (told.busy, told.wrapping, told.wrapping_bridged) == ((19.0,), (4.0,), (24.0,))
    # A campaign whose wrap-up lasts until the agent says ready: every agent from its bridge.
    untold = book.floor(C, at, ready=0, waiting=0)
    assert (sorted(untold.busy), untold.wrapping) == ([19.0, 24.0], None)
    book.handled(C, "1:1", NOW + 35 * S)
    stats = book.of(C).stats
    assert stats.mean_wrap() == 15.0  # from the hang-up to ready
    assert book.floor(C, at, ready=1, waiting=0, wrap_known=True).wrapping == ()
    # An agent whose phone dropped in wrap-up is neither busy nor wrapping any more.
    book.wrap_up(C, "2:1", NOW + 40 * S)
    book.unbridged(C, "2:1")
    assert not book.of(C).wrapping
    assert not book.moving(C)

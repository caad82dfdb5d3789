"""The engine over simulated days on the in-memory store: windows across days, runover days and
a DST change, retries at their intervals, message policies, callee-local hours, the do-not-call
list checked at every attempt, caps on calls in flight, and close-out. Timestamps are the
engine's virtual time, so they are asserted exactly."""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dialer.domain.agent import Strategy
from dialer.domain.codes import Outcome, Stage
from dialer.domain.events import AttemptStarted, CallEnded
from dialer.domain.ids import CampaignId
from dialer.ports import Call, OriginateRequest, TelephonyDriver
from dialer.services.dialer_input import Params
from tests.integration.engine_support import LONDON, Rig, drama


def london(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def most_at_once(rig: Rig, campaign: int | None = None) -> int:
    """The most calls on the line at once, from the engine's events in the order published.
    (Virtual time cannot tell: each simulated call keeps its own time, so calls that really
    followed one another may overlap in their timestamps.)"""
    most = now = 0
    for event in rig.events.events:
        if isinstance(event, AttemptStarted | CallEnded) and campaign in (None, event.campaign_id):
            now += 1 if isinstance(event, AttemptStarted) else -1
            most = max(most, now)
    return most


def all_rows(rig: Rig, campaign: int) -> list[Any]:
    return [row for rows in rig.attempts(campaign).values() for row in rows]


def test_retries_move_to_the_next_window_across_days_and_a_clock_change(rig: Rig) -> None:
    # Windows: Wed 1 Oct 09:00-12:00, then runover days Fri 3 Oct 14:00-15:00 and, after the
    # clocks go back (26 Oct), Mon 27 Oct 09:00-09:30, all London time.
    campaign = rig.campaign(
        [drama(7)],  # never answers: every attempt is NoAnswer
        runoverDays=[
            {"date": "2025-10-03", "startTime": "14:00", "finishTime": "15:00"},
            {"date": "2025-10-27", "startTime": "09:00", "finishTime": "09:30"},
        ],
        attempts=[
            {"interval": 120, "attemptNumber": 1},
            {"interval": 120, "attemptNumber": 2},
            {"interval": 120, "attemptNumber": 3},
            {"interval": 1, "attemptNumber": 4},
        ],
    )
    rig.run()
    rows = rig.attempts(campaign)[drama(7)]
    assert [(r.attempt_number, r.outcome) for r in rows] == [
        (n, Outcome.NO_ANSWER) for n in (1, 2, 3, 4)
    ]
    first, second, third, fourth = rows
    assert first.queued_at == london(1, 9)  # uploaded the day before: due when it opens
    # Two hours after the first ended is still inside the first window.
    assert first.ended_at is not None
    assert second.queued_at == first.ended_at + timedelta(minutes=120)
    # Two hours after the second is past noon: due when the next window opens, on Friday.
    assert third.queued_at == london(3, 14)
    # The next retry would fall after Friday's window: it waits for 27 October, which is in
    # GMT (09:00 London is 09:00 UTC, where it was 08:00 UTC in BST).
    assert fourth.queued_at == london(27, 9) == datetime(2025, 10, 27, 9, 0, tzinfo=UTC)
    for row in rows:
        assert row.originated_at is not None
        assert row.originated_at == row.queued_at  # a free line: dialled as it fell due


@pytest.mark.parametrize(
    ("number", "outcome"),
    [
        (drama(1), Outcome.BUSY),
        (drama(7), Outcome.NO_ANSWER),
        (drama(8), Outcome.NO_CONNECTION),
        (drama(10), Outcome.OVERFLOW),
    ],
)
def test_a_retryable_outcome_is_tried_again_after_each_rules_interval(
    rig: Rig, number: str, outcome: Outcome
) -> None:
    campaign = rig.campaign(
        [number],
        answerMachineDetected=0,
        smsOnBusy=0,
        attempts=[
            {"interval": 7, "attemptNumber": 1},
            {"interval": 45, "attemptNumber": 2},
            {"interval": 1, "attemptNumber": 3},
        ],
    )
    rig.run()
    rows = rig.attempts(campaign)[number]
    assert [(r.attempt_number, r.outcome) for r in rows] == [(n, outcome) for n in (1, 2, 3)]
    for before, after, minutes in zip(rows, rows[1:], (7, 45), strict=False):
        assert before.ended_at is not None
        assert after.queued_at == before.ended_at + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("number", "outcome", "dialled"),
    [
        (drama(0), Outcome.ANSWERED, True),
        (drama(5), Outcome.FAX, True),
        (drama(6), Outcome.UNOBTAINABLE, True),
        (drama(11), Outcome.INVALID_NUMBER, True),  # the network says so
        ("+44 12", Outcome.INVALID_NUMBER, False),  # not even possible: never dialled
    ],
)
def test_a_final_outcome_is_never_tried_again(
    rig: Rig, number: str, outcome: Outcome, dialled: bool
) -> None:
    campaign = rig.campaign([number])
    rig.run()
    rows = all_rows(rig, campaign)
    # A number that is not possible is done on upload: no attempt, never dialled.
    assert [(r.attempt_number, r.outcome) for r in rows] == ([(1, outcome)] if dialled else [])
    assert len(rig.originations()) == int(dialled)
    (stored,) = rig.container.campaigns.get(rig.account.tenant, campaign).numbers
    assert (stored.attempts_made, stored.last_outcome) == (int(dialled), outcome)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (0, [Outcome.ANSWERPHONE_MESSAGE_NOT_LEFT] * 3),
        (1, [Outcome.ANSWERPHONE_MESSAGE_LEFT]),
        (
            2,
            [
                Outcome.ANSWERPHONE_MESSAGE_NOT_LEFT,
                Outcome.ANSWERPHONE_MESSAGE_NOT_LEFT,
                Outcome.ANSWERPHONE_MESSAGE_LEFT,
            ],
        ),
    ],
)
def test_the_answerphone_policy_picks_the_attempt_that_leaves_the_message(
    rig: Rig, policy: int, expected: list[Outcome]
) -> None:
    campaign = rig.campaign([drama(4)], answerMachineDetected=policy)
    rig.run()
    rows = rig.attempts(campaign)[drama(4)]
    assert [r.outcome for r in rows] == expected
    left = [r.stage for r in rows if r.outcome is Outcome.ANSWERPHONE_MESSAGE_LEFT]
    assert left in ([], [Stage.ANSWERPHONE_MESSAGE_LEFT])


@pytest.mark.parametrize(
    ("policy", "sent"), [(0, [False] * 3), (1, [True, False, False]), (2, [False, False, True])]
)
def test_the_sms_on_busy_policy_picks_the_attempt_that_texts(
    rig: Rig, policy: int, sent: list[bool]
) -> None:
    campaign = rig.campaign([drama(1)], smsOnBusy=policy)
    rig.run()
    rows = rig.attempts(campaign)[drama(1)]
    assert [r.outcome for r in rows] == [Outcome.BUSY] * 3
    assert [r.sms_sent for r in rows] == sent
    texts = rig.sms()
    assert len(texts) == sum(sent)
    assert all(t.to == drama(1) for t in texts)


def test_tenant_calling_hours_postpone_the_first_call_without_using_an_attempt(rig: Rig) -> None:
    with rig.container.store.write() as session:
        session.tenants.set_calling_hours(rig.account.tenant.id, "10:30", "21:00")
    campaign = rig.campaign([drama(0)])
    runtime = rig.run()
    (row,) = rig.attempts(campaign)[drama(0)]
    assert (row.attempt_number, row.outcome) == (1, Outcome.ANSWERED)
    assert row.originated_at == london(1, 10, 30)
    assert runtime.engine.stats.postponed == 1


def test_a_callee_whose_hours_never_meet_a_window_ends_out_of_time_undialled(rig: Rig) -> None:
    # 08:00 in New York is 13:00 in London: after every 09:00-12:00 window has closed.
    campaign = rig.campaign(["+12125550143", drama(0)])
    rig.run()
    got = rig.attempts(campaign)
    (row,) = got["+12125550143"]
    assert (row.attempt_number, row.outcome, row.originated_at) == (1, Outcome.OUT_OF_TIME, None)
    assert row.ended_at == london(2, 12)  # recorded as the last window closed
    assert [r.outcome for r in got[drama(0)]] == [Outcome.ANSWERED]
    assert rig.originations() == [f"{got[drama(0)][0].destination_id}:1"]
    detail = rig.container.campaigns.get(rig.account.tenant, campaign)
    numbers = {n.number.e164: n for n in detail.numbers}
    assert numbers["+12125550143"].attempts_made == 0  # settled without a call


class HookedNetwork:
    """The simulated network, running ``hook`` (in a thread, as an API request would) just
    before the first call to ``number`` is placed."""

    def __init__(self, inner: TelephonyDriver, number: str, hook: Callable[[], None]) -> None:
        self._inner = inner
        self._number = number
        self._hook: Callable[[], None] | None = hook

    async def originate(self, request: OriginateRequest) -> Call:
        if request.number == self._number and self._hook is not None:
            hook, self._hook = self._hook, None
            await asyncio.to_thread(hook)
        return await self._inner.originate(request)

    async def close(self) -> None:
        await self._inner.close()


def test_the_do_not_call_list_is_checked_again_before_every_attempt(rig: Rig) -> None:
    campaign = rig.campaign([drama(1)], smsOnBusy=0)  # busy: would be tried three times
    runtime = rig.engine()

    def list_it() -> None:
        rig.container.dnc.add(rig.account.tenant, [drama(1)], label="line")

    runtime.engine._runner._driver = HookedNetwork(runtime.driver, drama(1), list_it)
    asyncio.run(asyncio.wait_for(runtime.engine.run_until_done(), 60))
    rows = rig.attempts(campaign)[drama(1)]
    # The first call was already being placed; the retry finds the number listed.
    assert [(r.attempt_number, r.outcome, r.stage) for r in rows] == [
        (1, Outcome.BUSY, Stage.NONE),
        (2, Outcome.EXCLUDED_NUMBER, Stage.EXCLUDED),
    ]
    assert rows[1].originated_at is None
    assert len(rig.originations()) == 1


def test_the_campaign_cap_holds_calls_in_flight(rig: Rig) -> None:
    numbers = [drama(n) for n in (0, 2, 3, 4, 9, 12)] * 3
    campaign = rig.campaign(numbers, answerMachineDetected=1)
    rig.run(campaign_max_in_flight=2)
    rows = all_rows(rig, campaign)
    assert len(rows) == len(numbers)
    assert most_at_once(rig) == 2


def test_the_dialer_api_maximum_callers_wins_over_the_engines_cap(rig: Rig) -> None:
    numbers = [drama(n) for n in (0, 2, 3, 4, 9, 12)] * 3
    campaign = rig.campaign(numbers, answerMachineDetected=1)
    now = rig.timer.now()
    with rig.container.store.write() as session:
        queue = session.agents.add_queue(rig.account.tenant.id, "sales", now)
        session.campaigns.set_strategy(CampaignId(campaign), Strategy(queue.id, 3, 2), now)
    rig.run(campaign_max_in_flight=100)
    rows = all_rows(rig, campaign)
    assert len(rows) == len(numbers)
    assert most_at_once(rig) == 3


def test_the_process_cap_holds_across_campaigns(rig: Rig) -> None:
    numbers = [drama(n) for n in (0, 2, 3)] * 3
    first, second = rig.campaign(numbers), rig.campaign(numbers)
    rig.run(max_in_flight=2)
    rows = all_rows(rig, first) + all_rows(rig, second)
    assert len(rows) == 2 * len(numbers)
    assert most_at_once(rig) == 2
    assert most_at_once(rig, first) >= 1
    assert most_at_once(rig, second) >= 1


def test_what_a_short_window_could_not_dial_ends_out_of_time_as_it_closes(rig: Rig) -> None:
    # Ten minutes of one call a minute for 30 numbers: most are never dialled.
    numbers = [drama(0)] * 30
    campaign = rig.campaign(numbers, finishTime="09:10", runoverDays=[])
    runtime = rig.run(campaign_calls_per_second=1 / 60)
    rows = all_rows(rig, campaign)
    dialled = [r for r in rows if r.originated_at is not None]
    closed = [r for r in rows if r.outcome is Outcome.OUT_OF_TIME]
    assert len(rows) == 30
    assert len(dialled) + len(closed) == 30
    assert 10 <= len(dialled) <= 11  # one at 09:00, then one a minute until 09:10
    assert all(london(1, 9) <= r.originated_at < london(1, 9, 10) for r in dialled)
    assert {(r.attempt_number, r.originated_at, r.ended_at) for r in closed} == {
        (1, None, london(1, 9, 10))
    }
    assert runtime.engine.stats.final[Outcome.OUT_OF_TIME] == len(closed)
    progress = rig.container.campaigns.get(rig.account.tenant, campaign).progress
    assert progress is not None
    assert (progress.pending, progress.in_flight, progress.done) == (0, 0, 30)


def test_an_originate_time_after_the_last_window_ends_out_of_time_at_the_close(rig: Rig) -> None:
    campaign = rig.campaign([drama(0)])
    code = rig.container.campaigns.get(rig.account.tenant, campaign).campaign.code
    week_later = int(london(9, 10).timestamp())
    rig.container.dialer.add_call(
        Params(
            {
                "Code": rig.account.key,
                "Campaign": code,
                "Target": drama(2),
                "OriginateTime": week_later,
                "IsDateLocal": False,
            }
        )
    )
    rig.run()
    (row,) = rig.attempts(campaign)[drama(2)]
    assert (row.outcome, row.originated_at) == (Outcome.OUT_OF_TIME, None)
    # Recorded when the last window closed (2 October, noon), not a week later.
    assert row.ended_at == london(2, 12)
    assert rig.timer.now() < london(3, 0)

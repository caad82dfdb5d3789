"""Campaign lifecycle states and transitions (domain/lifecycle.py), on a fake clock; the
statistics' span rules; and the live hub's per-stream queue, which must stay bounded."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from dialer.api.live_hub import Subscriber
from dialer.domain.errors import Conflict, ValidationFailed
from dialer.domain.ids import TenantId
from dialer.domain.lifecycle import (
    CampaignState,
    StateFacts,
    Transition,
    campaign_state,
    check_transition,
)
from dialer.domain.schedule import RunoverDay, Schedule, Window
from dialer.domain.tenant import Tenant
from dialer.services.campaign_statistics import MAX_BUCKETS, span_of

LONDON = "Europe/London"
HOURS = Window(time(9, 0), time(12, 0))
SCHEDULE = Schedule(date(2025, 10, 1), HOURS, (RunoverDay(date(2025, 10, 2), HOURS),))
BEFORE = datetime(2025, 9, 30, 12, 0, tzinfo=UTC)
DURING = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)  # 10:00 London
NIGHT = datetime(2025, 10, 1, 20, 0, tzinfo=UTC)  # between the two windows
AFTER = datetime(2025, 10, 2, 11, 0, tzinfo=UTC)  # 12:00 London: the last window closed


def facts(**overrides: object) -> StateFacts:
    values: dict[str, object] = {
        "enabled": True,
        "cancelled": False,
        "total": 10,
        "left": 4,
        "out_of_time": 0,
    }
    values.update(overrides)
    return StateFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given", "now", "expected"),
    [
        (facts(), BEFORE, CampaignState.SCHEDULED),
        (facts(), DURING, CampaignState.RUNNING),
        (facts(), NIGHT, CampaignState.RUNNING),
        (facts(), AFTER, CampaignState.EXPIRED),
        (facts(enabled=False), BEFORE, CampaignState.PAUSED),
        (facts(enabled=False), DURING, CampaignState.PAUSED),
        (facts(enabled=False), AFTER, CampaignState.EXPIRED),
        (facts(left=0), DURING, CampaignState.FINISHED),
        (facts(left=0, enabled=False), DURING, CampaignState.FINISHED),
        (facts(left=0), AFTER, CampaignState.FINISHED),
        # The engine ends what was left OutOfTime when the last window closes.
        (facts(left=0, out_of_time=3), AFTER, CampaignState.EXPIRED),
        (facts(cancelled=True, enabled=False), DURING, CampaignState.CANCELLED),
        (facts(cancelled=True, enabled=False, left=0), AFTER, CampaignState.CANCELLED),
        # No numbers yet: waiting for them, by its schedule, never Finished.
        (facts(total=0, left=0), BEFORE, CampaignState.SCHEDULED),
        (facts(total=0, left=0), DURING, CampaignState.RUNNING),
        (facts(total=0, left=0), AFTER, CampaignState.EXPIRED),
    ],
)
def test_state_is_derived_from_facts_schedule_and_clock(
    given: StateFacts, now: datetime, expected: CampaignState
) -> None:
    assert campaign_state(given, SCHEDULE, LONDON, now) is expected


def test_state_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        campaign_state(facts(), SCHEDULE, LONDON, DURING.replace(tzinfo=None))


def test_a_window_edge_belongs_to_the_window() -> None:
    opens = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)  # 09:00 London (BST)
    assert campaign_state(facts(), SCHEDULE, LONDON, opens - timedelta(microseconds=1)) is (
        CampaignState.SCHEDULED
    )
    assert campaign_state(facts(), SCHEDULE, LONDON, opens) is CampaignState.RUNNING


@pytest.mark.parametrize(
    ("state", "action", "changes"),
    [
        (CampaignState.SCHEDULED, Transition.PAUSE, True),
        (CampaignState.RUNNING, Transition.PAUSE, True),
        (CampaignState.PAUSED, Transition.PAUSE, False),
        (CampaignState.PAUSED, Transition.RESUME, True),
        (CampaignState.RUNNING, Transition.RESUME, False),
        (CampaignState.SCHEDULED, Transition.CANCEL, True),
        (CampaignState.PAUSED, Transition.CANCEL, True),
        (CampaignState.CANCELLED, Transition.CANCEL, False),
    ],
)
def test_legal_transitions_say_whether_they_change_anything(
    state: CampaignState, action: Transition, changes: bool
) -> None:
    assert check_transition(state, action) is changes


@pytest.mark.parametrize(
    ("state", "action", "words"),
    [
        (CampaignState.CANCELLED, Transition.RESUME, "cancelled; it cannot be resumed"),
        (CampaignState.CANCELLED, Transition.PAUSE, "cancelled; it cannot be paused"),
        (CampaignState.FINISHED, Transition.PAUSE, "finished"),
        (CampaignState.FINISHED, Transition.CANCEL, "finished"),
        (CampaignState.EXPIRED, Transition.RESUME, "expired"),
    ],
)
def test_illegal_transitions_are_conflicts(
    state: CampaignState, action: Transition, words: str
) -> None:
    with pytest.raises(Conflict, match=words):
        check_transition(state, action)


NOW = datetime(2025, 10, 1, 9, 7, 30, tzinfo=UTC)


def test_statistics_spans_align_to_their_buckets_and_are_bounded() -> None:
    span = span_of("5m", None, None, NOW)
    assert span.start == datetime(2025, 9, 30, 9, 5, tzinfo=UTC)
    assert span.end == datetime(2025, 10, 1, 9, 10, tzinfo=UTC)
    assert span.count == 289  # 24 h, and the bucket now under way
    hourly = span_of("1h", "2025-10-01T08:30:00+01:00", "2025-10-01T09:00:00Z", NOW)
    assert (hourly.start, hourly.end) == (
        datetime(2025, 10, 1, 7, 0, tzinfo=UTC),
        datetime(2025, 10, 1, 9, 0, tzinfo=UTC),
    )
    longest = span.end - timedelta(minutes=5 * MAX_BUCKETS)
    assert span_of("5m", longest.isoformat(), None, NOW).count == MAX_BUCKETS
    with pytest.raises(ValidationFailed) as refused:
        span_of("5m", (longest - timedelta(seconds=1)).isoformat(), None, NOW)
    assert "query.from" in refused.value.errors


TENANT = Tenant(TenantId(1), "Acme", "GB", LONDON, BEFORE)


def test_a_stream_queue_keeps_the_latest_per_key_and_never_grows_past_its_bound() -> None:
    queue = Subscriber(TENANT, max_keys=50)
    # A slow client: a million updates of 20 campaigns leave 20 entries, the latest of each.
    for n in range(1_000_000 // 20):
        for campaign_id in range(20):
            queue.offer(("campaign", campaign_id), b"%d" % n)
    assert len(queue) == 20
    taken = queue.take()
    assert taken == [b"%d" % (1_000_000 // 20 - 1)] * 20
    assert len(queue) == 0
    assert not queue.wake.is_set()
    # More distinct keys than the bound: the oldest go, the count of dropped says so.
    for agent_id in range(80):
        queue.offer(("agent", agent_id), b"x")
    assert len(queue) == 50
    assert queue.dropped == 30
    assert queue.wake.is_set()

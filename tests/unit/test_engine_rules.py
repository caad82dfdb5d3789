"""The engine's rules on a fake clock: windows (across DST), retries, policies, calling hours."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from dialer.domain.calendar import intervals, window_state
from dialer.domain.callflow import parse_callflow
from dialer.domain.codes import Outcome, Stage
from dialer.domain.compliance import CallingHours, next_allowed
from dialer.domain.policy import AttemptRule, MessagePolicy
from dialer.domain.retry import FINAL, RETRYABLE, after_attempt, max_attempts, message_due
from dialer.domain.schedule import RunoverDay, Schedule, Window
from dialer.engine.pacer import TokenBucket

LONDON = "Europe/London"
MORNING = Window(time(9), time(12))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class TestWindows:
    def test_a_window_keeps_its_local_times_across_the_spring_dst_change(self) -> None:
        schedule = Schedule(date(2025, 3, 29), MORNING, (RunoverDay(date(2025, 3, 30), MORNING),))
        before, after = intervals(schedule, LONDON)
        assert (before.start, before.finish) == (utc(2025, 3, 29, 9), utc(2025, 3, 29, 12))
        # British Summer Time from 01:00 UTC on the 30th: 09:00 local is 08:00 UTC.
        assert (after.start, after.finish) == (utc(2025, 3, 30, 8), utc(2025, 3, 30, 11))

    def test_a_window_across_the_autumn_change_is_an_hour_longer(self) -> None:
        night = Window(time(0, 30), time(3))
        (interval,) = intervals(Schedule(date(2025, 10, 26), night), LONDON)
        # 00:30 BST (23:30 UTC the day before) to 03:00 GMT: 3.5 hours of real time.
        assert interval.finish - interval.start == timedelta(hours=3, minutes=30)

    def test_open_closed_between_days_and_over(self) -> None:
        schedule = Schedule(
            date(2025, 10, 1),
            MORNING,
            (RunoverDay(date(2025, 10, 3), Window(time(14), time(15))),),
        )
        early = window_state(schedule, LONDON, utc(2025, 10, 1, 7))
        assert not early.open
        assert early.next_opens_at == utc(2025, 10, 1, 8)
        during = window_state(schedule, LONDON, utc(2025, 10, 1, 10, 59))
        assert during.open
        assert during.closes_at == utc(2025, 10, 1, 11)
        # The finish is exclusive, and the next window is the runover day's own.
        gap = window_state(schedule, LONDON, utc(2025, 10, 1, 11))
        assert not gap.open
        assert gap.next_opens_at == utc(2025, 10, 3, 13)
        assert not gap.over
        over = window_state(schedule, LONDON, utc(2025, 10, 3, 14))
        assert over.over
        assert over.next_opens_at is None

    def test_naive_times_are_refused(self) -> None:
        naive = datetime(2025, 10, 1)  # noqa: DTZ001 - the point of the test
        with pytest.raises(ValueError, match="timezone-aware"):
            window_state(Schedule(date(2025, 10, 1), MORNING), LONDON, naive)


class TestRetries:
    RULES = (AttemptRule(1, 15), AttemptRule(2, 60), AttemptRule(3, 120))
    END = utc(2025, 10, 1, 9)

    @pytest.mark.parametrize("outcome", sorted(RETRYABLE, key=lambda o: o.value))
    def test_retryable_outcomes_wait_the_interval_of_the_attempt(self, outcome: Outcome) -> None:
        assert after_attempt(self.RULES, 1, outcome, self.END).retry_at == utc(2025, 10, 1, 9, 15)
        assert after_attempt(self.RULES, 2, outcome, self.END).retry_at == utc(2025, 10, 1, 10)

    @pytest.mark.parametrize("outcome", sorted(RETRYABLE, key=lambda o: o.value))
    def test_the_last_attempt_is_final_whatever_happened(self, outcome: Outcome) -> None:
        assert after_attempt(self.RULES, 3, outcome, self.END).final

    @pytest.mark.parametrize("outcome", sorted(FINAL, key=lambda o: o.value))
    def test_final_outcomes_end_at_once(self, outcome: Outcome) -> None:
        assert after_attempt(self.RULES, 1, outcome, self.END).final

    def test_the_table_is_the_issues(self) -> None:
        assert {
            Outcome.BUSY,
            Outcome.NO_ANSWER,
            Outcome.ANSWERPHONE_MESSAGE_NOT_LEFT,
            Outcome.NO_CONNECTION,
            Outcome.OVERFLOW,
        } <= RETRYABLE
        assert {
            Outcome.ANSWERED,
            Outcome.ANSWERPHONE_MESSAGE_LEFT,
            Outcome.UNOBTAINABLE,
            Outcome.INVALID_NUMBER,
            Outcome.EXCLUDED_NUMBER,
            Outcome.FAX,
            Outcome.OUT_OF_TIME,
        } == FINAL

    def test_no_attempts_list_means_one_call(self) -> None:
        assert max_attempts(()) == 1
        assert after_attempt((), 1, Outcome.BUSY, self.END).final


class TestMessagePolicies:
    def test_on_the_first_call(self) -> None:
        due = [message_due(MessagePolicy.ON_THE_FIRST_CALL, n, 3) for n in (1, 2, 3)]
        assert due == [True, False, False]

    def test_on_the_last_call(self) -> None:
        due = [message_due(MessagePolicy.ON_THE_LAST_CALL, n, 3) for n in (1, 2, 3)]
        assert due == [False, False, True]

    def test_never(self) -> None:
        assert not any(message_due(MessagePolicy.NEVER, n, 3) for n in (1, 2, 3))

    def test_a_single_attempt_is_both_first_and_last(self) -> None:
        assert message_due(MessagePolicy.ON_THE_LAST_CALL, 1, 1)
        assert message_due(MessagePolicy.ON_THE_FIRST_CALL, 1, 1)


class TestCallingHours:
    HOURS = CallingHours(time(8), time(21))

    def test_inside_the_hours_calls_now(self) -> None:
        assert next_allowed(self.HOURS, [LONDON], utc(2025, 10, 1, 10)) is None

    def test_too_early_waits_for_eight_local(self) -> None:
        # 06:30 UTC is 07:30 BST in London.
        assert next_allowed(self.HOURS, [LONDON], utc(2025, 10, 1, 6, 30)) == utc(2025, 10, 1, 7)

    def test_too_late_waits_for_the_next_morning(self) -> None:
        later = next_allowed(self.HOURS, ["America/New_York"], utc(2025, 10, 2, 2))
        assert later == utc(2025, 10, 2, 12)  # 08:00 EDT

    def test_the_callees_zone_counts_not_the_campaigns(self) -> None:
        # 14:00 UTC: afternoon in London, 23:00 in Tokyo.
        assert next_allowed(self.HOURS, [LONDON], utc(2025, 10, 1, 14)) is None
        assert next_allowed(self.HOURS, ["Asia/Tokyo"], utc(2025, 10, 1, 14)) == utc(
            2025, 10, 1, 23
        )

    def test_several_zones_must_all_be_inside(self) -> None:
        zones = ["America/New_York", "America/Los_Angeles"]
        # 12:30 UTC: 08:30 in New York, 05:30 in Los Angeles: wait for 08:00 in LA.
        assert next_allowed(self.HOURS, zones, utc(2025, 10, 1, 12, 30)) == utc(2025, 10, 1, 15)

    def test_across_the_dst_change(self) -> None:
        # Sunday 30 March 2025: 07:30 UTC is 08:30 BST, though it would be 07:30 GMT.
        assert next_allowed(self.HOURS, [LONDON], utc(2025, 3, 30, 7, 30)) is None
        assert next_allowed(self.HOURS, [LONDON], utc(2025, 3, 29, 7, 30)) == utc(2025, 3, 29, 8)

    def test_parse(self) -> None:
        assert str(CallingHours.parse("09:00-20:30")) == "09:00-20:30"
        for bad in ("9-", "21:00-08:00", "nonsense"):
            with pytest.raises(ValueError, match="calling hours"):
                CallingHours.parse(bad)


class TestKeypresses:
    def test_default_keys(self) -> None:
        flow, _ = parse_callflow({"message": "m", "sms": "s"})
        assert flow is not None
        assert [flow.stage_for(k) for k in ("1", "2", "3", "9", "", "7")] == [
            Stage.CORRECT_CALLEE,
            Stage.WRONG_CALLEE,
            Stage.OPT_IN,
            Stage.OPT_OUT,
            Stage.ANSWERED,
            Stage.ANSWERED,
        ]

    def test_a_flow_names_its_own_keys(self) -> None:
        flow, _ = parse_callflow(
            {"message": "m", "sms": "s", "keys": {5: "CallerRequestedCallBack"}}
        )
        assert flow is not None
        assert flow.stage_for("5") is Stage.CALLER_REQUESTED_CALL_BACK
        assert flow.stage_for("1") is Stage.ANSWERED  # the defaults are replaced, not merged

    def test_bad_keys_are_pointed_at(self) -> None:
        _, problems = parse_callflow(
            {"message": "m", "sms": "s", "keys": {"x": "OptIn", "1": "Nope"}}
        )
        assert set(problems) == {"keys.x", "keys.1"}


class TestTokenBucket:
    def test_rate_burst_and_when_the_next_tokens_come(self) -> None:
        start = utc(2025, 10, 1, 9)
        bucket = TokenBucket(10.0, start)
        assert bucket.available(start) == 10  # a second's worth to begin with
        bucket.take(10, start)
        assert bucket.available(start) == 0
        assert bucket.next_token_at(start) == start + timedelta(seconds=0.1)
        assert bucket.next_token_at(start, 5) == start + timedelta(seconds=0.5)
        assert bucket.next_token_at(start, 50) == start + timedelta(seconds=1)  # at most burst
        assert bucket.available(start + timedelta(seconds=0.55)) == 5
        assert bucket.available(start + timedelta(hours=1)) == 10

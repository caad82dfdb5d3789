from datetime import date, time

from dialer.domain.policy import AttemptRule, attempt_problems
from dialer.domain.schedule import RunoverDay, Schedule, Window, schedule_problems

NINE_TO_NOON = Window(time(9), time(12))


def test_a_window_must_end_after_it_starts() -> None:
    assert schedule_problems(Schedule(date(2025, 10, 1), NINE_TO_NOON)) == {}
    empty = Schedule(date(2025, 10, 1), Window(time(9), time(9)))
    assert "FinishTime" in schedule_problems(empty)


def test_runover_days_come_after_the_start_and_once_each() -> None:
    schedule = Schedule(
        date(2025, 10, 1),
        NINE_TO_NOON,
        (
            RunoverDay(date(2025, 10, 2), NINE_TO_NOON),
            RunoverDay(date(2025, 9, 30), NINE_TO_NOON),
            RunoverDay(date(2025, 10, 2), Window(time(13), time(12))),
        ),
    )
    problems = schedule_problems(schedule)
    assert set(problems) == {
        "RunoverDays[1].Date",
        "RunoverDays[2].Date",
        "RunoverDays[2].FinishTime",
    }


def test_schedule_days_start_with_the_first_day_then_runover_in_date_order() -> None:
    schedule = Schedule(
        date(2025, 10, 1),
        NINE_TO_NOON,
        (RunoverDay(date(2025, 10, 5), NINE_TO_NOON), RunoverDay(date(2025, 10, 3), NINE_TO_NOON)),
    )
    assert [d.day.day for d in schedule.days()] == [1, 3, 5]


def test_attempt_rules() -> None:
    assert attempt_problems((AttemptRule(1, 15), AttemptRule(2, 60))) == {}
    problems = attempt_problems((AttemptRule(1, 0), AttemptRule(3, 5)))
    assert set(problems) == {"Attempts[0].Interval", "Attempts[1].AttemptNumber"}
    too_many = tuple(AttemptRule(i + 1, 5) for i in range(21))
    assert "Attempts" in attempt_problems(too_many)

"""When a campaign may dial: its first day, runover days, and each day's window."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time


@dataclass(frozen=True, slots=True)
class Window:
    """A daily window, start inclusive and finish exclusive, in the tenant's local time."""

    start: time
    finish: time


@dataclass(frozen=True, slots=True)
class RunoverDay:
    day: date
    window: Window


@dataclass(frozen=True, slots=True)
class Schedule:
    start_date: date
    window: Window
    runover_days: tuple[RunoverDay, ...] = ()

    def days(self) -> tuple[RunoverDay, ...]:
        """Every dialling day in date order, the first day included."""
        first = RunoverDay(self.start_date, self.window)
        return (first, *sorted(self.runover_days, key=lambda d: d.day))


def window_problems(window: Window) -> list[str]:
    if window.finish <= window.start:
        return ["FinishTime must be later than StartTime on the same day."]
    return []


def runover_problems(start: date, days: Sequence[RunoverDay | None]) -> dict[str, list[str]]:
    """Rules of the runover days; ``None`` marks an entry unreadable, skipped but still counted."""
    problems: dict[str, list[str]] = {}
    seen: set[date] = set()
    for i, runover in enumerate(days):
        if runover is None:
            continue
        key = f"RunoverDays[{i}]"
        if runover.day <= start:
            problems.setdefault(f"{key}.Date", []).append(
                f"A runover day must come after the start date {start.isoformat()}."
            )
        if runover.day in seen:
            problems.setdefault(f"{key}.Date", []).append(
                f"{runover.day.isoformat()} is already a runover day."
            )
        seen.add(runover.day)
        for message in window_problems(runover.window):
            problems.setdefault(f"{key}.FinishTime", []).append(message)
    return problems


def schedule_problems(schedule: Schedule) -> dict[str, list[str]]:
    """Cross-field rules of a schedule, keyed by field path."""
    problems = runover_problems(schedule.start_date, schedule.runover_days)
    if window_problems(schedule.window):
        problems["FinishTime"] = window_problems(schedule.window)
    return problems

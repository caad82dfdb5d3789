"""Retry attempts and the answerphone / SMS-on-busy policies of a campaign."""

from dataclasses import dataclass
from enum import Enum

MAX_ATTEMPTS = 20
MAX_INTERVAL_MINUTES = 60 * 24 * 30


class MessagePolicy(Enum):
    """On which attempt to leave an answerphone message or send an SMS on busy (seed: 0, 1, 2)."""

    NEVER = 0
    ON_THE_FIRST_CALL = 1
    ON_THE_LAST_CALL = 2


@dataclass(frozen=True, slots=True)
class AttemptRule:
    """Attempt ``number`` (1-based); after it fails, wait ``interval_minutes`` before the next.

    The last rule's interval has no next attempt to delay; it is kept so the campaign reads back
    exactly as it was written.
    """

    number: int
    interval_minutes: int


def attempt_problems(rules: tuple[AttemptRule, ...]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if len(rules) > MAX_ATTEMPTS:
        problems["Attempts"] = [f"At most {MAX_ATTEMPTS} attempts per number are allowed."]
    for i, rule in enumerate(rules):
        if rule.interval_minutes < 1:
            problems.setdefault(f"Attempts[{i}].Interval", []).append(
                "The interval must be at least 1 minute."
            )
        elif rule.interval_minutes > MAX_INTERVAL_MINUTES:
            problems.setdefault(f"Attempts[{i}].Interval", []).append(
                f"The interval must be at most {MAX_INTERVAL_MINUTES} minutes (30 days)."
            )
        if rule.number != i + 1:
            problems.setdefault(f"Attempts[{i}].AttemptNumber", []).append(
                f"Attempt numbers must run 1, 2, 3, ... in order; expected {i + 1}."
            )
    return problems

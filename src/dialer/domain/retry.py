"""What happens after an attempt: another attempt later, or a final outcome.

| Outcome                    | Verdict | Why                                                    |
|----------------------------|---------|--------------------------------------------------------|
| Busy                       | retry   | the line was in use; the callee may be free later      |
| NoAnswer                   | retry   | nobody was there this time                             |
| AnswerphoneMessageNotLeft  | retry   | a machine answered and the policy kept us silent       |
| NoConnection               | retry   | the network (or a dead worker) failed, not the callee  |
| Overflow                   | retry   | congestion: our side or the carrier's ran out of room  |
| Unknown                    | retry   | an unexplained failure is treated as transient         |
| Answered                   | final   | the callee was reached                                 |
| AnswerphoneMessageLeft     | final   | the message was delivered                              |
| Unobtainable               | final   | the number is not in service                           |
| InvalidNumber              | final   | the number cannot be dialled                           |
| ExcludedNumber             | final   | on the do-not-call list                                |
| Fax                        | final   | a fax machine will not become a person                 |
| OutOfTime                  | final   | the campaign's last window has closed                  |
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from dialer.domain.codes import Outcome
from dialer.domain.policy import AttemptRule, MessagePolicy
from dialer.domain.records import quick_init

RETRYABLE = frozenset(
    {
        Outcome.BUSY,
        Outcome.NO_ANSWER,
        Outcome.ANSWERPHONE_MESSAGE_NOT_LEFT,
        Outcome.NO_CONNECTION,
        Outcome.OVERFLOW,
        Outcome.UNKNOWN,
    }
)
FINAL = frozenset(Outcome) - RETRYABLE


def max_attempts(rules: tuple[AttemptRule, ...]) -> int:
    """A campaign with no attempts list still calls each number once."""
    return max(1, len(rules))


@quick_init
@dataclass(frozen=True, slots=True)
class Verdict:
    retry_at: datetime | None  # None: the destination is done

    @property
    def final(self) -> bool:
        return self.retry_at is None


def after_attempt(
    rules: tuple[AttemptRule, ...], attempt_number: int, outcome: Outcome, ended_at: datetime
) -> Verdict:
    """Retry ``interval`` minutes after the attempt ended, while attempts remain."""
    if outcome in FINAL or attempt_number >= max_attempts(rules):
        return Verdict(None)
    interval = rules[attempt_number - 1].interval_minutes if rules else 0
    return Verdict(ended_at + timedelta(minutes=interval))


def message_due(policy: MessagePolicy, attempt_number: int, attempts: int) -> bool:
    """Whether this attempt is the one the answerphone or SMS-on-busy policy names."""
    if policy is MessagePolicy.ON_THE_FIRST_CALL:
        return attempt_number == 1
    if policy is MessagePolicy.ON_THE_LAST_CALL:
        return attempt_number >= attempts
    return False

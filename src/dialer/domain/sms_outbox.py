"""The SMS outbox's rules: what a queued text is, the statuses it goes through, when a refused
or unanswered submit is tried again, and what a multi-part text's receipts add up to.

The engine queues texts with the attempt that earned them (one transaction); the sender
(engine/sms_outbox.py) drains the outbox through the tenant's provider. docs/sms.md tells the
story; this module holds only the decisions, so the three stores apply them alike.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from dialer.domain.ids import TenantId
from dialer.domain.sms import DeliveryState


class SmsStatus(Enum):
    QUEUED = "queued"  # waiting for the sender (again, after a RETRY answer)
    SENT = "sent"  # the provider took it: provider ids and parts are known
    DELIVERED = "delivered"  # every part's receipt said delivered
    FAILED = "failed"  # refused at submit, or a part's final receipt was not delivered
    UNKNOWN = "unknown"  # written to the provider, no answer: waiting for a receipt


FINAL_STATUSES = frozenset({SmsStatus.DELIVERED, SmsStatus.FAILED})

# How long a text may wait for its first ACCEPTED answer before it is given up (FAILED): a
# reminder sent a day late does more harm than good.
EXPIRY = timedelta(hours=24)
FIRST_RETRY = timedelta(seconds=5)
LONGEST_RETRY = timedelta(minutes=10)
# How long a text whose submit got no answer waits for a receipt that shows the provider took
# it anyway, before it is sent again (docs/sms.md, "Lost answers").
UNKNOWN_GRACE = timedelta(minutes=10)
# A text claimed for submission whose sender died before the answer was stored: found due with
# its submit mark still set, it waits UNKNOWN_GRACE for a receipt (docs/sms.md).
STALLED = "the sender stopped mid-submit; waiting for a receipt"
# A cancelled campaign sends nothing more; a deleted one neither (docs/sms.md). A finished or
# paused one still sends what its calls earned.


def dropped_reason(deleted: bool, tried: bool) -> str:
    """Why a text due to be (re)submitted is FAILED instead: its campaign was cancelled or
    deleted. ``tried``: an earlier submit got no answer (it may have reached the phone)."""
    what = "deleted" if deleted else "cancelled"
    if tried:
        return f"not sent again: its campaign was {what} (an earlier submit got no answer)"
    return f"not sent: its campaign was {what}"


# The start of the text a receipt carries (SMPP's "text:" field holds 20 characters).
PREFIX_LENGTH = 20
MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class SmsText:
    """One text an attempt earned, as the engine queues it."""

    to: str  # E.164
    sender: str
    text: str


@dataclass(frozen=True, slots=True)
class ClaimedSms:
    """An outbox row a sender holds (until its lease ends) to submit."""

    id: int
    tenant_id: TenantId
    to: str
    sender: str
    text: str
    tries: int
    created_at: datetime
    status: SmsStatus  # QUEUED, or UNKNOWN when its grace ran out with no receipt


@dataclass(frozen=True, slots=True)
class SmsRecord:
    """A text as the results show it, on the attempt that earned it."""

    status: SmsStatus
    parts: int  # 0 until a provider took it
    provider: str | None
    reason: str  # the provider's words on a failure, or the last retry's
    provider_ids: tuple[str, ...] = ()
    updated_at: datetime | None = None


def retry_delay(tries: int, retry_after: float | None) -> timedelta:
    """How long after its ``tries``-th RETRY answer a text is submitted again: 5 s doubling up
    to 10 min, or longer when the provider said how long to wait."""
    doublings = min(max(tries - 1, 0), 20)
    backoff: timedelta = min(FIRST_RETRY * (1 << doublings), LONGEST_RETRY)
    if retry_after is not None and retry_after > 0:
        return max(backoff, timedelta(seconds=retry_after))
    return backoff


def expired(created_at: datetime, now: datetime) -> bool:
    return now - created_at >= EXPIRY


def final_status(states: list[DeliveryState | None]) -> SmsStatus | None:
    """What a text's parts' receipts (None: none yet, or only an intermediate one) make it:
    DELIVERED once every part is; FAILED as soon as one part ends undelivered; else None."""
    final = [s for s in states if s is not None and s is not DeliveryState.ENROUTE]
    if any(s is not DeliveryState.DELIVERED for s in final):
        return SmsStatus.FAILED
    if states and len(final) == len(states):
        return SmsStatus.DELIVERED
    return None


def receipt_reason(state: DeliveryState, error: str) -> str:
    reason = state.value if not error else f"{state.value}: {error}"
    return reason[:MAX_REASON]


def prefix_matches(text: str, prefix: str | None) -> bool:
    """Whether a receipt's text prefix can be the start of ``text`` (SMPP carries at most 20
    characters, some carriers fewer; an empty prefix matches nothing)."""
    return bool(prefix) and text.startswith(prefix or "")


# The words that opt a person out of texts, as carriers treat them (CTIA's list): the whole
# text, any case, surrounding spaces and a final full stop or exclamation mark ignored.
OPT_OUT_WORDS = frozenset({"STOP", "STOP ALL", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})


def is_opt_out(text: str) -> bool:
    words = " ".join(text.split()).upper().rstrip(".!")
    return words in OPT_OUT_WORDS


# A long text cut mid-way (docs/sms.md, "A long text cut mid-way"): some parts taken, one in
# doubt. It is never sent again whole (the parts taken would reach the phone twice).


def part_prefix_matches(text: str, prefix: str | None) -> bool:
    """Whether a receipt's text prefix can be a later part's of ``text``: anywhere in it. SMSCs
    quote either the part's own start or the whole text's, and which part it is cannot be
    known where receipts are matched (the split is the provider's)."""
    return bool(prefix) and (prefix or "") in text


def first_missing(taken: set[int], parts: int) -> int | None:
    """The first part of ``parts`` with no provider id: the one in doubt (a provider stops at
    the first part it got no answer for, so the later ones were never sent)."""
    return next((n for n in range(parts) if n not in taken), None)


def doubt_reason(part: int, parts: int, why: str) -> str:
    return f"part {part + 1} of {parts} in doubt: {why}"[:MAX_REASON]


def padded(states: list[DeliveryState | None], parts: int) -> list[DeliveryState | None]:
    """A cut text's part states with its parts in doubt as 'no receipt yet': it is DELIVERED
    only once every part is, never on the parts taken alone."""
    return states + [None] * max(parts - len(states), 0)


GIVEN_UP = (
    "no answer and no receipt within the grace; not sent again (the parts taken would be doubled)"
)

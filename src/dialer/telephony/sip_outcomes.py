"""The one table from what a SIP carrier answers to the seed's call Outcomes.

Every unanswered SIP call ends in exactly one of these readings; the raw status line (or the
transport error, or which timer fired) is kept with the attempt as its cause, so a carrier's
odd mapping can be audited later without re-dialling.
"""

import re

from dialer.domain.codes import Outcome

# Final responses, by status code (RFC 3261 section 21 and common carrier practice).
STATUS_OUTCOMES: dict[int, Outcome] = {
    486: Outcome.BUSY,  # Busy Here
    600: Outcome.BUSY,  # Busy Everywhere
    404: Outcome.UNOBTAINABLE,  # Not Found: the number does not exist
    410: Outcome.UNOBTAINABLE,  # Gone: a number that used to exist
    604: Outcome.UNOBTAINABLE,  # Does Not Exist Anywhere
    484: Outcome.INVALID_NUMBER,  # Address Incomplete
    485: Outcome.INVALID_NUMBER,  # Ambiguous
    408: Outcome.NO_ANSWER,  # Request Timeout: the far end rang out
    480: Outcome.NO_ANSWER,  # Temporarily Unavailable: switched off, no answer
    503: Outcome.OVERFLOW,  # Service Unavailable: the carrier or a trunk is congested
}

# What the driver writes as the cause when no status line ended the call.
RING_TIMEOUT_CAUSE = "ring timeout: CANCEL sent after {seconds:g} s"
# RFC 3261 9.1: no CANCEL before a provisional response; the stack stops retransmitting the
# INVITE instead, and a late answer to it is left unanswered.
NO_PROVISIONAL_CAUSE = "no provisional response within {seconds:g} s: INVITE abandoned"
SIT_CAUSE = "SIT {code} in early media: CANCEL sent"

# Special information tones heard in early media (ANSI T1.209 codes, telephony.detection):
# no circuit and reorder are congestion; intercept and vacant code say the number is not in
# service; the rest (ineffective other, reserved codes) say only that the call failed.
SIT_OUTCOMES: dict[str, Outcome] = {
    "NC": Outcome.OVERFLOW,
    "RO": Outcome.OVERFLOW,
    "IC": Outcome.UNOBTAINABLE,
    "VC": Outcome.UNOBTAINABLE,
}

_STATUS_LINE = re.compile(r"^(?:SIP/2\.0 )?([1-6]\d\d)\b")


def status_of(reason: str) -> int | None:
    """The SIP status code at the head of a close reason ("486 Busy Here"), if there is one."""
    match = _STATUS_LINE.match(reason.strip())
    return int(match.group(1)) if match else None


def outcome_for_status(status: int) -> Outcome:
    """A final SIP status's Outcome; any status the table does not name is Unknown."""
    return STATUS_OUTCOMES.get(status, Outcome.UNKNOWN)


def outcome_for_sit(code: str) -> Outcome:
    return SIT_OUTCOMES.get(code, Outcome.UNKNOWN)


def outcome_for_close(reason: str) -> Outcome:
    """The Outcome of a call that closed unanswered, from the stack's close reason.

    A reason with no status code is a transport failure (no route, refused, the INVITE
    transaction timed out with no answer at all): the call never reached the carrier.
    """
    status = status_of(reason)
    if status is None:
        return Outcome.NO_CONNECTION
    return outcome_for_status(status)

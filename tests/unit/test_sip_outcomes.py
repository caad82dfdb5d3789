"""The table from SIP answers to Outcomes, as the issue and docs/sip.md give it."""

import pytest

from dialer.domain.codes import Outcome
from dialer.telephony.sip_outcomes import outcome_for_close, outcome_for_sit, status_of


@pytest.mark.parametrize(
    ("reason", "outcome"),
    [
        ("486 Busy Here", Outcome.BUSY),
        ("600 Busy Everywhere", Outcome.BUSY),
        ("404 Not Found", Outcome.UNOBTAINABLE),
        ("410 Gone", Outcome.UNOBTAINABLE),
        ("604 Does Not Exist Anywhere", Outcome.UNOBTAINABLE),
        ("484 Address Incomplete", Outcome.INVALID_NUMBER),
        ("485 Ambiguous", Outcome.INVALID_NUMBER),
        ("408 Request Timeout", Outcome.NO_ANSWER),
        ("480 Temporarily Unavailable", Outcome.NO_ANSWER),
        ("503 Service Unavailable", Outcome.OVERFLOW),
        ("502 Bad Gateway", Outcome.UNKNOWN),
        ("403 Forbidden", Outcome.UNKNOWN),
        ("603 Decline", Outcome.UNKNOWN),
        ("Connection timed out [110]", Outcome.NO_CONNECTION),
        ("Connection refused [111]", Outcome.NO_CONNECTION),
        ("", Outcome.NO_CONNECTION),
    ],
)
def test_every_close_reason_reads_as_one_outcome(reason: str, outcome: Outcome) -> None:
    assert outcome_for_close(reason) is outcome


def test_status_is_read_only_from_the_head_of_the_reason() -> None:
    assert status_of("SIP/2.0 486 Busy Here") == 486
    assert status_of("Connection reset after 486 bytes") is None
    assert status_of("4860 nonsense") is None


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("NC", Outcome.OVERFLOW),
        ("RO", Outcome.OVERFLOW),
        ("IC", Outcome.UNOBTAINABLE),
        ("VC", Outcome.UNOBTAINABLE),
        ("IO", Outcome.UNKNOWN),
        ("SIT", Outcome.UNKNOWN),
    ],
)
def test_special_information_tones_read_as_outcomes(code: str, outcome: Outcome) -> None:
    assert outcome_for_sit(code) is outcome

"""What a page of a campaign's numbers is asked by, and what each of its rows holds."""

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from dialer.domain.campaign import StoredNumber
from dialer.domain.codes import Outcome, Stage


@dataclass(frozen=True, slots=True)
class NumberFilter:
    """Every given part must hold (AND); None leaves that part open.

    ``number_prefix`` is an E.164 prefix (``+4477``); ``name_contains`` a case-insensitive
    substring of the name; ``final``: True for numbers that will not be dialled again (done or
    cancelled), False for those still waiting or on a call.
    """

    number_prefix: str | None = None
    name_contains: str | None = None
    outcome: Outcome | None = None
    stage: Stage | None = None
    final: bool | None = None


class NumberRow(NamedTuple):
    stored: StoredNumber
    final: bool
    # When the engine may dial it next (None: not queued; now or earlier: as soon as it can).
    next_attempt_at: datetime | None

"""What a telephone network tells the engine about one call: how it was answered, or why not.

The drivers (simulated network, SIP) speak these types, so the engine never sees a SIP status
or a simulator's dice; each driver keeps its raw cause for the attempt's record.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from dialer.domain.amd_mode import AmdMode
from dialer.domain.codes import Outcome
from dialer.domain.records import quick_init


class AnsweredBy(Enum):
    HUMAN = "human"
    MACHINE = "machine"
    FAX = "fax"


class CallNotPlaced(Exception):
    """The driver could not place the call: nothing left this process (no free line in the SIP
    stack, a full command queue). Not the network's answer, so it is no attempt: the engine
    gives the destination back to the queue, to be dialled again later."""


@quick_init
@dataclass(frozen=True, slots=True)
class OriginateRequest:
    number: str  # E.164
    caller_id: str
    ring_timeout: timedelta
    reference: str  # "<destination id>:<attempt number>", carried into logs and SIP headers
    # When the engine claimed the call: the shared limits count claims (domain/limits.py).
    claimed_at: datetime | None = None
    # False: report the answer at once as HUMAN, with no answering-machine detection (an agent
    # campaign that bridges on answer: the agent hears the greeting and judges it).
    detect_answer: bool = True
    # What the detector does when not sure: the campaign's detection mode.
    amd_mode: AmdMode = AmdMode.PREFER_PEOPLE


@quick_init
@dataclass(frozen=True, slots=True)
class Answered:
    originated_at: datetime
    answered_at: datetime
    by: AnsweredBy


@quick_init
@dataclass(frozen=True, slots=True)
class Failed:
    """The call ended before anyone answered; ``outcome`` is the driver's reading of ``cause``."""

    originated_at: datetime | None
    ended_at: datetime
    outcome: Outcome
    cause: str


@quick_init
@dataclass(frozen=True, slots=True)
class Hangup:
    """How an answered call ended."""

    ended_at: datetime
    cause: str
    by_callee: bool


class BridgeEnd(Enum):
    """Why a customer's bridge to an agent ended."""

    CUSTOMER_LEFT = "customer"  # the customer hung up
    AGENT_LEFT = "agent"  # the agent's phone leg ended (the session is over)
    RELEASED = "released"  # the dialer ended it (the agent hung the customer up from the desk)

"""The abandoned-call rules a tenant dials under (docs/compliance.md), and a campaign's tally of
live and abandoned calls in the rules' window, with the budget of abandons it has left.

An abandoned call is a call answered by a person (or not judged a machine) that is not
connected to an agent within ``connect_within`` (UK: of the answer; US: of the end of the
person's greeting). It is recorded with Stage CallDropped and hears the information message.
The rate is abandoned calls over live calls (the abandoned ones included) per campaign over the
window: any rolling 24 hours (UK, Ofcom) or 30 days (US, FCC 47 CFR 64.1200(a)(7)). Under the
UK rule the detector's false machines (people it judged machines, hung up on or played a
message) are abandoned calls too: ``Tally`` adds an estimate of them from the measured
false-machine rate to both sides.

The pacer never aims at the regulator's ``limit`` itself but at the tenant's ``target`` (at
most the limit), and its guarantee is stated against the target (docs/pacing.md).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from dialer.domain.amd_measured import FALSE_MACHINE_RATE
from dialer.domain.amd_mode import AmdMode

REGULATORY_LIMIT = 0.03  # both regimes: 3% of live calls
# The detector's share of people it judges machines, as last measured on held-out recordings
# in its default mode (amd_measured.py, from bench/amd_tune.py; issue 16). A tenant whose own
# measurement differs sets its own.
MEASURED_FALSE_MACHINE_RATE = FALSE_MACHINE_RATE[AmdMode.PREFER_PEOPLE]
# What tenants were given before (0.083: before the per-mode measurement, and what the column
# still defaults to; 0.1289: the measurement of 2026-11-29 to 2026-11-30): like the current
# measurement, each stands for "the project's figure", not the tenant's, so a tenant that was
# given one follows the measurement when it is taken again.
_PAST_PROJECT_FIGURES = (0.083, 0.1289)
_PROJECT_FIGURES = frozenset({*_PAST_PROJECT_FIGURES, MEASURED_FALSE_MACHINE_RATE})


class Regime(StrEnum):
    UK = "uk"  # Ofcom persistent-misuse policy: the default for GB tenants
    US = "us"  # FCC 47 CFR 64.1200(a)(6)-(7) and the FTC's TSR safe harbour
    NONE = "none"  # no regime: customers wait up to the campaign's maxWait, nothing counted


@dataclass(frozen=True, slots=True)
class InfoMessage:
    """What an abandoned call hears: spoken by espeak-ng from ``text``, or a stored recording
    (``recording``, a call-flow audio id) when one is given."""

    text: str
    recording: str | None = None


@dataclass(frozen=True, slots=True)
class ComplianceSettings:
    """A tenant's choices (a campaign may override ``target`` and ``message``)."""

    regime: Regime = Regime.UK
    target: float = REGULATORY_LIMIT  # fraction of live calls, at most the regime's limit
    message: InfoMessage | None = None
    # US: the key that adds the number to the tenant's DNC list during the message.
    opt_out_key: str = "9"
    # Attempts to one number across all the tenant's campaigns in any 24 hours; None: no cap.
    attempts_per_day: int | None = None
    false_machine_rate: float = MEASURED_FALSE_MACHINE_RATE


@dataclass(frozen=True, slots=True)
class AbandonRules:
    regime: Regime
    limit: float  # the regulator's ceiling
    target: float  # what pacing keeps the rate under (<= limit)
    window: timedelta
    connect_within: timedelta
    from_greeting_end: bool  # US: the 2 s run from the end of the greeting, not the answer
    message_required: bool
    opt_out_by_key: bool  # US: the message offers a key that opts the number out
    redial_lockout: timedelta | None  # UK: 72 h, then only with an agent reserved first
    false_machine_rate: float  # UK: counted as abandoned; 0 elsewhere

    @property
    def enforced(self) -> bool:
        return self.regime is not Regime.NONE


# Where Ofcom's policy and the FCC's rule apply: the UK with the Crown Dependencies (UK
# numbering), and the US with its territories (NANP, FCC jurisdiction).
_UK_REGIONS = frozenset({"GB", "GG", "JE", "IM"})
_US_REGIONS = frozenset({"US", "PR", "GU", "VI", "AS", "MP"})


def default_regime(region: str) -> Regime:
    """A new tenant's regime from its region (docs/compliance.md): Ofcom's for the UK, the
    FCC's for the US; elsewhere none, since neither is the law there: the tenant chooses."""
    code = region.upper()
    if code in _UK_REGIONS:
        return Regime.UK
    return Regime.US if code in _US_REGIONS else Regime.NONE


def stored_false_machine_rate(stored: float) -> float:
    """A tenant's rate as a store keeps it: the project's figure of before (the column's
    default, 0.083) is read as today's measured one, so a tenant that never set its own sees
    the same on every store (the memory store starts from ComplianceSettings' default)."""
    return MEASURED_FALSE_MACHINE_RATE if stored in _PROJECT_FIGURES else stored


def false_machine_rate_for(settings: ComplianceSettings, mode: AmdMode) -> float:
    """The tenant's own false-machine rate, or, while it holds the project's figure, the rate
    measured for the campaign's detection mode."""
    own = settings.false_machine_rate
    return FALSE_MACHINE_RATE[mode] if own in _PROJECT_FIGURES else own


def rules_for(
    settings: ComplianceSettings,
    target: float | None = None,
    mode: AmdMode = AmdMode.PREFER_PEOPLE,
) -> AbandonRules:
    """The rules of ``settings.regime``, aimed at ``target`` (a campaign's own) or the
    tenant's, never above the regulator's limit; ``mode``: the campaign's detection mode,
    whose measured false-machine rate the UK rule counts unless the tenant set its own."""
    aim = min(REGULATORY_LIMIT, target if target is not None else settings.target)
    if settings.regime is Regime.UK:
        return AbandonRules(
            regime=Regime.UK,
            limit=REGULATORY_LIMIT,
            target=aim,
            window=timedelta(hours=24),
            connect_within=timedelta(seconds=2),
            from_greeting_end=False,
            message_required=True,
            opt_out_by_key=False,
            redial_lockout=timedelta(hours=72),
            false_machine_rate=false_machine_rate_for(settings, mode),
        )
    if settings.regime is Regime.US:
        return AbandonRules(
            regime=Regime.US,
            limit=REGULATORY_LIMIT,
            target=aim,
            window=timedelta(days=30),
            connect_within=timedelta(seconds=2),
            from_greeting_end=True,
            message_required=True,
            opt_out_by_key=True,
            redial_lockout=None,
            false_machine_rate=0.0,
        )
    return AbandonRules(
        regime=Regime.NONE,
        limit=1.0,
        target=1.0,
        window=timedelta(hours=24),
        connect_within=timedelta(seconds=5),
        from_greeting_end=False,
        message_required=False,
        opt_out_by_key=False,
        redial_lockout=None,
        false_machine_rate=0.0,
    )


@dataclass(frozen=True, slots=True)
class Tally:
    """One campaign's calls in the window: ``live`` answered by a person or not judged a
    machine (abandoned ones included), ``abandoned`` of them CallDropped, and ``machines``
    judged machines by the detector (where some people hide, under the UK rule)."""

    live: int = 0
    abandoned: int = 0
    machines: int = 0

    def false_machines(self, rules: AbandonRules) -> float:
        """The estimated people among ``machines``: a false-machine rate f means f of all
        people were judged machines, so for L people heard there were L f / (1 - f) more."""
        f = rules.false_machine_rate
        if f <= 0 or self.machines == 0:
            return 0.0
        return min(float(self.machines), self.live * f / (1.0 - f))

    def rate(self, rules: AbandonRules) -> float:
        """The abandoned-call rate as the regime counts it (0 with no live call)."""
        extra = self.false_machines(rules)
        live = self.live + extra
        return 0.0 if live <= 0 else (self.abandoned + extra) / live

    def budget(self, rules: AbandonRules) -> float:
        """How many more abandoned calls keep the rate at or under the target: each adds one
        to both sides, so k may be added while (A + k) / (L + k) <= t, that is
        k <= (t L - A) / (1 - t). Negative when already over."""
        extra = self.false_machines(rules)
        t = rules.target
        if t >= 1.0:
            return math.inf
        return (t * (self.live + extra) - (self.abandoned + extra)) / (1.0 - t)

    def plus(self, live: int = 0, abandoned: int = 0, machines: int = 0) -> "Tally":
        return Tally(self.live + live, self.abandoned + abandoned, self.machines + machines)


@dataclass(frozen=True, slots=True)
class RecentCalls:
    """One number's calls by a tenant (any of its campaigns) that ended at or after the
    query's ``since`` (the screening asks 72 hours back): their end times, oldest first, and
    the end of the last abandoned one. One query gives both rules their input: the 72-hour
    rule reads ``last_abandoned_at``, the per-24-hour cap counts ``ended`` within a day."""

    ended: tuple[datetime, ...] = ()
    last_abandoned_at: datetime | None = None

    @property
    def attempts(self) -> int:
        return len(self.ended)

    def within(self, now: datetime, span: timedelta) -> tuple[datetime, ...]:
        """The calls that ended in the ``span`` before ``now`` (after ``now - span``)."""
        start = now - span
        return tuple(at for at in self.ended if at > start)


class PacingStatus(NamedTuple):
    """A campaign's latest pacing decision as the engine saved it (at most every 5 s), and
    what it saw: the campaign's agents ready, its calls ringing and its answered calls waiting
    for an agent (None: saved before these were kept)."""

    ratio: float
    reason: str
    at: datetime
    agents_ready: int | None = None
    ringing: int | None = None
    waiting: int | None = None

"""The simulated call centre the pacing simulator runs: a simulated-network profile
(telephony/profiles/call-centre.yaml by default; docs/pacing.md, "The profile") read as the
per-dial chances and the durations the simulator draws."""

import math
import random

from dialer.domain.call import AnsweredBy
from dialer.telephony.sim_profile import CallFate, SimProfile

FAILURES = (
    CallFate.BUSY,
    CallFate.UNOBTAINABLE,
    CallFate.INVALID,
    CallFate.NETWORK_FAILURE,
    CallFate.CONGESTION,
)
# The answering-machine detector's verdict after the answer (the engine's detection, not the
# network's: the profile has no place for it).
MACHINE_VERDICT_SECONDS = 2.5


class Centre:
    """Per dial: a person answers with ``person_rate``, a machine (or fax) with
    ``machine_rate`` (its verdict ``machine_verdict_seconds`` after the answer; no agent is
    needed), a failure with ``failure_rate`` after the profile's setup time; the rest ring
    out after its ring-out time. People and machines answer after its ring time; agents talk
    its talk time and wrap up its wrap-up time. ``hostile_rate``: the person rate from half-way
    through the shift (None: unchanged), machines and failures keeping theirs."""

    def __init__(
        self,
        profile: SimProfile | None = None,
        hostile_rate: float | None = None,
        machine_verdict_seconds: float = MACHINE_VERDICT_SECONDS,
    ) -> None:
        self.profile = profile if profile is not None else SimProfile.shipped("call-centre")
        self.hostile_rate = hostile_rate
        self.machine_verdict_seconds = machine_verdict_seconds
        outcomes = self.profile.outcomes
        answered = outcomes[CallFate.ANSWER]
        self.person_rate = answered * self.profile.answered_by[AnsweredBy.HUMAN]
        self.machine_rate = answered - self.person_rate
        self.failure_rate = math.fsum(outcomes[f] for f in FAILURES)
        if hostile_rate is not None:
            self.profile.with_person_rate(hostile_rate)  # raises if it does not fit

    @classmethod
    def call_centre(cls, person_rate: float | None = None) -> "Centre":
        """The shipped call-centre profile, at its person rate (0.30) or ``person_rate``."""
        profile = SimProfile.shipped("call-centre")
        if person_rate is not None:
            profile = profile.with_person_rate(person_rate)
        return cls(profile)

    def with_person_rate(self, rate: float) -> "Centre":
        return Centre(self.profile.with_person_rate(rate), None, self.machine_verdict_seconds)

    def hostile(self, rate_after: float = 0.40) -> "Centre":
        """The hostile profile: this one until half-way through the shift, then people answer
        ``rate_after`` of dials (a pacer that trusts its history over-dials)."""
        return Centre(self.profile, rate_after, self.machine_verdict_seconds)

    def ring_time(self, rng: random.Random) -> float:
        return self.profile.ring_seconds.at(rng.random())

    def ring_out_time(self, rng: random.Random) -> float:
        return self.profile.ring_out_seconds.at(rng.random())

    def failure_time(self, rng: random.Random) -> float:
        return self.profile.setup_seconds.at(rng.random())

    def talk_time(self, rng: random.Random) -> float:
        return self.profile.agents.talk_at(rng.random(), rng.random())

    def wrap_up_time(self, rng: random.Random) -> float:
        return self.profile.agents.wrap_up_seconds.at(rng.random())

"""The simulated call centre the pacing simulator runs (the numbers of the call-centre profile,
telephony/profiles/call-centre.yaml, as plain data; docs/pacing.md, "The profile")."""

import math
import random
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Band:
    """A share of answers coming uniformly between ``low`` and ``high`` seconds of ringing."""

    weight: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Centre:
    """Per dial: a person answers with ``person_rate``, an answering machine with
    ``machine_rate`` (its verdict ``machine_verdict_seconds`` after the answer; no agent
    needed), a failure (busy, unobtainable, network) with ``failure_rate`` ending after
    ``failure_seconds``; the rest ring out at ``ring_out_seconds``. People and machines answer
    after a ring time drawn from ``answer_bands``. Agents talk a lognormal time (mean
    ``talk_mean``, sigma of the log ``talk_sigma``) then wrap up ``wrap_up`` seconds.
    ``hostile_rate``: the person rate from half-way through the shift (None: unchanged)."""

    person_rate: float = 0.30
    machine_rate: float = 0.15
    machine_verdict_seconds: float = 2.5
    failure_rate: float = 0.10
    failure_seconds: tuple[float, float] = (2.0, 5.0)
    ring_out_seconds: float = 25.0
    answer_bands: tuple[Band, ...] = (
        Band(0.05, 0.0, 1.0),
        Band(0.55, 6.0, 10.0),
        Band(0.40, 18.0, 22.0),
    )
    talk_mean: float = 180.0
    talk_sigma: float = 1.2
    wrap_up: float = 15.0
    hostile_rate: float | None = None

    def with_person_rate(self, rate: float) -> "Centre":
        return replace(self, person_rate=rate)

    def hostile(self, rate_after: float = 0.40, rate_before: float = 0.15) -> "Centre":
        """The hostile profile: people answer at ``rate_before`` until half-way through the
        shift, then at ``rate_after`` (a pacer that trusts its history over-dials)."""
        return replace(self, person_rate=rate_before, hostile_rate=rate_after)

    @property
    def talk_median(self) -> float:
        return self.talk_mean / math.exp(self.talk_sigma**2 / 2)

    def ring_time(self, rng: random.Random) -> float:
        u = rng.random() * sum(b.weight for b in self.answer_bands)
        for band in self.answer_bands:
            if u < band.weight:
                return band.low + (band.high - band.low) * rng.random()
            u -= band.weight
        last = self.answer_bands[-1]
        return last.low + (last.high - last.low) * rng.random()

    def talk_time(self, rng: random.Random) -> float:
        return rng.lognormvariate(math.log(self.talk_median), self.talk_sigma)

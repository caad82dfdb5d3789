"""Expected abandons for the predictive pacer: E[max(D + B, 0)], where D is the people still to
answer less the agents to be free (a sum of independent Bernoulli terms) and B the people
among n new lines (binomial). Exact for a small floor, normal beyond (docs/pacing.md)."""

import math
from collections.abc import Callable, Sequence

# Ringing calls plus busy agents up to which the distribution is convolved exactly (a few
# hundred operations); above it the normal approximation is both close and cheap.
EXACT_UP_TO = 24


def expected_excess(mean: float, variance: float) -> float:
    """E[max(D, 0)] for D normal with ``mean`` and ``variance``."""
    if variance <= 1e-12:
        return max(mean, 0.0)
    sd = math.sqrt(variance)
    z = mean / sd
    cdf = 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))
    pdf = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return mean * cdf + sd * pdf


def normal_excess(mean: float, variance: float, p: float) -> Callable[[int], float]:
    """Expected excess with n new lines, D and B taken as normal."""

    def at(n: int) -> float:
        return expected_excess(mean + n * p, variance + n * p * (1.0 - p))

    return at


def exact_excess(
    start: int, people: Sequence[float], agents: Sequence[float], p: float
) -> Callable[[int], float]:
    """Expected excess with n new lines, exactly: D = ``start`` (waiting less ready) plus one
    Bernoulli per ringing call (``people``, +1) and per busy agent (``agents``, -1)."""
    low = start - len(agents)
    mass = [0.0] * (len(people) + len(agents) + 1)
    mass[start - low] = 1.0
    for q in people:
        for i in range(len(mass) - 1, 0, -1):
            mass[i] = mass[i] * (1.0 - q) + mass[i - 1] * q
        mass[0] *= 1.0 - q
    for q in agents:
        for i in range(len(mass) - 1):
            mass[i] = mass[i] * (1.0 - q) + mass[i + 1] * q
        mass[-1] *= 1.0 - q
    # tail[i], moment[i]: probability of D >= low + i, and E[D; D >= low + i].
    size = len(mass)
    tail = [0.0] * (size + 1)
    moment = [0.0] * (size + 1)
    for i in range(size - 1, -1, -1):
        tail[i] = tail[i + 1] + mass[i]
        moment[i] = moment[i + 1] + mass[i] * (low + i)

    def shifted(k: int) -> float:
        """E[max(D + k, 0)]."""
        i = min(size, max(0, -k - low))
        return moment[i] + k * tail[i]

    def at(n: int) -> float:
        if n == 0 or p <= 0.0:
            return shifted(0)
        if p >= 1.0:
            return shifted(n)
        total = 0.0
        pmf = (1.0 - p) ** n
        ratio = p / (1.0 - p)
        for b in range(n + 1):
            total += pmf * shifted(b)
            pmf *= ratio * (n - b) / (b + 1)
        return total

    return at

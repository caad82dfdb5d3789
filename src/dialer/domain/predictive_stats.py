"""What a campaign's recent calls tell the predictive pacer (docs/pacing.md, "The model").

Two estimates, both following recent change and both starting from a stated prior:

- **Ringing calls**: the chance that a call still ringing after ``e`` seconds will be answered
  by a person, from the ring times and results of recent dials (an exponentially weighted
  histogram of 1-second bins, so a jump in the answer rate is followed within a few hundred
  dials). Prior: ``PRIOR_DIALS`` pseudo-dials answered by a person with probability
  ``PRIOR_PERSON_RATE`` spread evenly over ``PRIOR_RING_SECONDS``: pessimistic on purpose, as
  an over-estimate of people only dials less.
- **Busy agents**: the chance that an agent ``t`` seconds into a call (talk and wrap-up) is
  free within ``h`` more seconds, from the last ``HANDLE_SAMPLES`` handle times (empirical,
  no shape assumed). Prior: no agent frees (probability 0) until ``MIN_HANDLED`` calls were
  handled, again the side that dials less.
"""

from bisect import bisect_right, insort
from collections import deque
from itertools import accumulate

RING_BINS = 64  # 1-second bins; a ring time beyond the last bin counts in the last
# About the last 250 dials weigh most: a team of 100 dials that many in about 3 minutes,
# a team of 5 in about an hour (the governor covers what the estimate has not caught up on).
RING_MEMORY = 250.0
PRIOR_DIALS = 20.0
PRIOR_PERSON_RATE = 0.5
PRIOR_RING_SECONDS = (2, 25)
HANDLE_SAMPLES = 400
# Handle times are counted in 1-second bins up to here (longer ones in the last bin): the
# free probability is then two list lookups per busy agent, not two searches.
HANDLE_BINS = 7200
MIN_HANDLED = 20
# An agent further into a call than all but this many recent calls: the tail is unknown, so
# the pacer counts them as not freeing.
MIN_TAIL = 5
_RESCALE_AT = 1e100


class CampaignStats:
    """What a campaign's recent calls tell the model: fed by the engine (or the simulator) as
    calls end, read by ``Pacer.decide``."""

    def __init__(self, prior_dials: float = PRIOR_DIALS, memory: float = RING_MEMORY) -> None:
        """``prior_dials``: the prior's weight in dials; ``memory``: about how many recent
        dials the ring estimates weigh (math.inf: all alike)."""
        # Weight of the next observation; grows by 1/decay per observation so older ones
        # weigh geometrically less without touching the arrays (rescaled before overflow).
        self._weight = 1.0
        self._grow = 1.0 / (1.0 - 1.0 / memory)
        self._ended = [0.0] * RING_BINS
        self._person = [0.0] * RING_BINS
        self._person_ring_sum = 0.0
        self._person_total = 0.0
        low, high = PRIOR_RING_SECONDS
        share = prior_dials / (high - low)
        for second in range(low, high):
            self._ended[second] += share
            self._person[second] += share * PRIOR_PERSON_RATE
            self._person_ring_sum += share * PRIOR_PERSON_RATE * (second + 0.5)
            self._person_total += share * PRIOR_PERSON_RATE
        self.dials = 0
        self._survival: tuple[list[float], list[float]] | None = None
        self._handles: deque[int] = deque()
        self._handle_bins = [0] * HANDLE_BINS
        self._done_by: list[int] | None = None  # samples ending at or before each second
        self._memos: dict[int, dict[int, float]] = {}  # by whole horizon
        self._fresh = 0  # handled calls since the memo was refreshed
        self._wraps: deque[float] = deque()  # recent wrap-ups, in the order they ended
        self._wraps_sorted: list[float] = []
        self._wrap_sum = 0.0

    # -- feeding -------------------------------------------------------------------------

    def dial_ended(self, ring_seconds: float, person: bool) -> None:
        """A placed call's first result: answered by a person after ``ring_seconds``
        (person=True), or anything else (machine, busy, no answer, failure) after
        ``ring_seconds`` of ringing."""
        b = min(RING_BINS - 1, max(0, int(ring_seconds)))
        w = self._weight
        self._ended[b] += w
        if person:
            self._person[b] += w
            self._person_ring_sum += w * ring_seconds
            self._person_total += w
        self.dials += 1
        self._weight = w * self._grow
        if self._weight > _RESCALE_AT:
            self._rescale(1.0 / self._weight)
        self._survival = None

    def handled(self, seconds: float) -> None:
        """One agent call's talk and wrap-up, from bridge to the agent's next ready."""
        if len(self._handles) >= HANDLE_SAMPLES:
            self._handle_bins[self._handles.popleft()] -= 1
        b = min(HANDLE_BINS - 1, max(0, int(seconds)))
        self._handles.append(b)
        self._handle_bins[b] += 1
        self._fresh += 1
        # A new sample hardly moves a distribution of hundreds: the memoised probabilities
        # are refreshed after a twentieth of the samples is new.
        if self._fresh >= max(1, len(self._handles) // 20):
            self._done_by = None
            self._fresh = 0

    def wrapped(self, seconds: float) -> None:
        """One agent's wrap-up, from its customer's hang-up to its next ready (fed, with
        ``handled``, by a caller that tells the pacer which agents are in wrap-up)."""
        if len(self._wraps) >= HANDLE_SAMPLES:
            old = self._wraps.popleft()
            del self._wraps_sorted[bisect_right(self._wraps_sorted, old) - 1]
            self._wrap_sum -= old
        self._wraps.append(seconds)
        insort(self._wraps_sorted, seconds)
        self._wrap_sum += seconds

    def _rescale(self, factor: float) -> None:
        self._ended = [v * factor for v in self._ended]
        self._person = [v * factor for v in self._person]
        self._person_ring_sum *= factor
        self._person_total *= factor
        self._weight *= factor

    # -- reading -------------------------------------------------------------------------

    def _tails(self) -> tuple[list[float], list[float]]:
        """For each bin b: the weight of dials (and of person answers) ending at b or later."""
        if self._survival is None:
            ended = [0.0] * (RING_BINS + 1)
            person = [0.0] * (RING_BINS + 1)
            for b in range(RING_BINS - 1, -1, -1):
                ended[b] = ended[b + 1] + self._ended[b]
                person[b] = person[b + 1] + self._person[b]
            self._survival = (ended, person)
        return self._survival

    def person_rate(self) -> float:
        """The chance that a new dial is answered by a person."""
        ended, person = self._tails()
        return person[0] / ended[0] if ended[0] > 0 else PRIOR_PERSON_RATE

    def person_probabilities(
        self, elapsed: tuple[float, ...], within: int | None = None
    ) -> list[float]:
        """For each ringing call, by seconds since placed: the chance it is still to be
        answered by a person (within ``within`` more whole seconds; None: ever), given that it
        has neither been answered nor ended yet. A call in second b has not ended in the
        seconds before b; its own second and the last one counted whole over-state the people
        a little (the safe side)."""
        ended, person = self._tails()
        out = []
        for e in elapsed:
            b = min(RING_BINS - 1, max(0, int(e)))
            alive = ended[b]
            until = RING_BINS if within is None else min(RING_BINS, b + within + 1)
            out.append((person[b] - person[until]) / alive if alive > 1e-12 else 0.0)
        return out

    def person_sums(
        self, elapsed: tuple[float, ...], within: int | None = None
    ) -> tuple[float, float]:
        """Over the ringing calls: the sum of their person probabilities (as
        ``person_probabilities``) and of their variances p (1 - p)."""
        ended, person = self._tails()
        last = RING_BINS - 1
        total = spread = 0.0
        for e in elapsed:
            b = int(e)
            if b > last:
                b = last
            alive = ended[b]
            if alive > 1e-12:
                until = RING_BINS if within is None else min(RING_BINS, b + within + 1)
                p = (person[b] - person[until]) / alive
                total += p
                spread += p - p * p
        return total, spread

    def person_rate_within(self, seconds: int) -> float:
        """The chance that a new dial is answered by a person within ``seconds``."""
        ended, person = self._tails()
        until = min(RING_BINS, seconds + 1)
        return (person[0] - person[until]) / ended[0] if ended[0] > 0 else PRIOR_PERSON_RATE

    def mean_person_ring(self) -> float:
        """Mean seconds from dial to a person's answer."""
        if self._person_total <= 0:
            return float(sum(PRIOR_RING_SECONDS)) / 2
        return self._person_ring_sum / self._person_total

    @property
    def handled_count(self) -> int:
        return len(self._handles)

    def free_probability(self, elapsed: float, horizon: float) -> float:
        """The chance that an agent ``elapsed`` seconds into a call is free within
        ``horizon`` more seconds, (F(t + h) - F(t)) / (1 - F(t)) over recent handle times, in
        whole seconds (a handle time in second b counts as ended by the end of b); 0 before
        ``MIN_HANDLED`` calls, or past all but the last ``MIN_TAIL`` of them."""
        if len(self._handles) < MIN_HANDLED:
            return 0.0
        h = int(horizon)
        return self._free_at(int(elapsed), h, self._memo_for(h))

    def free_probabilities(self, elapsed: tuple[float, ...], horizon: float) -> list[float]:
        """``free_probability`` for each busy agent."""
        if len(self._handles) < MIN_HANDLED:
            return [0.0] * len(elapsed)
        h = int(horizon)
        memo = self._memo_for(h)
        out = []
        for t in elapsed:
            k = int(t)
            q = memo.get(k)
            out.append(q if q is not None else self._free_at(k, h, memo))
        return out

    def free_sums(self, elapsed: tuple[float, ...], horizon: float) -> tuple[float, float]:
        """Over the busy agents: the sum of their free probabilities and of their variances
        q (1 - q), the mean and variance of the agents freed within ``horizon``."""
        if len(self._handles) < MIN_HANDLED:
            return 0.0, 0.0
        memo = self._memo_for(int(horizon))
        total = spread = 0.0
        for t in elapsed:
            k = int(t)
            q = memo.get(k)
            if q is None:
                q = self._free_at(k, int(horizon), memo)
            total += q
            spread += q - q * q
        return total, spread

    def mean_wrap(self) -> float:
        """Mean seconds of the recent wrap-ups (0 with none seen)."""
        return self._wrap_sum / len(self._wraps) if self._wraps else 0.0

    def talking_free_probabilities(self, elapsed: tuple[float, ...], horizon: float) -> list[float]:
        """For each agent still talking ``elapsed`` seconds after the bridge: the chance it is
        free within ``horizon``, its wrap-up (the recent mean w) still to come. A handle time
        H is the talk plus w, so still talking at t means H > t + w: (F(t + h) - F(t + w)) /
        (1 - F(t + w)), and 0 when h <= w."""
        w = self.mean_wrap()
        if w <= 0.0:
            return self.free_probabilities(elapsed, horizon)
        if horizon <= w or len(self._handles) < MIN_HANDLED:
            return [0.0] * len(elapsed)
        return self.free_probabilities(tuple(t + w for t in elapsed), horizon - w)

    def wrapping_free_probabilities(
        self, elapsed: tuple[float, ...], horizon: float
    ) -> list[float]:
        """For each agent ``elapsed`` seconds into its wrap-up: the chance it is free within
        ``horizon``, P(W <= u + h | W > u) over the recent wrap-ups (0 past all of them, or
        before ``MIN_HANDLED`` were seen)."""
        ordered = self._wraps_sorted
        n = len(ordered)
        if n < MIN_HANDLED:
            return [0.0] * len(elapsed)
        out = []
        for u in elapsed:
            done = bisect_right(ordered, u)
            alive = n - done
            out.append((bisect_right(ordered, u + horizon) - done) / alive if alive else 0.0)
        return out

    def _memo_for(self, h: int) -> dict[int, float]:
        """Free probabilities by whole elapsed second for horizon ``h``, kept until the next
        handled call (decisions far outnumber calls ending)."""
        if self._done_by is None:
            self._done_by = list(accumulate(self._handle_bins))
            self._memos.clear()
        memo = self._memos.get(h)
        if memo is None:
            memo = self._memos[h] = {}
        return memo

    def _free_at(self, k: int, h: int, memo: dict[int, float]) -> float:
        done_by = self._done_by
        if done_by is None:
            raise RuntimeError("_memo_for first")
        n = len(self._handles)
        last = HANDLE_BINS - 1
        i = k - 1
        done = done_by[i] if 0 <= i <= last else (0 if i < 0 else n)
        alive = n - done
        j = i + h
        freed = ((done_by[j] if j <= last else n) - done) if j >= 0 else 0
        value = freed / alive if alive >= MIN_TAIL else 0.0
        memo[k] = value
        return value

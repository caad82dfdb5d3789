"""The simulated telephone network: the default TelephonyDriver, reproducible call by call.

What happens to a call is drawn once, when it is placed, from
``random.Random(f"{seed}:{number}:{reference}")``: string seeds hash the same in every process
(unlike ``hash()``), so a rerun with the same seed dials the same story. Each call keeps its own
time cursor from ``timer.now()`` at originate; ringing and speech move the cursor, the call
waits for ``timer.sleep_until(cursor)``, and every timestamp it reports is the cursor's. A
virtual timer therefore runs a day of calls in seconds while their times stay realistic.
"""

import asyncio
import math
import os
import random
import wave
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType

from dialer.domain.call import Answered, AnsweredBy, Failed, Hangup, OriginateRequest
from dialer.domain.codes import Outcome
from dialer.domain.records import quick_init
from dialer.ports import Timer
from dialer.telephony.sim_agent_leg import SimAgentLeg, phone_options
from dialer.telephony.sim_profile import KEYPRESSES, CallFate, SimProfile, pick

DIGITS = frozenset(k for k in KEYPRESSES if k.isdigit())
PLAY_SECONDS = 3.0  # a recording whose file cannot be read as WAV
RING_TIMEOUT_CAUSE = "487 Request Terminated (ring timeout)"
RING_OUT_CAUSE = "480 Temporarily Unavailable"
CHANNELS_FULL_CAUSE = "503 Service Unavailable (congestion)"
CANCELLED_CAUSE = "487 Request Terminated"
FAILURES: Mapping[CallFate, tuple[Outcome, str]] = MappingProxyType(
    {
        CallFate.BUSY: (Outcome.BUSY, "486 Busy Here"),
        CallFate.UNOBTAINABLE: (Outcome.UNOBTAINABLE, "404 Not Found"),
        CallFate.INVALID: (Outcome.INVALID_NUMBER, "484 Address Incomplete"),
        CallFate.NETWORK_FAILURE: (Outcome.NO_CONNECTION, "no response (timeout)"),
        CallFate.CONGESTION: (Outcome.OVERFLOW, "503 Service Unavailable"),
    }
)


@quick_init
@dataclass(frozen=True, slots=True)
class CallPlan:
    """Everything that will happen to one call, fixed when it is placed; times in seconds."""

    fate: CallFate
    ring: float  # answer: ringing before pickup; no_answer: until the network gives up
    setup: float  # other fates: dialling to the failure signal
    by: AnsweredBy = AnsweredBy.HUMAN
    key: str = "none"  # one of KEYPRESSES: what a person does with the message
    leave_fraction: float = 0.5  # how far into the first message a "hangup" person leaves
    keypress_delay: float = 1.0
    patience: float = math.inf  # a person's whole time on the line
    greeting: float = 0.0
    record: float = math.inf  # an answerphone's recording time after the beep


# The orders pick walks, in the enums' definition order, made once: iterating an enum per call
# cost twelve generator steps and two lists an attempt in the engine's benchmark.
_FATES = tuple(CallFate)
_ANSWERERS = tuple(AnsweredBy)


def draw_plan(profile: SimProfile, rng: random.Random) -> CallPlan:
    """A call's story from the profile's dice."""
    # One uniform per decision, always drawn in this order: changing one distribution in a
    # profile then leaves every other decision of every call as it was.
    u = [rng.random() for _ in range(10)]
    fate = pick(profile.outcomes, _FATES, u[0])
    if fate is CallFate.NO_ANSWER:
        ring = profile.ring_out_seconds.at(u[2])
    else:
        ring = profile.ring_seconds.at(u[1])
    return CallPlan(
        fate=fate,
        ring=ring,
        setup=profile.setup_seconds.at(u[3]),
        by=pick(profile.answered_by, _ANSWERERS, u[4]),
        key=pick(profile.keypress, KEYPRESSES, u[5]),
        leave_fraction=0.2 + 0.6 * u[6],
        keypress_delay=profile.keypress_delay_seconds.at(u[7]),
        patience=profile.patience_seconds.at(u[8]),
        greeting=profile.greeting_seconds.at(u[9]),
        record=profile.record_seconds,
    )


def _answers(by: AnsweredBy = AnsweredBy.HUMAN, key: str = "none") -> CallPlan:
    return CallPlan(CallFate.ANSWER, ring=3.0, setup=1.0, by=by, key=key, greeting=5.0)


def _fails(fate: CallFate) -> CallPlan:
    return CallPlan(fate, ring=math.inf, setup=1.0)


# Ofcom keeps +447700900000-999 for drama, so these can never ring a real person.
TEST_PLANS: Mapping[str, CallPlan] = MappingProxyType(
    {
        "+447700900000": _answers(),
        "+447700900001": _fails(CallFate.BUSY),
        "+447700900002": _answers(key="1"),
        "+447700900003": _answers(key="2"),
        "+447700900004": _answers(AnsweredBy.MACHINE),
        "+447700900005": _answers(AnsweredBy.FAX),
        "+447700900006": _fails(CallFate.UNOBTAINABLE),
        "+447700900007": _fails(CallFate.NO_ANSWER),
        "+447700900008": _fails(CallFate.NETWORK_FAILURE),
        "+447700900009": _answers(key="9"),
        "+447700900010": _fails(CallFate.CONGESTION),
        "+447700900011": _fails(CallFate.INVALID),
        "+447700900012": _answers(key="hangup"),
    }
)
SMS_REJECTING_NUMBER = "+447700900013"
TEST_NUMBERS: Mapping[str, str] = MappingProxyType(
    {
        "+447700900000": "answers after 3 s (person), listens, presses nothing",
        "+447700900001": "busy after 1 s (Busy, 486)",
        "+447700900002": "answers (person), presses 1 a second into the first gather",
        "+447700900003": "answers (person), presses 2",
        "+447700900004": "answerphone: 5 s greeting, then the beep; records what follows",
        "+447700900005": "answered by a fax machine",
        "+447700900006": "unobtainable after 1 s (Unobtainable, 404)",
        "+447700900007": "rings until the ring timeout (NoAnswer)",
        "+447700900008": "network failure after 1 s (NoConnection)",
        "+447700900009": "answers (person), presses 9",
        "+447700900010": "congestion after 1 s (Overflow, 503)",
        "+447700900011": "invalid number after 1 s (InvalidNumber, 484)",
        "+447700900012": "answers (person), hangs up halfway through the first message",
        SMS_REJECTING_NUMBER: "calls follow the profile; an SMS to it is rejected",
    }
)


class SimCall:
    """One simulated call: its plan says what happens, its own cursor says when."""

    def __init__(
        self,
        request: OriginateRequest,
        plan: CallPlan | None,
        timer: Timer,
        profile: SimProfile,
        release: Callable[[], None],
        seed: int = 0,
    ) -> None:
        self.request = request
        self._seed = seed
        self._conversations = 0
        self.plan = plan  # None: no channel was free
        self._timer = timer
        self._words_per_second = profile.words_per_second
        # zero_durations keeps every decision and collapses only the clock.
        self._scale = 0.0 if profile.zero_durations else 1.0
        self._release_channel = release
        self._released = False
        self._start = timer.now()
        self._at = 0.0  # story seconds since the call was placed
        self._result: Answered | Failed | None = None
        self._answered_at: float | None = None
        self._leaves_at = math.inf  # when the callee will hang up
        self._begun = False  # the first say/play/gather has started
        self._gathered = False  # a person's key is pressed at the first gather or never
        # Something was said or played: a person answers a prompt, not the silence of a wait
        # for an agent (the engine's listening gathers are nobody's first gather).
        self._prompted = False
        self._cut = False  # a wait was cancelled: the cursor is behind the timer
        self._ended: Hangup | None = None
        self._transferred_to: str | None = None

    async def progress(self) -> Answered | Failed:
        """Ring, then the answer or the reason there was none."""
        if self._result is None:
            self._result = await self._connect()
        return self._result

    async def say(self, text: str, voice: str | None) -> bool:
        """Speech at the profile's rate; False if the callee hangs up before it ends."""
        words = len(text.split())
        self._prompted = True
        return await self._listen(words / self._words_per_second)

    async def play(self, audio: str) -> bool:
        """A recording as long as the WAV file at ``audio`` (3 s if there is none to read)."""
        self._prompted = True
        return await self._listen(audio_seconds(audio))

    async def await_greeting_end(self) -> bool:
        """An answerphone's greeting runs to the beep; a person or fax needs no wait."""
        if not self._live() or self.plan is None:
            return False
        if self.plan.by is AnsweredBy.MACHINE and self._answered_at is not None:
            beep = self._answered_at + self.plan.greeting
            if self._at < beep:
                return await self._listen(beep - self._at)
        return True

    async def leave_message(self, text: str, voice: str | None) -> bool:
        """The greeting, then the message: the simulated machine's greeting has no pauses to
        start in, so the message starts once, at its beep."""
        return await self.await_greeting_end() and await self.say(text, voice)

    async def gather(self, max_digits: int, timeout: timedelta) -> str | None:
        """A person's drawn key after their delay, else "" at the timeout; None if gone.

        A person presses their key at the first gather after something was said or played
        only: at a later one (a submenu, or a menu asking again) they press nothing, so every
        menu's default path gets walked too; a gather before any prompt (the engine listening
        while the customer waits for an agent) hears no key.
        """
        if not self._live() or self.plan is None:
            return None
        limit = timeout.total_seconds()
        plan = self.plan
        presses = (
            plan.by is AnsweredBy.HUMAN
            and plan.key in DIGITS
            and not self._gathered
            and self._prompted
            and max_digits > 0
            and plan.keypress_delay < limit
        )
        if presses:
            # One key: a single-digit gather ends on it, a longer one at the next digit timeout.
            wait, digits = plan.keypress_delay + (limit if max_digits > 1 else 0.0), plan.key
        else:
            wait, digits = limit, ""
        if self._prompted:
            self._gathered = True
        if not await self._listen(wait):
            return None
        return digits

    def agent_draws(self) -> tuple[float, float]:
        """The uniforms for this callee's next conversation with an agent: drawn from the
        call's own seed, so a seed gives every customer the same talk whichever agent takes
        them."""
        self._conversations += 1
        rng = random.Random(
            f"{self._seed}:{self.request.number}:{self.request.reference}:agent:{self._conversations}"
        )
        return rng.random(), rng.random()

    async def converse(self, seconds: float) -> bool:
        """Bridged to an agent: the callee talks for ``seconds`` and then hangs up (their
        patience was for waiting, not talking). False at once if they had gone already. When
        the bridge is cut first (released, or the agent's phone dropped) the cursor follows the
        timer, and the callee stays on the line for the engine to hang up or re-queue."""
        self._catch_up()
        if not self._live():
            return False
        self._begun = True
        self._leaves_at = self._at + seconds
        try:
            await self._advance_to(self._leaves_at)
        except asyncio.CancelledError:
            self._catch_up()
            self._leaves_at = math.inf
            raise
        return True

    def _catch_up(self) -> None:
        """Bring the cursor up to the timer, where a cancelled wait left it behind (the engine
        stopped listening to a waiting customer to bridge them): a conversation starts now.
        A VirtualTimer does not move while calls run, so there the cursor stays."""
        if self._scale:
            elapsed = (self._timer.now() - self._start).total_seconds() / self._scale
            self._at = max(self._at, min(self._leaves_at, elapsed))

    def prepare(self, text: str, voice: str | None) -> None:
        """Nothing to render: simulated speech is only its duration."""

    async def transfer(self, target: str) -> bool:
        """A transfer succeeds while the callee is still on the line; the call then leaves us
        at once (as after a SIP REFER), ending with the target in its cause."""
        if not self._live():
            return False
        self._transferred_to = target
        await self.hangup()
        return True

    async def hangup(self) -> Hangup:
        """End the call now, unless it has ended already; says who ended it and when."""
        if self._ended is None:
            self._resume()
            self._ended = self._ending()
            self._release()
        return self._ended

    def _ending(self) -> Hangup:
        result = self._result
        if result is None:
            # Hung up while ringing, before anyone asked how the call went.
            return Hangup(self._time(self._at), CANCELLED_CAUSE, by_callee=False)
        if isinstance(result, Failed):
            return Hangup(result.ended_at, result.cause, by_callee=False)
        if self._leaves_at <= self._at:
            return Hangup(self._time(self._leaves_at), "callee hung up", by_callee=True)
        if self._transferred_to is not None:
            cause = f"transferred to {self._transferred_to}"
            return Hangup(self._time(self._at), cause, by_callee=False)
        return Hangup(self._time(self._at), "normal clearing", by_callee=False)

    async def _connect(self) -> Answered | Failed:
        plan = self.plan
        if plan is None:
            return self._fail(Outcome.OVERFLOW, CHANNELS_FULL_CAUSE)
        timeout = self.request.ring_timeout.total_seconds()
        if plan.fate is CallFate.ANSWER and plan.ring < timeout:
            await self._advance_to(plan.ring)
            self._answered_at = self._at
            if plan.by is AnsweredBy.HUMAN:
                self._leaves_at = self._at + plan.patience
            elif plan.by is AnsweredBy.MACHINE:
                self._leaves_at = self._at + plan.greeting + plan.record
            return Answered(self._start, self._time(self._at), plan.by)
        if plan.fate in FAILURES:
            ends, (outcome, cause) = plan.setup, FAILURES[plan.fate]
        else:
            ends, outcome, cause = plan.ring, Outcome.NO_ANSWER, RING_OUT_CAUSE
        if ends >= timeout:
            ends, outcome, cause = timeout, Outcome.NO_ANSWER, RING_TIMEOUT_CAUSE
        await self._advance_to(ends)
        return self._fail(outcome, cause)

    def _fail(self, outcome: Outcome, cause: str) -> Failed:
        self._release()
        return Failed(self._start, self._time(self._at), outcome, cause)

    def _live(self) -> bool:
        """Answered, not hung up by us, and the callee still there."""
        return self._answered_at is not None and self._ended is None and self._leaves_at > self._at

    async def _listen(self, seconds: float) -> bool:
        """Let ``seconds`` of the answered call pass; False if the callee hangs up meanwhile."""
        self._resume()
        if not self._live() or self.plan is None:
            return False
        plan = self.plan
        if not self._begun and plan.by is AnsweredBy.HUMAN and plan.key == "hangup":
            self._leaves_at = min(self._leaves_at, self._at + plan.leave_fraction * seconds)
        self._begun = True
        end = self._at + seconds
        if self._leaves_at < end:
            await self._advance_to(self._leaves_at)
            return False
        await self._advance_to(end)
        return True

    def _resume(self) -> None:
        """After a wait the engine cut short (a customer waiting for an agent, listened to):
        what follows starts now, not where the cut wait left the cursor."""
        if self._cut:
            self._cut = False
            self._catch_up()

    async def _advance_to(self, at: float) -> None:
        at = max(self._at, at)
        try:
            await self._timer.sleep_until(self._time(at))
        except asyncio.CancelledError:
            self._cut = True
            raise
        # Moved only once the wait is over: a wait cancelled midway leaves the cursor behind.
        self._at = at

    def _time(self, at: float) -> datetime:
        return self._start + timedelta(seconds=at * self._scale)

    def _release(self) -> None:
        if not self._released:
            self._released = True
            self._release_channel()


class SimulatedNetwork:
    """The default TelephonyDriver: a telephone network of dice, reproducible by ``seed``.

    ``channels`` caps the calls in progress at once (more are refused as congestion), and
    ``origination_log`` gets each call's reference before it is placed, so a test can prove
    that no attempt was dialled twice, even by processes that crashed. ``call_log`` gets, in
    the engine's clock (epoch microseconds), ``start <reference> <claimed> <placed>`` as a call
    is placed and ``end <reference> <ended>`` as it ends, so a test can count the calls in
    flight and claimed in any window, over several processes.
    """

    def __init__(
        self,
        profile: SimProfile,
        timer: Timer,
        seed: int = 0,
        channels: int | None = None,
        origination_log: Path | None = None,
        call_log: Path | None = None,
    ) -> None:
        if channels is not None and channels < 0:
            raise ValueError("channels must be 0 or more")
        self.profile = profile
        self.seed = seed
        self.channels = channels
        self.originated = 0
        self.in_progress = 0
        self._timer = timer
        self._log_path = origination_log
        self._log_fd: int | None = None
        self._call_log = None if call_log is None else _AppendLog(call_log)
        self._agent_calls: dict[str, int] = {}
        self._legs: weakref.WeakSet[SimAgentLeg] = weakref.WeakSet()

    async def originate(self, request: OriginateRequest) -> SimCall:
        """Place a call; what happens to it is fixed here and unfolds as it is awaited."""
        self._log(request.reference)
        if self._call_log is not None:
            claimed = request.claimed_at or self._timer.now()
            self._call_log.write(
                f"start {request.reference} {_us(claimed)} {_us(self._timer.now())}"
            )
        self.originated += 1
        if self.channels is not None and self.in_progress >= self.channels:
            return SimCall(
                request, None, self._timer, self.profile, self._ended(request, False), self.seed
            )
        self.in_progress += 1
        plan = self.plan_for(request)
        return SimCall(
            request, plan, self._timer, self.profile, self._ended(request, True), self.seed
        )

    async def call_agent(self, phone: str, caller_id: str) -> SimAgentLeg:
        """Call an agent's ``sim:`` phone (implements dialer.ports.AgentPhones); raises
        CallNotPlaced for any other phone. Agent legs take no channel."""
        options = phone_options(phone)
        calls = self._agent_calls.get(phone, 0) + 1
        self._agent_calls[phone] = calls
        rng = random.Random(f"{self.seed}:{phone}:{calls}")
        scale = 0.0 if self.profile.zero_durations else 1.0
        leg = SimAgentLeg(phone, options, self.profile.agents, self._timer, rng, scale)
        self._legs.add(leg)
        return leg

    def _ended(self, request: OriginateRequest, held: bool) -> Callable[[], None]:
        def release() -> None:
            if held:
                self.in_progress -= 1
            if self._call_log is not None:
                self._call_log.write(f"end {request.reference} {_us(self._timer.now())}")

        return release

    def plan_for(self, request: OriginateRequest) -> CallPlan:
        """A test number's fixed script, else the profile's dice for this number and attempt."""
        scripted = TEST_PLANS.get(request.number)
        if scripted is not None:
            return scripted
        rng = random.Random(f"{self.seed}:{request.number}:{request.reference}")
        return draw_plan(self.profile, rng)

    async def close(self) -> None:
        for leg in list(self._legs):
            await leg.hangup()
        if self._log_fd is not None:
            os.close(self._log_fd)
            self._log_fd = None
        if self._call_log is not None:
            self._call_log.close()
            self._call_log = None

    def _log(self, reference: str) -> None:
        if self._log_path is None:
            return
        if self._log_fd is None:
            # O_APPEND makes each write land whole at the end even with several processes
            # appending; os.write is unbuffered, so a line survives its process being killed.
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
            self._log_fd = os.open(self._log_path, flags, 0o644)
        os.write(self._log_fd, f"{reference}\n".encode())


def audio_seconds(path: str) -> float:
    """How long a WAV file plays; PLAY_SECONDS when it is missing or not a WAV file."""
    try:
        with wave.open(path, "rb") as audio:
            rate = audio.getframerate()
            return audio.getnframes() / rate if rate > 0 else PLAY_SECONDS
    except (OSError, EOFError, wave.Error):
        return PLAY_SECONDS


def _us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)  # as the store writes it (storage/rows.py)


class _AppendLog:
    """Lines appended whole (O_APPEND) and unbuffered, so they survive a SIGKILL."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, line: str) -> None:
        os.write(self._fd, f"{line}\n".encode())

    def close(self) -> None:
        os.close(self._fd)

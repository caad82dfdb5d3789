"""The SIP driver (``--network sip``): real calls to a carrier trunk, on baresip-python.

One baresip Runtime per process (the binding allows no more), one user agent per caller ID (so
the From header carries the campaign's number; P-Asserted-Identity too), trunk style: no
registration, digest credentials answered when challenged. See docs/sip.md.

A call's life here:
1. ``originate`` waits for a free line (``max_calls``) and an INVITE slot (``calls_per_second``),
   then dials with the attempt's reference in X-Dialer-Reference.
2. ``progress`` waits for the answer. No provisional response at all within a few seconds, or a
   transport failure, is NoConnection; the ring timeout (never shorter than ``min_ring_seconds``)
   CANCELs and is NoAnswer; a final status is read through ``sip_outcomes``.
3. On answer the call's audio joins the shared media clock and the answering-machine detector
   listens (we say nothing meanwhile): its verdict is how the call was answered.
4. The engine walks the call flow through ``say`` / ``play`` / ``gather`` / ``transfer``, and
   ``hangup`` reports who ended the call and how.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

import baresip
from baresip.events import Event, StackEvent

from dialer.domain.call import Answered, AnsweredBy, Failed, Hangup, OriginateRequest
from dialer.domain.codes import Outcome
from dialer.ports import SpeechSynthesizer, Timer
from dialer.settings import SipSettings
from dialer.telephony.sip_media import Media, MediaClock
from dialer.telephony.sip_outcomes import (
    NO_PROVISIONAL_CAUSE,
    RING_TIMEOUT_CAUSE,
    SIT_CAUSE,
    outcome_for_close,
    outcome_for_sit,
)
from dialer.telephony.sip_trace import REFERENCE_HEADER, ProvisionalWatch

log = logging.getLogger(__name__)

# Answering-machine detection decides within 5 s of audio; allow for a late first packet.
DETECTION_LIMIT_SECONDS = 6.0
# An answering machine's greeting may be long; past this we leave the message anyway.
GREETING_LIMIT_SECONDS = 30.0
HANGUP_WAIT_SECONDS = 5.0
LOCAL_HANGUP = "normal clearing"


class Verdict(Protocol):
    @property
    def by(self) -> AnsweredBy: ...


class GreetingEnding(Protocol):
    def feed(self, pcm: bytes) -> bool: ...


class SitDetecting(Protocol):
    def feed(self, pcm: bytes) -> str | None: ...


class AnswerDetecting(Protocol):
    """Streaming answering-machine and fax detection (telephony.detection)."""

    def feed(self, pcm: bytes) -> Verdict | None: ...

    def greeting_end(self) -> GreetingEnding:
        """Listening for the end of a machine's greeting, carrying on from what was heard (a
        long pause before the greeting must not pass for its end)."""
        ...


class SipNetwork:
    def __init__(
        self,
        settings: SipSettings,
        timer: Timer,
        speech: SpeechSynthesizer,
        new_answer_detector: Callable[[], AnswerDetecting],
        load_audio: Callable[[str], bytes],
        new_sit_detector: Callable[[], SitDetecting] | None = None,
    ) -> None:
        self.settings = settings
        self.timer = timer
        self.speech = speech
        self.new_answer_detector = new_answer_detector
        self.new_sit_detector = new_sit_detector
        self.load_audio = load_audio
        self.media = MediaClock()
        self.watch = ProvisionalWatch()
        self.lines = asyncio.Semaphore(settings.max_calls)
        # Per answered call that spoke: seconds from answer, and from the detector's verdict
        # (when we may speak), to its first audio queued (played within one 20 ms tick).
        self.first_audio_delays: list[tuple[float, float]] = []
        self._runtime: baresip.Runtime | None = None
        self._agents: dict[str, baresip.UserAgent] = {}
        self._start_lock = asyncio.Lock()
        self._next_invite = 0.0
        self._calls: set[SipCall] = set()

    @property
    def domain(self) -> str:
        return self.settings.from_domain or self.settings.host

    def uri_for(self, target: str) -> str:
        """A number (or ``queue:<name>``, handed to the carrier's PBX as that user) at the trunk."""
        user = target.removeprefix("queue:")
        s = self.settings
        return f"sip:{user}@{s.host}:{s.port};transport={s.transport}"

    async def start(self) -> None:
        async with self._start_lock:
            if self._runtime is not None:
                return
            sip_log = logging.getLogger("baresip.native.sip")
            sip_log.addHandler(self.watch)
            sip_log.setLevel(logging.DEBUG)
            sip_log.propagate = False  # the trace is for the watch, not the service's log
            runtime = baresip.Runtime()
            await runtime.start(
                baresip.Config(
                    net_interface=self.settings.local_address,
                    audio_driver="aumem",
                    max_concurrent_calls=None,  # the binding's default of 2 would refuse calls
                    sip_trace=True,
                )
            )
            self._runtime = runtime

    async def _agent(self, caller_id: str) -> baresip.UserAgent:
        user = caller_id or self.settings.from_user
        agent = self._agents.get(user)
        if agent is None:
            assert self._runtime is not None
            s = self.settings
            account = baresip.Account(
                user=user,
                domain=self.domain,
                password=s.password or "",
                reg_interval=0,  # a trunk: no registration
                transport=s.transport,  # type: ignore[arg-type]
                audio_codecs=s.codecs,
                dtmf_mode=s.dtmf_mode,  # type: ignore[arg-type]
                auth_user=s.username,
            )
            agent = await baresip.UserAgent.create(self._runtime, account)
            self._agents[user] = agent
        return agent

    async def _invite_slot(self) -> None:
        """Space INVITEs at ``calls_per_second``: hundreds started at once partly fail."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(now, self._next_invite)
        self._next_invite = slot + 1.0 / self.settings.calls_per_second
        if slot > now:
            await asyncio.sleep(slot - now)

    async def originate(self, request: OriginateRequest) -> "SipCall":
        await self.start()
        await self.lines.acquire()
        call = SipCall(self, request)
        self._calls.add(call)
        try:
            await self._invite_slot()
            call.originated_at = self.timer.now()  # setup time counts from the INVITE
            agent = await self._agent(request.caller_id)
            headers = {
                REFERENCE_HEADER: request.reference,
                "P-Asserted-Identity": f"<sip:{request.caller_id}@{self.domain}>",
            }
            call.bind(await agent.dial(self.uri_for(request.number), headers=headers))
        except baresip.BaresipError as error:
            call.fail_to_dial(str(error))
        except ValueError as error:  # a number the binding refuses to put in a URI
            call.fail_to_dial(f"not dialled: {error}")
        except BaseException:  # cancelled while waiting to dial: give the line back
            call.fail_to_dial("not dialled: the engine stopped")
            raise
        return call

    def released(self, call: "SipCall") -> None:
        if call in self._calls:
            self._calls.discard(call)
            self.watch.forget(call.request.reference)
            self.lines.release()

    async def close(self) -> None:
        for call in list(self._calls):
            with contextlib.suppress(Exception):
                await call.hangup()
        await self.media.close()
        if self._runtime is not None:
            await self._runtime.close()
            self._runtime = None
        logging.getLogger("baresip.native.sip").removeHandler(self.watch)


class SipCall:
    def __init__(self, network: SipNetwork, request: OriginateRequest) -> None:
        self.network = network
        self.request = request
        self.originated_at = network.timer.now()
        self._call: baresip.Call | None = None
        self._heard_provisional = False
        self._established = asyncio.Event()
        self._closed = asyncio.Event()
        self._close_reason = ""
        self._closed_at = self.originated_at
        self._hung_up_by_us = False
        self._ending_cause = LOCAL_HANGUP  # what we say when we end the call
        self._digits: list[str] = []
        self._digit_arrived = asyncio.Event()
        self._media: Media | None = None
        self._answered_at: float | None = None
        self._verdict_at: float | None = None
        self._detector: AnswerDetecting | None = None
        self._early: Media | None = None
        self._sit: str | None = None
        self._sit_heard = asyncio.Event()

    # -- wiring ---------------------------------------------------------------------------------

    def bind(self, call: baresip.Call) -> None:
        self._call = call
        call.on(self._on_event)
        call.on_dtmf(self._on_digit)
        if call.state is baresip.CallState.CLOSED:  # closed before we listened
            self._mark_closed(getattr(call, "_close_reason", None) or "")

    def fail_to_dial(self, reason: str) -> None:
        log.warning("call %s not dialled: %s", self.request.reference, reason)
        self._mark_closed(reason)

    def _on_event(self, event: StackEvent) -> None:
        if event.event in (Event.CALL_RINGING, Event.CALL_PROGRESS):
            self._heard_provisional = True
            if event.event is Event.CALL_PROGRESS:
                self._listen_to_early_media()
        elif event.event is Event.CALL_ESTABLISHED:
            self._established.set()
        elif event.event is Event.CALL_CLOSED:
            self._mark_closed(event.text or "")

    def _on_digit(self, digit: baresip.DigitEvent) -> None:
        self._digits.append(digit.digit)
        self._digit_arrived.set()

    def _mark_closed(self, reason: str) -> None:
        if self._closed.is_set():
            return
        self._close_reason = reason
        self._closed_at = self.network.timer.now()
        self._closed.set()
        for media in (self._media, self._early):
            if media is not None:
                self.network.media.detach(media)
        self.network.released(self)

    # -- the Call port --------------------------------------------------------------------------

    async def progress(self) -> Answered | Failed:
        settings = self.network.settings
        loop = asyncio.get_running_loop()
        started = loop.time()
        ring_limit = max(self.request.ring_timeout.total_seconds(), settings.min_ring_seconds)
        provisional_deadline = started + settings.provisional_timeout_seconds
        while not self._established.is_set() and not self._closed.is_set():
            now = loop.time()
            heard = self._heard_provisional or self.network.watch.heard(self.request.reference)
            if not heard and now >= provisional_deadline:
                cause = NO_PROVISIONAL_CAUSE.format(seconds=settings.provisional_timeout_seconds)
                return await self._give_up(Outcome.NO_CONNECTION, cause)
            if now >= started + ring_limit:
                if not heard:  # a ring timeout shorter than the provisional wait: never rang
                    cause = NO_PROVISIONAL_CAUSE.format(seconds=ring_limit)
                    return await self._give_up(Outcome.NO_CONNECTION, cause)
                cause = RING_TIMEOUT_CAUSE.format(seconds=ring_limit)
                return await self._give_up(Outcome.NO_ANSWER, cause)
            if self._sit is not None:
                cause = SIT_CAUSE.format(code=self._sit)
                return await self._give_up(outcome_for_sit(self._sit), cause)
            deadline = (
                started + ring_limit if heard else min(provisional_deadline, started + ring_limit)
            )
            # Poll the trace-fed flag at least every 100 ms while waiting for a first 1xx.
            wait = min(deadline - now, 0.1) if not heard else deadline - now
            await _first_of(self._established, self._closed, self._sit_heard, timeout=wait)
        if self._early is not None:
            self.network.media.detach(self._early)
        if not self._established.is_set():
            return self._failed(outcome_for_close(self._close_reason), self._close_reason)
        answered_at = self.network.timer.now()
        self._answered_at = loop.time()
        by = await self._detect()
        self._verdict_at = loop.time()
        return Answered(self.originated_at, answered_at, by)

    def prepare(self, text: str, voice: str | None) -> None:
        self.network.speech.prepare(text, voice)

    async def say(self, text: str, voice: str | None) -> bool:
        media = self._live_media()
        if media is None:
            return False
        try:
            async for pcm in self.network.speech.stream(text, voice):
                if not media.alive:
                    return False
                self._note_first_audio()
                media.enqueue(pcm)
        except Exception:
            # Speech failing (an unknown voice in a flow, espeak-ng gone) must not drop a
            # person's call: the flow goes on without these words, and the log says why.
            log.exception("call %s: speech failed (voice %r)", self.request.reference, voice)
        return await media.drained()

    async def play(self, audio: str) -> bool:
        media = self._live_media()
        if media is None:
            return False
        try:
            pcm = await asyncio.to_thread(self.network.load_audio, audio)
        except (OSError, ValueError) as error:
            log.warning("call %s: cannot play %s: %s", self.request.reference, audio, error)
            return media.alive
        self._note_first_audio()
        media.enqueue(pcm)
        return await media.drained()

    async def await_greeting_end(self) -> bool:
        media = self._live_media()
        if media is None:
            return False
        if self._detector is None:
            return True
        detector = self._detector.greeting_end()
        ended = asyncio.Event()

        def listen(pcm: bytes) -> None:
            if detector.feed(pcm):
                ended.set()

        media.on_audio = listen
        try:
            await _first_of(ended, self._closed, timeout=GREETING_LIMIT_SECONDS)
        finally:
            media.on_audio = None
        return not self._closed.is_set()

    async def gather(self, max_digits: int, timeout: timedelta) -> str | None:
        """Digits pressed since the last gather (during a prompt too), then more until
        ``max_digits`` or ``timeout`` without a new key."""
        while len(self._digits) < max_digits and not self._closed.is_set():
            self._digit_arrived.clear()
            got = await _first_of(
                self._digit_arrived, self._closed, timeout=timeout.total_seconds()
            )
            if not got or self._closed.is_set():
                break
        pressed = "".join(self._digits[:max_digits])
        del self._digits[:max_digits]
        if self._closed.is_set() and not pressed:
            return None
        return pressed

    async def transfer(self, target: str) -> bool:
        if self._call is None or self._closed.is_set():
            return False
        try:
            await self._call.transfer(self.network.uri_for(target))
        except (baresip.TransferFailed, baresip.StaleHandleError) as error:
            log.info("call %s: transfer to %s failed: %s", self.request.reference, target, error)
            return False
        except baresip.BaresipError as error:
            log.warning("call %s: transfer to %s: %s", self.request.reference, target, error)
            return False
        self._hung_up_by_us = True  # a completed transfer closes our leg: not the callee's doing
        self._ending_cause = f"transferred to {target}"
        await _first_of(self._closed, timeout=HANGUP_WAIT_SECONDS)
        return True

    async def hangup(self) -> Hangup:
        if not self._closed.is_set():
            self._hung_up_by_us = True
            if self._call is not None:
                with contextlib.suppress(baresip.BaresipError):
                    await self._call.hangup()
                await _first_of(self._closed, timeout=HANGUP_WAIT_SECONDS)
            if not self._closed.is_set():  # the stack never confirmed: account for it anyway
                self._mark_closed(LOCAL_HANGUP)
        cause = (
            self._ending_cause if self._hung_up_by_us else self._close_reason or "callee hung up"
        )
        return Hangup(self._closed_at, cause, by_callee=not self._hung_up_by_us)

    # -- helpers --------------------------------------------------------------------------------

    async def _give_up(self, outcome: Outcome, cause: str) -> Failed:
        """CANCEL an unanswered call (baresip's hangup does that before a final response)."""
        self._hung_up_by_us = True
        if self._call is not None:
            with contextlib.suppress(baresip.BaresipError):
                await self._call.hangup()
            await _first_of(self._closed, timeout=HANGUP_WAIT_SECONDS)
        if self._established.is_set() and not self._closed.is_set():
            # Answered in the very instant we gave up: the line is up, so hang it up properly.
            with contextlib.suppress(baresip.BaresipError):
                assert self._call is not None
                await self._call.hangup()
        self._mark_closed(cause)
        return self._failed(outcome, cause)

    def _failed(self, outcome: Outcome, cause: str) -> Failed:
        return Failed(self.originated_at, self._closed_at, outcome, cause)

    async def _detect(self) -> AnsweredBy:
        """Listen for the answering-machine detector's verdict (silence from us meanwhile)."""
        assert self._call is not None
        detector = self._detector = self.network.new_answer_detector()
        verdict: list[AnsweredBy] = []
        decided = asyncio.Event()

        def listen(pcm: bytes) -> None:
            if not verdict:
                result = detector.feed(pcm)
                if result is not None:
                    verdict.append(result.by)
                    decided.set()

        self._media = Media(self._call.audio, on_audio=listen)
        self.network.media.attach(self._media)
        await _first_of(decided, self._closed, timeout=DETECTION_LIMIT_SECONDS)
        self._media.on_audio = None
        # No verdict in time (no audio arrived at all): treat as a person, never hang up on one.
        return verdict[0] if verdict else AnsweredBy.HUMAN

    def _listen_to_early_media(self) -> None:
        """A 183 with media: listen for special information tones (an operator's "all circuits
        are busy" or "not in service", often never followed by a final response)."""
        factory = self.network.new_sit_detector
        if self._early is not None or self._call is None or factory is None:
            return
        detector = factory()

        def listen(pcm: bytes) -> None:
            if self._sit is None:
                self._sit = detector.feed(pcm)
                if self._sit is not None:
                    self._sit_heard.set()

        self._early = Media(self._call.audio, on_audio=listen, grace_ticks=25)
        self.network.media.attach(self._early)

    def _live_media(self) -> Media | None:
        if self._closed.is_set() or self._media is None or not self._media.alive:
            return None
        return self._media

    def _note_first_audio(self) -> None:
        if self._answered_at is not None and self._verdict_at is not None:
            now = asyncio.get_running_loop().time()
            delays = (now - self._answered_at, now - self._verdict_at)
            self.network.first_audio_delays.append(delays)
            self._answered_at = None


async def _first_of(*events: asyncio.Event, timeout: float) -> bool:
    """Wait until any of ``events`` is set, or ``timeout`` seconds; True if one was set."""
    if any(event.is_set() for event in events):
        return True
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        done, _ = await asyncio.wait(
            waiters, timeout=max(timeout, 0.0), return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for waiter in waiters:
            waiter.cancel()
    return bool(done)

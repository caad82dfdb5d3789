"""One call on the SIP driver: the Call port over a baresip call (see sip.py for the driver).

Waits for the answer with the driver's timers (no 1xx, ring timeout, SIT tones in early media),
asks the answering-machine detector who answered, then says, plays, gathers keys, transfers and
hangs up as the engine's walk of the call flow asks.
"""

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import baresip
from baresip.events import Event, StackEvent

from dialer.domain.call import Answered, AnsweredBy, Failed, Hangup, OriginateRequest
from dialer.domain.codes import Outcome
from dialer.domain.events import AnswerDetected, FirstAudio, SipResponse, SpeechRendered
from dialer.telephony.sip_detectors import AnswerDetecting, MessageStarting
from dialer.telephony.sip_media import Media
from dialer.telephony.sip_message import MessageOnMachine, rendered
from dialer.telephony.sip_outcomes import (
    NO_PROVISIONAL_CAUSE,
    RING_TIMEOUT_CAUSE,
    SIT_CAUSE,
    outcome_for_close,
    outcome_for_sit,
)
from dialer.telephony.waits import first_of

if TYPE_CHECKING:
    from dialer.telephony.sip import SipNetwork

log = logging.getLogger(__name__)

# Answering-machine detection decides within 5 s of audio; allow for a late first packet.
DETECTION_LIMIT_SECONDS = 6.0
# An answering machine's greeting may be long; past this we leave the message anyway.
GREETING_LIMIT_SECONDS = 30.0
HANGUP_WAIT_SECONDS = 5.0
LOCAL_HANGUP = "normal clearing"


class SipCall:
    def __init__(self, network: "SipNetwork", request: OriginateRequest) -> None:
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
        self.message_starts = 0  # how often leave_message started its message
        self.message_starter: MessageStarting | None = None  # its listener, for its record
        self._early: Media | None = None
        self._sit: str | None = None
        self._sit_heard = asyncio.Event()

    # -- wiring ---------------------------------------------------------------------------------

    @property
    def handle(self) -> int | None:
        return None if self._call is None else self._call.handle

    def bind(self, call: baresip.Call, missed: Sequence[StackEvent] = ()) -> None:
        """Listen to ``call``, after replaying the events it received before it existed
        (sip_events.py): through the binding's own handler, so its state is right too."""
        self._call = call
        call.on(self._on_event)
        call.on_dtmf(self._on_digit)
        for event in missed:
            # Pinned binding (0.5.2a3): its per-call handler is the one way to give a Call
            # an event it missed; it updates the state and then calls our listeners.
            call._on_stack_event(event)
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
            if not self._established.is_set():
                self.network.events.publish(SipResponse(200))
            self._established.set()
        elif event.event is Event.CALL_CLOSED:
            # Before an answer, the stack's reason starts with the final response ("486 Busy").
            code = _response_code(event.text or "")
            if code is not None and not self._established.is_set() and not self._closed.is_set():
                self.network.events.publish(SipResponse(code))
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
            await first_of(self._established, self._closed, self._sit_heard, timeout=wait)
        if self._early is not None:
            self.network.media.detach(self._early)
        if not self._established.is_set():
            return self._failed(outcome_for_close(self._close_reason), self._close_reason)
        answered_at = self.network.timer.now()
        self._answered_at = loop.time()
        if not self.request.detect_answer:
            # Bridged on answer, or an agent's phone: whoever answered is taken for a person.
            assert self._call is not None
            self._media = Media(self._call.audio)
            self.network.media.attach(self._media)
            self._verdict_at = self._answered_at
            return Answered(self.originated_at, answered_at, AnsweredBy.HUMAN)
        by = await self._detect()
        self._verdict_at = loop.time()
        self.network.events.publish(AnswerDetected(by.value, self._verdict_at - self._answered_at))
        return Answered(self.originated_at, answered_at, by)

    def prepare(self, text: str, voice: str | None) -> None:
        self.network.speech.prepare(text, voice)

    async def say(self, text: str, voice: str | None) -> bool:
        media = self._live_media()
        if media is None:
            return False
        asked, first = asyncio.get_running_loop().time(), True
        try:
            async for pcm in self.network.speech.stream(text, voice):
                if first:
                    first = False
                    waited = asyncio.get_running_loop().time() - asked
                    self.network.events.publish(SpeechRendered(waited))
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
        except Exception as error:  # noqa: BLE001 - missing, unreadable, not a WAV: go on
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
            await first_of(ended, self._closed, timeout=GREETING_LIMIT_SECONDS)
        finally:
            media.on_audio = None
        return not self._closed.is_set()

    async def leave_message(self, text: str, voice: str | None) -> bool:
        """Speak ``text`` onto the machine's recording, started, stopped and started again as
        the greeting goes on (sip_message.py); with ``message_quiet`` 0, wait for the end and
        say it once. ``message_starts`` counts the starts. False if the call ended first."""
        media = self._live_media()
        if media is None:
            return False
        detector = self._detector
        if detector is None or detector.settings.message_quiet <= 0:
            return await self.await_greeting_end() and await self.say(text, voice)
        starter = self.message_starter = detector.message_start()
        leaving = MessageOnMachine(media, starter, self._closed, self._note_first_audio)
        try:
            return await leaving.play(
                rendered(self.network.speech.stream(text, voice), self.request.reference, voice),
                GREETING_LIMIT_SECONDS,
            )
        finally:
            self.message_starts = leaving.starts

    async def gather(self, max_digits: int, timeout: timedelta) -> str | None:
        """Digits pressed since the last gather (during a prompt too), then more until
        ``max_digits`` or ``timeout`` without a new key."""
        while len(self._digits) < max_digits and not self._closed.is_set():
            self._digit_arrived.clear()
            got = await first_of(self._digit_arrived, self._closed, timeout=timeout.total_seconds())
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
        await first_of(self._closed, timeout=HANGUP_WAIT_SECONDS)
        return True

    async def hangup(self) -> Hangup:
        if not self._closed.is_set():
            self._hung_up_by_us = True
            if self._call is not None:
                with contextlib.suppress(baresip.BaresipError):
                    await self._call.hangup()
                await first_of(self._closed, timeout=HANGUP_WAIT_SECONDS)
            if not self._closed.is_set():  # the stack never confirmed: account for it anyway
                self._mark_closed(LOCAL_HANGUP)
        cause = (
            self._ending_cause if self._hung_up_by_us else self._close_reason or "callee hung up"
        )
        return Hangup(self._closed_at, cause, by_callee=not self._hung_up_by_us)

    # -- for a bridge to an agent (sip_agent.py) -------------------------------------------------

    @property
    def closed(self) -> asyncio.Event:
        """Set once the call has ended, whoever ended it."""
        return self._closed

    def live_media(self) -> Media | None:
        """The answered call's audio on the media clock; None once it is gone."""
        return self._live_media()

    # -- helpers --------------------------------------------------------------------------------

    async def _give_up(self, outcome: Outcome, cause: str) -> Failed:
        """CANCEL an unanswered call (baresip's hangup does that before a final response)."""
        self._hung_up_by_us = True
        if self._call is not None:
            with contextlib.suppress(baresip.BaresipError):
                await self._call.hangup()
            await first_of(self._closed, timeout=HANGUP_WAIT_SECONDS)
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
        detector = self._detector = self.network.new_answer_detector(self.request.amd_mode)
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
        await first_of(decided, self._closed, timeout=DETECTION_LIMIT_SECONDS)
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
            first = FirstAudio(now - self._answered_at, now - self._verdict_at)
            self.network.events.publish(first)
            self._answered_at = None


def _response_code(reason: str) -> int | None:
    head = reason.strip()[:3]
    return int(head) if len(head) == 3 and head.isdigit() and 300 <= int(head) < 700 else None

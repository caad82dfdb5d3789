"""Moves every live SIP call's audio on one clock: what we play out, and what we hear.

The binding gives each call two byte rings (2 s each way) that never block. One task ticks every
20 ms for all calls instead of a task per call, because 200 calls each waking 50 times a second
cost more than the audio. Each tick it tops up every call's transmit ring to about 200 ms ahead
(a prompt starts within one tick, and a hang-up or barge-in wastes little), and hands what each
call received to that call's listener (the answering-machine detector, the end-of-greeting
detector, a bridge to another call), or drops it.

A bridge (an agent's leg and a customer's call, ``Bridge`` below) moves each leg's received PCM
to the other's queue on the same tick: every call is read first, then every call written, so
the customer's audio reaches the agent's leg within the tick it arrived in. baresip decodes each
call to 8 kHz PCM, so legs with different codecs (PCMU on one, PCMA on the other) convert here.

Real time is the point here: audio is paced by the wall clock, whatever the engine's clock.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)

TICK_SECONDS = 0.02
BYTES_PER_SECOND = 16_000  # 8 kHz, 16-bit mono
AHEAD_BYTES = 3_200  # 200 ms queued in the binding's ring at most
READ_BYTES = 32_768  # the whole receive ring
# Bridged audio queued beyond this is late: the oldest goes, so a stall (a late tick) never
# turns into lasting delay on a conversation.
LIVE_BACKLOG_BYTES = 1_280  # 80 ms


class AudioPort(Protocol):
    """What the media clock needs of a call's audio (baresip's CallAudio)."""

    def read(self, max_bytes: int) -> bytes: ...
    def write(self, pcm: bytes) -> int: ...


@dataclass(eq=False)
class Media:
    """One call's audio: a queue to play, a listener for what arrives, and whether it is up."""

    audio: AudioPort
    on_audio: Callable[[bytes], None] | None = None
    queue: deque[memoryview] = field(default_factory=deque)
    queued_bytes: int = 0
    played_bytes: int = 0  # handed to the binding
    # Pacing restarts at each burst of audio after a silence: at anchor_at, anchor_bytes had
    # been handed over and the far end had heard them all.
    anchor_at: float = 0.0
    anchor_bytes: int = 0
    idle: bool = True
    first_audio_at: float | None = None
    alive: bool = True
    # Ticks on which the binding may still say the audio is not up: early media is announced
    # a moment before its streams exist.
    grace_ticks: int = 0
    heard_at: float = 0.0  # the tick that read what ``on_audio`` is being given
    waiters: list[tuple[int, asyncio.Future[bool]]] = field(default_factory=list)

    def enqueue(self, pcm: bytes) -> None:
        if pcm and self.alive:
            self.queue.append(memoryview(pcm))
            self.queued_bytes += len(pcm)

    def drained(self) -> "asyncio.Future[bool]":
        """Resolves True once everything queued so far has been played, False if the call dies."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if not self.alive:
            future.set_result(False)
        else:
            self.waiters.append((self.played_bytes + self.queued_bytes, future))
        return future

    def flush(self) -> None:
        """Drop what is queued and not yet handed to the binding (a message stopped because
        the greeting went on: message_start.py). Waiters for it resolve False: it will not be
        heard."""
        self.queue.clear()
        self.queued_bytes = 0
        for _, future in self.waiters:
            if not future.done():
                future.set_result(False)
        self.waiters.clear()

    def enqueue_live(self, pcm: bytes) -> None:
        """Queue audio heard on a bridged call, dropping the oldest past LIVE_BACKLOG_BYTES."""
        self.enqueue(pcm)
        while self.queued_bytes > LIVE_BACKLOG_BYTES and len(self.queue) > 1:
            self.queued_bytes -= len(self.queue.popleft())

    def kill(self) -> None:
        self.alive = False
        self.flush()


class MediaClock:
    def __init__(self) -> None:
        self._media: set[Media] = set()
        self._task: asyncio.Task[None] | None = None

    def attach(self, media: Media) -> None:
        self._media.add(media)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def detach(self, media: Media) -> None:
        media.kill()
        self._media.discard(media)

    async def close(self) -> None:
        for media in list(self._media):
            self.detach(media)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        while self._media:
            self.tick(loop.time())
            next_tick += TICK_SECONDS
            # Never try to catch up a backlog of ticks: pacing below reads the clock.
            next_tick = max(next_tick, loop.time())
            await asyncio.sleep(next_tick - loop.time())

    def tick(self, now: float) -> None:
        """One round over every call (the clock's task calls it every 20 ms)."""
        # Read everything before writing anything: a bridged call's audio then goes out to the
        # other leg on the tick it arrived (see Bridge).
        for step in (self._receive, self._send):
            for media in list(self._media):
                try:
                    step(media, now)
                except Exception:  # the binding says the call's audio is gone
                    if media.grace_ticks > 0:
                        media.grace_ticks -= 1
                        continue
                    log.debug("media of a call ended", exc_info=True)
                    self.detach(media)

    @staticmethod
    def _receive(media: Media, now: float) -> None:
        heard = media.audio.read(READ_BYTES)
        if heard and media.on_audio is not None:
            media.heard_at = now
            media.on_audio(heard)

    @staticmethod
    def _send(media: Media, now: float) -> None:
        if not media.alive:
            return
        if media.queue and media.idle:
            media.idle = False
            media.anchor_at, media.anchor_bytes = now, media.played_bytes
        # What the far end has heard by now, at 8 kHz from the anchor.
        heard_up_to = media.anchor_bytes + int((now - media.anchor_at) * BYTES_PER_SECOND)
        budget = min(AHEAD_BYTES, heard_up_to + AHEAD_BYTES - media.played_bytes)
        budget -= budget % 2
        while budget > 0 and media.queue:
            chunk = media.queue[0]
            taken = media.audio.write(bytes(chunk[:budget]))
            if taken <= 0:
                break
            if media.first_audio_at is None:
                media.first_audio_at = now
            media.played_bytes += taken
            media.queued_bytes -= taken
            budget -= taken
            if taken >= len(chunk):
                media.queue.popleft()
            else:
                media.queue[0] = chunk[taken:]
        if not media.queue and heard_up_to >= media.played_bytes:
            media.idle = True
        if media.waiters:
            # Played means heard: "say" returns when the callee has heard the words, not when
            # they were buffered.
            done = [w for w in media.waiters if w[0] <= min(media.played_bytes, heard_up_to)]
            for waiter in done:
                media.waiters.remove(waiter)
                if not waiter[1].done():
                    waiter[1].set_result(True)


@dataclass(eq=False)
class Bridge:
    """An agent's leg and a customer's call, each hearing the other (see the module docstring).

    The agent hears ``tone`` first; what the customer says meanwhile is dropped rather than
    queued behind it, so the agent then hears the customer live, not late by the tone.
    """

    agent: Media
    customer: Media
    customer_from: float  # loop time: the customer is relayed from here on (the tone is over)
    first_customer_audio_at: float | None = None
    # Told the moment the customer's first audio goes to the agent (a measurement).
    on_first_customer_audio: Callable[[float], None] | None = None

    def start(self, tone: bytes) -> None:
        self.agent.enqueue(tone)
        self.agent.on_audio = self.customer.enqueue_live
        self.customer.on_audio = self._from_customer

    def _from_customer(self, pcm: bytes) -> None:
        now = self.customer.heard_at
        if now < self.customer_from:
            return
        self.agent.enqueue_live(pcm)
        if self.first_customer_audio_at is None:
            self.first_customer_audio_at = now
            if self.on_first_customer_audio is not None:
                self.on_first_customer_audio(now)

    def stop(self) -> None:
        self.agent.on_audio = None
        self.customer.on_audio = None

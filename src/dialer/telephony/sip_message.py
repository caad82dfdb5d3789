"""A message left on a machine over SIP: started, stopped and started again as MessageStart
(message_start.py) hears the greeting go on, so that its last start is what the recording holds.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from dialer.telephony.sip_detectors import MessageStarting
from dialer.telephony.sip_media import Media
from dialer.telephony.waits import first_of

log = logging.getLogger(__name__)


async def rendered(chunks: AsyncIterator[bytes], reference: str, voice: str | None) -> bytes:
    """The speech as one piece of audio (a message may have to be played from its start again).
    Speech failing leaves what was rendered, and the log says why (as SipCall.say does)."""
    parts: list[bytes] = []
    try:
        async for pcm in chunks:
            parts.append(pcm)
    except Exception:
        log.exception("call %s: speech failed (voice %r)", reference, voice)
    return b"".join(parts)


class MessageOnMachine:
    """One message on one call's media: ``starter`` hears what arrives, a start queues the whole
    message, a stop drops what is queued (``Media.flush``; the few ms already handed to the SIP
    stack still play). ``starts`` counts the starts; ``on_start`` is told of each."""

    def __init__(
        self,
        media: Media,
        starter: MessageStarting,
        closed: asyncio.Event,
        on_start: Callable[[], None],
    ) -> None:
        self.media = media
        self.starter = starter
        self.closed = closed
        self.on_start = on_start
        self.starts = 0

    async def play(self, rendering: Awaitable[bytes], limit_seconds: float) -> bool:
        """Listen from now (so nothing heard while ``rendering`` runs is lost), and play as the
        starter says until a start nothing undoes, or the message heard to its end; after
        ``limit_seconds`` stop listening and play from the last start (or start then). False
        if the call ended first."""
        media, starter = self.media, self.starter
        moved, moves = asyncio.Event(), list[str]()

        def listen(heard: bytes) -> None:
            if (move := starter.feed(heard)) is not None:
                moves.append(move)
                moved.set()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_seconds
        played: asyncio.Future[bool] | None = None
        heard = asyncio.Event()  # the message, from its last start, has been heard to its end
        media.on_audio = listen
        try:
            pcm = await rendering
            while not starter.final:
                waits = (moved, self.closed) if played is None else (moved, self.closed, heard)
                if not await first_of(*waits, timeout=deadline - loop.time()):
                    break  # the limit
                if self.closed.is_set():
                    return False
                if heard.is_set() and not moves:
                    return bool(played is not None and played.result())
                moved.clear()
                for move in moves:
                    media.flush()  # a start begins the message again, a stop silences it
                    played, heard = None, asyncio.Event()
                    if move == "start":
                        played = self._start(pcm, heard)
                moves.clear()
        finally:
            media.on_audio = None
        if played is None:
            played = self._start(pcm, heard)
        return await played

    def _start(self, pcm: bytes, heard: asyncio.Event) -> "asyncio.Future[bool]":
        self.starts += 1
        self.on_start()
        self.media.enqueue(pcm)
        played = self.media.drained()
        played.add_done_callback(lambda _: heard.set())
        return played

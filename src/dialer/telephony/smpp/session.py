"""One TCP connection to the carrier, bound or about to be: the sequence numbers, the
responses awaited, the window of outstanding submits, enquire_link both ways, and what comes
in (receipts, texts), handed on in the order it arrives."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from dialer.ports import Timer
from dialer.telephony.smpp import pdu
from dialer.telephony.smpp.rate import RateLimiter

log = logging.getLogger(__name__)


class Outcome(Enum):
    ANSWERED = "answered"
    NOT_WRITTEN = "not written"  # certainly never reached the carrier
    NO_ANSWER = "no answer"  # written, and then the connection or the wait ended


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    response: pdu.Pdu | None = None
    reason: str = ""


class ConnectionLost(Exception):
    pass


Handler = Callable[[pdu.Pdu], Awaitable[int]]  # returns the command_status to answer with


async def wait_for(timer: Timer, future: "asyncio.Future[Any]", seconds: float) -> bool:
    """Wait for `future` at most `seconds` of the timer's time; True if it is done."""
    until = timer.now() + timedelta(seconds=seconds)
    sleeper = asyncio.ensure_future(timer.sleep_until(until))
    waiters: set[asyncio.Future[Any]] = {future, sleeper}
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
    return future.done()


class Session:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        timer: Timer,
        *,
        window: int,
        response_timeout: float,
        enquire_link_interval: float,
        on_request: Handler,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._timer = timer
        self._window = asyncio.Semaphore(window)
        self._response_timeout = response_timeout
        self._enquire_link_interval = enquire_link_interval
        self._on_request = on_request
        self._sequence = 0
        self._pending: dict[int, asyncio.Future[pdu.Pdu]] = {}
        self._last_heard: datetime = timer.now()
        self._tasks: list[asyncio.Task[None]] = []
        self.finished = asyncio.Event()
        self.bound = False
        self.enquire_links_sent = 0

    @property
    def closed(self) -> bool:
        return self.finished.is_set()

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._read_loop(), name="smpp-read"))

    def start_keepalive(self) -> None:
        self._tasks.append(asyncio.create_task(self._keepalive(), name="smpp-enquire-link"))

    def _next_sequence(self) -> int:
        self._sequence = self._sequence % 0x7FFFFFFF + 1
        return self._sequence

    async def request(self, command_id: int, body: bytes = b"") -> Answer:
        """Send one request and wait for its response (or the timeout, or the end)."""
        if self.closed:
            return Answer(Outcome.NOT_WRITTEN, reason="connection lost")
        sequence = self._next_sequence()
        future: asyncio.Future[pdu.Pdu] = asyncio.get_running_loop().create_future()
        self._pending[sequence] = future
        try:
            self._writer.write(pdu.encode(command_id, sequence, body))
            if not await wait_for(self._timer, future, self._response_timeout):
                return Answer(
                    Outcome.NO_ANSWER, reason=f"no response in {self._response_timeout:g}s"
                )
            if future.exception() is not None:
                return Answer(Outcome.NO_ANSWER, reason="connection lost before the response")
            return Answer(Outcome.ANSWERED, future.result())
        finally:
            self._pending.pop(sequence, None)

    async def submit(self, body: bytes, rate: RateLimiter) -> Answer:
        """A submit_sm within the window and the bind's rate; NOT_WRITTEN if the connection
        ended while it waited its turn."""
        async with self._window:
            await rate.acquire()
            return await self.request(pdu.SUBMIT_SM, body)

    async def _read_loop(self) -> None:
        try:
            while True:
                received = await pdu.read_pdu(self._reader)
                self._last_heard = self._timer.now()
                if received.command_id & pdu.RESPONSE:
                    future = self._pending.get(received.sequence)
                    if future is not None and not future.done():
                        future.set_result(received)
                    elif received.command_id != pdu.GENERIC_NACK:
                        log.info("SMPP: a late response (sequence %d) ignored", received.sequence)
                    continue
                await self._answer(received)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            log.info("SMPP: the connection closed")
        except ValueError as exc:
            log.warning("SMPP: a broken PDU stream (%s): closing", exc)
        finally:
            self._end()

    async def _answer(self, request: pdu.Pdu) -> None:
        command = request.command_id
        if command == pdu.ENQUIRE_LINK:
            self._send(pdu.ENQUIRE_LINK | pdu.RESPONSE, request.sequence)
        elif command == pdu.UNBIND:
            self._send(pdu.UNBIND | pdu.RESPONSE, request.sequence)
            log.info("SMPP: the carrier unbound")
            self._writer.close()
        elif command in (pdu.DELIVER_SM, pdu.DATA_SM):
            status = await self._on_request(request)
            # deliver_sm_resp's message_id is unused and empty; data_sm_resp's too
            self._send(command | pdu.RESPONSE, request.sequence, b"\x00", status)
        elif command != pdu.ALERT_NOTIFICATION:  # the one request that has no response
            self._send(pdu.GENERIC_NACK, request.sequence, status=pdu.ESME_RINVCMDID)

    def _send(self, command_id: int, sequence: int, body: bytes = b"", status: int = 0) -> None:
        if not self.closed:
            self._writer.write(pdu.encode(command_id, sequence, body, status))

    async def _keepalive(self) -> None:
        """enquire_link after `interval` without hearing from the carrier; no answer to it
        within the response timeout means the link is dead: close, and the provider rebinds."""
        interval = timedelta(seconds=self._enquire_link_interval)
        while not self.closed:
            due = self._last_heard + interval
            if self._timer.now() < due:
                await self._timer.sleep_until(due)
                continue
            self.enquire_links_sent += 1
            answer = await self.request(pdu.ENQUIRE_LINK)
            if answer.outcome is not Outcome.ANSWERED and not self.closed:
                log.warning("SMPP: enquire_link unanswered (%s): reconnecting", answer.reason)
                self.abort()
                return
            self._last_heard = max(self._last_heard, self._timer.now())

    def abort(self) -> None:
        self._writer.close()
        self._end()

    def _end(self) -> None:
        if self.closed:
            return
        self.finished.set()
        self.bound = False
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionLost())
                future.exception()  # retrieved here: nobody may be left to read it
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        self._writer.close()

    async def unbind(self) -> None:
        if not self.closed and self.bound:
            await self.request(pdu.UNBIND)
        self.abort()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()

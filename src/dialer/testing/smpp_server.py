"""A small SMSC for tests and the benchmark: an SMPP 3.4 server on 127.0.0.1 that takes binds,
answers submit_sm, sends delivery receipts and inbound texts, and can be told to misbehave.

Built on asyncio streams and the provider's own PDU module (smpp34's codec underneath), so it
runs on the test's event loop: on a virtual-time loop its receipt delays are virtual too.

What it can be told, all from the test:

- ``refuse_binds = status``: answer every bind with that status (e.g. ESME_RBINDFAIL);
- ``throttle_next(n)``: answer the next n submit_sm with ESME_RTHROTTLED (or another status);
- ``drop_after(k, before_resp=...)``: close the connection at the k-th submit_sm from now,
  after its submit_sm_resp or before it (then the message is taken but unacknowledged: the
  client's uncertainty window); ``then_refuse_binds=status`` refuses the binds after it;
- ``receipt_before_resp = True``: write each receipt before the submit_sm_resp it is for;
- ``hold_answers = True``: take each submit_sm and answer none, its receipt kept for the next
  bind (a text in flight when its sender dies: the crash tests kill the sender meanwhile);
- ``send_inbound(sender, text)``: a deliver_sm from a person (e.g. "STOP").

Receipts for messages taken while no receiver is bound wait for the next bind, as a real SMSC
keeps them. Each receipt carries the recipient (its source_addr) and the first 20 characters
of the text, as SMPP 3.4's appendix B has it.
"""

import asyncio
import contextlib
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dialer.clocks import SystemClock
from dialer.domain.sms import DeliveryState
from dialer.ports import Clock
from dialer.telephony.smpp import pdu, receipts, text
from dialer.testing.smpp_received import Received, ReceivedMessage, ReceivedPart

_RECEIVING_BINDS = {pdu.BIND_TRANSCEIVER, pdu.BIND_RECEIVER}
_BINDS = {pdu.BIND_TRANSCEIVER, pdu.BIND_RECEIVER, pdu.BIND_TRANSMITTER}


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    bind: int | None = None
    sequence: int = 0
    pending: dict[int, "asyncio.Future[pdu.Pdu]"] = field(default_factory=dict)

    def write(self, command_id: int, sequence: int, body: bytes = b"", status: int = 0) -> None:
        if not self.writer.is_closing():
            self.writer.write(pdu.encode(command_id, sequence, body, status))

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence

    @property
    def receives(self) -> bool:
        return self.bind in _RECEIVING_BINDS and not self.writer.is_closing()


class SmppTestServer:
    def __init__(
        self,
        system_id: str,
        password: str,
        *,
        clock: Clock | None = None,
        receipt_delay: float = 0.0,
        receipts: bool = True,
        receipt_state: DeliveryState = DeliveryState.DELIVERED,
    ) -> None:
        self.system_id = system_id
        self.password = password
        self.clock = clock or SystemClock()
        self.receipt_delay = receipt_delay
        self.receipts = receipts
        self.receipt_state = receipt_state
        self.receipt_before_resp = False
        self.receipts_as_data_sm = False  # receipts as data_sm (message_payload) instead
        self.receipt_tlvs = True  # False: the receipt is its text only, as older SMSCs send
        self.silent = False  # read everything, answer nothing: a hung SMSC
        self.hold_answers = False  # take submits, answer none; receipts wait for a new bind
        self.refuse_binds: int | None = None
        self.received = Received()
        self.bind_attempts: list[tuple[str, int]] = []  # (system_id, status answered)
        self.bind_times: list[datetime] = []
        self.enquire_links = 0
        self.submit_times: list[datetime] = []  # every submit_sm's arrival, refused ones too
        self.inbound_answers: list[int] = []  # deliver_sm_resp statuses for inbound texts
        self.receipt_answers: list[int] = []
        self._throttle = 0
        self._throttle_status = pdu.ESME_RTHROTTLED
        self._throttle_from = 0
        self._drop_at: int | None = None
        self._drop_before_resp = False
        self._refuse_after_drop: int | None = None
        self._server: asyncio.Server | None = None
        self._connections: list[_Connection] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._undelivered: list[tuple[ReceivedPart, str]] = []  # receipts waiting for a bind
        self._counter = 0

    @property
    def parts(self) -> list[ReceivedPart]:
        """Every submit_sm taken, in order."""
        return self.received.parts

    @property
    def messages(self) -> list[ReceivedMessage]:
        """Every whole text taken (long ones once all their parts came), in order."""
        return self.received.messages

    # -- control -------------------------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in self._connections:
            connection.writer.close()
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    def throttle_next(self, count: int, status: int = pdu.ESME_RTHROTTLED, after: int = 0) -> None:
        """Refuse `count` submit_sm with `status`, once `after` more have been taken."""
        self._throttle = count
        self._throttle_status = status
        self._throttle_from = len(self.received.parts) + after

    def drop_after(
        self, count: int, *, before_resp: bool, then_refuse_binds: int | None = None
    ) -> None:
        """Close the connection at the `count`-th submit_sm from now; from then on answer
        binds with `then_refuse_binds` if given (a carrier down for a while: the rest of a
        long text cannot follow)."""
        self._drop_at = len(self.received.parts) + count
        self._drop_before_resp = before_resp
        self._refuse_after_drop = then_refuse_binds

    def drop(self) -> None:
        """Close every connection now, as a carrier's restart would."""
        for connection in self._connections:
            connection.writer.close()

    @property
    def bound(self) -> int:
        return sum(1 for c in self._connections if c.bind and not c.writer.is_closing())

    async def send_inbound(
        self, sender: str, message: str, recipient: str = "447700900000", reference: str = "mo"
    ) -> int:
        """A person's text to the bound receiver, in concatenated parts if it is long; the
        client's deliver_sm_resp status (the first refusal, if any)."""
        statuses = []
        for part in text.split(message, reference):
            short = pdu.ShortMessage(
                sender.removeprefix("+"),
                pdu.TON_INTERNATIONAL,
                recipient.removeprefix("+"),
                pdu.TON_INTERNATIONAL,
                part.esm_class,
                part.data_coding,
                0,
                part.short_message,
            )
            statuses.append(await self._deliver(short))
        self.inbound_answers.extend(statuses)
        return next((status for status in statuses if status != pdu.ESME_ROK), pdu.ESME_ROK)

    async def unbind(self) -> bool:
        """Unbind the bound client, as an SMSC going down for maintenance does; True if it
        answered."""
        connection = self._receiver()
        if connection is None:
            return False
        answer = await _answer(self._write_request(connection, pdu.UNBIND, b""))
        connection.writer.close()
        return answer is not None

    async def enquire_link(self) -> bool:
        """Probe the bound client; True if it answered."""
        connection = self._receiver()
        if connection is None:
            return False
        answer = await _answer(self._write_request(connection, pdu.ENQUIRE_LINK, b""))
        return answer is not None

    # -- serving -------------------------------------------------------------------------

    def _receiver(self) -> _Connection | None:
        return next((c for c in reversed(self._connections) if c.receives), None)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = _Connection(reader, writer)
        self._connections.append(connection)
        try:
            while True:
                request = await pdu.read_pdu(reader)
                if request.command_id & pdu.RESPONSE:
                    future = connection.pending.pop(request.sequence, None)
                    if future is not None and not future.done():
                        future.set_result(request)
                    continue
                await self._handle(connection, request)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()
            for future in connection.pending.values():
                if not future.done():
                    future.cancel()
            self._connections.remove(connection)

    async def _handle(self, connection: _Connection, request: pdu.Pdu) -> None:
        command = request.command_id
        if self.silent and connection.bind is not None:
            if command == pdu.SUBMIT_SM:
                self.submit_times.append(self.clock.now())
            return
        if command in _BINDS:
            bind = pdu.parse_bind(request.body)
            status = pdu.ESME_ROK
            if self.refuse_binds is not None:
                status = self.refuse_binds
            elif bind.system_id != self.system_id:
                status = pdu.ESME_RINVSYSID
            elif bind.password != self.password:
                status = pdu.ESME_RINVPASWD
            self.bind_attempts.append((bind.system_id, status))
            self.bind_times.append(self.clock.now())
            connection.write(command | pdu.RESPONSE, request.sequence, pdu.c_string("smsc"), status)
            if status == pdu.ESME_ROK:
                connection.bind = command
                if command in _RECEIVING_BINDS:
                    waiting, self._undelivered = self._undelivered, []
                    for part, original in waiting:
                        self._spawn(self._send_receipt(part, original, 0.0))
        elif command == pdu.ENQUIRE_LINK:
            self.enquire_links += 1
            connection.write(pdu.ENQUIRE_LINK | pdu.RESPONSE, request.sequence)
        elif command == pdu.UNBIND:
            connection.write(pdu.UNBIND | pdu.RESPONSE, request.sequence)
            connection.writer.close()
        elif command == pdu.SUBMIT_SM:
            await self._submit(connection, request)
        else:
            connection.write(pdu.GENERIC_NACK, request.sequence, status=pdu.ESME_RINVCMDID)

    async def _submit(self, connection: _Connection, request: pdu.Pdu) -> None:
        self.submit_times.append(self.clock.now())
        if connection.bind not in (pdu.BIND_TRANSCEIVER, pdu.BIND_TRANSMITTER):
            connection.write(pdu.SUBMIT_SM | pdu.RESPONSE, request.sequence, status=0x04)
            return
        if self._throttle > 0 and len(self.received.parts) >= self._throttle_from:
            self._throttle -= 1
            connection.write(
                pdu.SUBMIT_SM | pdu.RESPONSE, request.sequence, status=self._throttle_status
            )
            return
        message = pdu.decode_short_message(request)
        body, concatenation = text.strip_udh(message.short_message, message.esm_class)
        self._counter += 1
        message_id = f"{self._counter:08X}"
        drop = self._drop_at is not None and len(self.received.parts) + 1 >= self._drop_at
        answered = not (drop and self._drop_before_resp) and not self.hold_answers
        part = ReceivedPart(
            message_id,
            message.source_addr,
            message.source_ton,
            message.destination_addr,
            message.esm_class,
            message.data_coding,
            message.registered_delivery,
            text.decode(body, message.data_coding),
            concatenation,
            self.clock.now(),
            answered,
        )
        original = self.received.add(part)
        wants_receipt = self.receipts and part.registered_delivery & 0x01
        if self.hold_answers:
            if wants_receipt:  # for whoever binds next, as the writer is about to die
                self._undelivered.append((part, original))
            return
        if wants_receipt and self.receipt_before_resp and answered:
            self._write_receipt(part, original)
        if answered:
            connection.write(
                pdu.SUBMIT_SM | pdu.RESPONSE, request.sequence, pdu.message_id_body(message_id)
            )
        if wants_receipt and not (self.receipt_before_resp and answered):
            self._spawn(self._send_receipt(part, original, self.receipt_delay))
        if drop:
            self._drop_at = None
            if self._refuse_after_drop is not None:
                self.refuse_binds, self._refuse_after_drop = self._refuse_after_drop, None
            connection.writer.close()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _receipt(self, part: ReceivedPart, original: str) -> pdu.ShortMessage:
        state = self.receipt_state
        words = receipts.receipt_text(part.message_id, state, "000", original, self.clock.now())
        if text.is_gsm(words):
            body, coding = text.gsm_encode(words), text.DATA_CODING_GSM
        else:
            body, coding = words.encode("utf-16-be"), text.DATA_CODING_UCS2
        return pdu.ShortMessage(
            part.destination,
            pdu.TON_INTERNATIONAL,
            part.source,
            part.source_ton,
            0x04,
            coding,
            0,
            body,
            {
                pdu.TLV_RECEIPTED_MESSAGE_ID: pdu.c_string(part.message_id),
                pdu.TLV_MESSAGE_STATE: bytes((receipts.STATE_CODES[state],)),
            }
            if self.receipt_tlvs
            else {},
        )

    def _write_receipt(self, part: ReceivedPart, original: str) -> None:
        """Write a receipt now, without waiting for its answer (which the read loop that
        calls this is the one to read)."""
        future = self._write_deliver(self._receipt(part, original))
        self._spawn(self._receipt_answered(part, original, future))

    async def _send_receipt(self, part: ReceivedPart, original: str, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        await self._receipt_answered(
            part, original, self._write_deliver(self._receipt(part, original))
        )

    async def _receipt_answered(
        self, part: ReceivedPart, original: str, future: "asyncio.Future[pdu.Pdu] | None"
    ) -> None:
        answer = await _answer(future)
        if answer is None:
            self._undelivered.append((part, original))  # sent again at the next bind
        else:
            self.receipt_answers.append(answer.status)

    async def _deliver(self, message: pdu.ShortMessage) -> int:
        """A deliver_sm to the bound receiver: its response status, -1 if none came."""
        answer = await _answer(self._write_deliver(message))
        return -1 if answer is None else answer.status

    def _write_deliver(self, message: pdu.ShortMessage) -> "asyncio.Future[pdu.Pdu] | None":
        connection = self._receiver()
        if connection is None:
            return None
        if self.receipts_as_data_sm and message.esm_class & 0x04:
            return self._write_request(connection, pdu.DATA_SM, pdu.encode_data_sm_body(message))
        body = pdu.encode_short_message(pdu.DELIVER_SM, 0, message)[pdu.HEADER.size :]
        return self._write_request(connection, pdu.DELIVER_SM, body)

    def _write_request(
        self, connection: _Connection, command: int, body: bytes
    ) -> "asyncio.Future[pdu.Pdu]":
        sequence = connection.next_sequence()
        future: asyncio.Future[pdu.Pdu] = asyncio.get_running_loop().create_future()
        connection.pending[sequence] = future
        connection.write(command, sequence, body)
        return future


async def _answer(future: "asyncio.Future[pdu.Pdu] | None") -> pdu.Pdu | None:
    """The response, or None if there was no receiver or the connection ended first."""
    if future is None:
        return None
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        if future.cancelled():
            return None
        raise

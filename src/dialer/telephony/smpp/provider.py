"""The SMPP 3.4 provider: one bind to a carrier, kept up, and texts sent through it.

What each answer becomes (docs/smpp.md has the table): a submit_sm_resp with ESME_ROK is
ACCEPTED; ESME_RTHROTTLED and ESME_RMSGQFUL are RETRY and slow the bind down; any other
status is FAILED with its name; a submit written but never answered (connection lost,
response timeout) is UNKNOWN, since the carrier may have taken it; one never written is RETRY.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from dialer.domain.sms import (
    DeliveryState,
    OutboundSms,
    SmppBindMode,
    SmppSettings,
    SubmitResult,
    SubmitStatus,
)
from dialer.domain.webhook_address import AddressPolicy
from dialer.ports import Clock, Timer
from dialer.ports.sms import SmsReports
from dialer.telephony.smpp import destination, pdu, receipts, text
from dialer.telephony.smpp.rate import RateLimiter
from dialer.telephony.smpp.session import Outcome, Session, wait_for

log = logging.getLogger(__name__)

_RETRYABLE = {pdu.ESME_RTHROTTLED, pdu.ESME_RMSGQFUL}
_PART_RETRIES = 5  # a later part of a long text refused for now: tried again this many times
_MAX_ALPHANUMERIC = 11
_MAX_PARTIAL_TEXTS = 1000  # inbound long texts waiting for their other parts
_MAX_EARLY_RECEIPTS = 10_000  # receipts whose submit_sm_resp had not been read yet


@dataclass(frozen=True)
class _PartResult:
    status: SubmitStatus
    provider_id: str = ""
    reason: str = ""


def address(number: str) -> tuple[str, int]:
    """An address and its TON: digits (with or without +) are international; anything else is
    an alphanumeric sender ID."""
    digits = number.removeprefix("+")
    if digits.isdigit():
        return digits, pdu.TON_INTERNATIONAL
    return number, pdu.TON_ALPHANUMERIC


class _WallTimer:
    """A plain Clock (wall time) given where a Timer is wanted: its waits are real seconds."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def now(self) -> datetime:
        return self._clock.now()

    async def sleep_until(self, when: datetime) -> None:
        await asyncio.sleep(max(0.0, (when - self._clock.now()).total_seconds()))

    async def idle_until(self, when: datetime) -> None:
        await self.sleep_until(when)

    def real_seconds(self, span: timedelta) -> float | None:
        return span.total_seconds()


def as_timer(clock: Clock | Timer) -> Timer:
    if hasattr(clock, "sleep_until"):
        return cast(Timer, clock)
    return _WallTimer(clock)


class SmppProvider:
    name = "smpp"

    def __init__(
        self,
        settings: SmppSettings,
        clock: Clock | Timer,
        *,
        policy: AddressPolicy | None = None,
        resolve: destination.AsyncResolver = destination.resolve,
    ) -> None:
        """``policy``: where a tenant's bind may connect (public addresses unless the
        operator allows more), checked at each connect; None for the operator's own
        ``--sms smpp``, which goes wherever DIALER_SMS_SMPP_HOST says."""
        clock = as_timer(clock)
        if clock.real_seconds(timedelta(seconds=1)) is None:
            # enquire_link, response timeouts and the rate are waits that must really pass
            raise ValueError("the SMPP provider needs a timer whose waits pass (not --speed max)")
        self.settings = settings
        self.clock = clock
        self.rate = RateLimiter(settings.throughput, clock)
        self.binds = 0  # successful binds so far: tests and the benchmark read it
        self.last_bind_error = ""
        self._policy = policy
        self._resolve = resolve
        self._reports: SmsReports | None = None
        self._session: Session | None = None
        self._bound = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._closing = False
        self._fragments: dict[tuple[str, int], dict[int, bytes]] = {}
        # Parts the SMSC took whose final receipt has not come yet (what ``settle`` waits
        # for), and final receipts that overtook their submit_sm_resp.
        self._awaiting: set[str] = set()
        self._early: dict[str, None] = {}
        self._all_receipted = asyncio.Event()
        self._all_receipted.set()

    def __repr__(self) -> str:  # the settings hold the password: never shown
        return (
            f"SmppProvider({self.settings.host}:{self.settings.port} as {self.settings.system_id})"
        )

    async def start(self, reports: SmsReports) -> None:
        self._reports = reports
        self._closing = False
        self._runner = asyncio.create_task(self._run(), name="smpp-bind")

    async def wait_bound(self) -> bool:
        """Wait one response timeout for a bind; True if there is one."""
        return await self._wait_bound()

    async def settle(self) -> None:
        """Wait for the final receipts of the parts this bind sent, one response timeout at
        most: the end of a run to the end (``SmsSender.drain``). Receipts later than that
        come on the next bind, as an SMSC keeps them for one (docs/sms.md)."""
        if not self.settings.registered_delivery or self._all_receipted.is_set():
            return
        waiter = asyncio.ensure_future(self._all_receipted.wait())
        await wait_for(self.clock, waiter, self.settings.response_timeout)
        waiter.cancel()

    def _sent(self, provider_id: str) -> None:
        if provider_id in self._early:
            del self._early[provider_id]
        elif self.settings.registered_delivery:
            self._awaiting.add(provider_id)
            self._all_receipted.clear()

    def _receipted(self, provider_id: str) -> None:
        if provider_id in self._awaiting:
            self._awaiting.discard(provider_id)
            if not self._awaiting:
                self._all_receipted.set()
            return
        if len(self._early) >= _MAX_EARLY_RECEIPTS:
            del self._early[next(iter(self._early))]
        self._early[provider_id] = None

    async def close(self) -> None:
        self._closing = True
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        if self._session is not None:
            await self._session.unbind()
        self._bound.clear()

    # -- the bind, kept up ---------------------------------------------------------------

    async def _run(self) -> None:
        delay = self.settings.reconnect_min
        while not self._closing:
            session = await self._connect()
            if session is not None:
                delay = self.settings.reconnect_min
                self._session = session
                self._bound.set()
                await session.finished.wait()
                self._bound.clear()
                log.warning("SMPP: bind to %s lost", self._where())
            await self.clock.sleep_until(self.clock.now() + timedelta(seconds=delay))
            delay = min(delay * 2, self.settings.reconnect_max)

    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    async def _connect(self) -> Session | None:
        settings = self.settings
        host = settings.host
        if self._policy is not None:
            try:
                host = await destination.checked_address(
                    host, settings.port, self._policy, self._resolve
                )
            except destination.Refused as exc:
                self.last_bind_error = f"refused: {exc}"
                log.warning("SMPP: %s: %s", self._where(), self.last_bind_error)
                return None
        # a host that drops our SYNs would hold the connect for minutes: bounded like a bind
        connecting = asyncio.ensure_future(asyncio.open_connection(host, settings.port))
        try:
            if not await wait_for(self.clock, connecting, settings.response_timeout):
                raise TimeoutError(f"no answer in {settings.response_timeout:g}s")
            reader, writer = connecting.result()
        except OSError as exc:  # TimeoutError is one
            self.last_bind_error = f"cannot connect: {exc.strerror or exc}"
            log.warning("SMPP: %s: %s", self._where(), self.last_bind_error)
            return None
        finally:
            connecting.cancel()
        session = Session(
            reader,
            writer,
            self.clock,
            window=settings.window,
            response_timeout=settings.response_timeout,
            enquire_link_interval=settings.enquire_link_interval,
            on_request=self._received,
        )
        session.start()
        try:
            return await self._bind(session)
        except asyncio.CancelledError:
            session.abort()  # closed while binding
            raise

    async def _bind(self, session: Session) -> Session | None:
        settings = self.settings
        command = (
            pdu.BIND_TRANSCEIVER
            if settings.bind_mode is SmppBindMode.TRANSCEIVER
            else pdu.BIND_TRANSMITTER
        )
        answer = await session.request(
            command, pdu.bind_body(settings.system_id, settings.password, settings.system_type)
        )
        if answer.response is None or answer.response.status != pdu.ESME_ROK:
            self.last_bind_error = (
                f"bind refused: {pdu.status_name(answer.response.status)}"
                if answer.response is not None
                else f"bind unanswered: {answer.reason}"
            )
            log.error("SMPP: %s as %s: %s", self._where(), settings.system_id, self.last_bind_error)
            session.abort()
            return None
        session.bound = True
        session.start_keepalive()
        self.binds += 1
        self.last_bind_error = ""
        log.info(
            "SMPP: bound to %s as %s (%s)",
            self._where(),
            settings.system_id,
            settings.bind_mode.value,
        )
        return session

    async def _wait_bound(self) -> bool:
        if self._bound.is_set():
            return True
        waiter = asyncio.ensure_future(self._bound.wait())
        sleeper = asyncio.ensure_future(
            self.clock.sleep_until(
                self.clock.now() + timedelta(seconds=self.settings.response_timeout)
            )
        )
        try:
            await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            sleeper.cancel()
        return self._bound.is_set()

    # -- sending -------------------------------------------------------------------------

    async def submit(self, message: OutboundSms) -> SubmitResult:
        source, source_ton = address(message.sender)
        if source_ton == pdu.TON_ALPHANUMERIC and not (
            0 < len(source) <= _MAX_ALPHANUMERIC and source.isascii()
        ):
            return SubmitResult(
                SubmitStatus.FAILED, reason=f"sender ID {source!r} is not 1-11 ASCII characters"
            )
        destination, destination_ton = address(message.to)
        if destination_ton != pdu.TON_INTERNATIONAL:
            return SubmitResult(SubmitStatus.FAILED, reason=f"{message.to!r} is not a number")
        try:
            parts = text.split(message.text, message.message_id)
        except ValueError as exc:
            return SubmitResult(SubmitStatus.FAILED, reason=str(exc))
        provider_ids: list[str] = []
        for index, part in enumerate(parts):
            short = pdu.ShortMessage(
                source,
                source_ton,
                destination,
                destination_ton,
                part.esm_class,
                part.data_coding,
                1 if self.settings.registered_delivery else 0,
                part.short_message,
            )
            result = await self._submit_part(short, retries=_PART_RETRIES if index else 0)
            if result.status is SubmitStatus.ACCEPTED:
                provider_ids.append(result.provider_id)
                continue
            if index == 0:
                retry_after = self.rate.interval if result.status is SubmitStatus.RETRY else None
                return SubmitResult(
                    result.status, parts=len(parts), reason=result.reason, retry_after=retry_after
                )
            # Some parts are with the carrier: sending the text again would double them.
            status = (
                SubmitStatus.FAILED
                if result.status is SubmitStatus.FAILED
                else SubmitStatus.UNKNOWN
            )
            return SubmitResult(
                status,
                tuple(provider_ids),
                len(parts),
                f"part {index + 1} of {len(parts)}: {result.reason}",
            )
        return SubmitResult(SubmitStatus.ACCEPTED, tuple(provider_ids), len(parts))

    async def _submit_part(self, message: pdu.ShortMessage, retries: int) -> _PartResult:
        result = await self._submit_once(message)
        for _ in range(retries):
            if result.status is not SubmitStatus.RETRY:
                break
            result = await self._submit_once(message)
        return result

    async def _submit_once(self, message: pdu.ShortMessage) -> _PartResult:
        if not await self._wait_bound() or self._session is None:
            return _PartResult(
                SubmitStatus.RETRY, reason=f"not bound ({self.last_bind_error or 'connecting'})"
            )
        body = pdu.encode_short_message(pdu.SUBMIT_SM, 0, message)[pdu.HEADER.size :]
        answer = await self._session.submit(body, self.rate)
        if answer.outcome is Outcome.NOT_WRITTEN:
            return _PartResult(SubmitStatus.RETRY, reason=answer.reason)
        if answer.response is None:
            return _PartResult(SubmitStatus.UNKNOWN, reason=answer.reason)
        status = answer.response.status
        if status == pdu.ESME_ROK:
            self.rate.recover()
            provider_id = pdu.parse_message_id(answer.response.body)
            self._sent(provider_id)
            return _PartResult(SubmitStatus.ACCEPTED, provider_id)
        if status in _RETRYABLE:
            self.rate.slow_down()
            log.info("SMPP: %s: rate now %.2f parts/s", pdu.status_name(status), self.rate.rate)
            return _PartResult(SubmitStatus.RETRY, reason=pdu.status_name(status))
        return _PartResult(SubmitStatus.FAILED, reason=pdu.status_name(status))

    # -- what comes back -----------------------------------------------------------------

    async def _received(self, request: pdu.Pdu) -> int:
        """A deliver_sm or data_sm: handed on before it is acknowledged, so one we could not
        hand on is answered with a temporary error and the carrier sends it again."""
        reports = self._reports
        try:
            message = pdu.decode_short_message(request)
        except Exception as exc:  # noqa: BLE001 (the codec's errors, and our parsers')
            log.warning("SMPP: an undecodable deliver_sm (%s)", exc)
            return pdu.ESME_RSYSERR
        if reports is None:
            return pdu.ESME_RX_T_APPN
        now = self.clock.now()
        try:
            if receipts.is_receipt(message):
                report = receipts.parse_receipt(message, now)
                await reports.delivery_report(report)
                if report.state is not DeliveryState.ENROUTE:
                    self._receipted(report.provider_id)
            else:
                body = self._reassemble(message)
                if body is not None:
                    await reports.inbound(receipts.parse_inbound(body, message, now))
        except Exception:
            log.exception("SMPP: handing on a deliver_sm failed; the carrier will resend it")
            return pdu.ESME_RX_T_APPN
        return pdu.ESME_ROK

    def _reassemble(self, message: pdu.ShortMessage) -> bytes | None:
        """The whole text once every part of it came; None while parts are missing."""
        body, concatenation = text.strip_udh(message.body(), message.esm_class)
        if concatenation is None or concatenation.total <= 1:
            return body
        key = (message.source_addr, concatenation.reference)
        if key not in self._fragments and len(self._fragments) >= _MAX_PARTIAL_TEXTS:
            # a part whose siblings never came: the oldest goes, so memory stays bounded
            del self._fragments[next(iter(self._fragments))]
        parts = self._fragments.setdefault(key, {})
        parts[concatenation.index] = body
        if len(parts) < concatenation.total:
            return None
        del self._fragments[key]
        return b"".join(parts[index] for index in sorted(parts))

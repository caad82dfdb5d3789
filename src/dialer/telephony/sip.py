"""The SIP driver (``--network sip``): real calls to a carrier trunk, on baresip-python.

One baresip Runtime per process (the binding allows no more), one user agent per caller ID (so
the From header carries the campaign's number; P-Asserted-Identity too), trunk style: no
registration, digest credentials answered when challenged. See docs/sip.md.

A call's life here:
1. ``originate`` waits for a free line (``max_calls``, at most the process's capacity, see
   sip_capacity.py) and an INVITE slot (``calls_per_second``), then dials with the attempt's
   reference in X-Dialer-Reference. A dial the stack refuses before sending anything raises
   CallNotPlaced: the engine queues the destination again, no attempt used. The call's first
   events may arrive before the binding hands us its Call: sip_events.py keeps them.
2. ``progress`` waits for the answer. No provisional response at all within a few seconds, or a
   transport failure, is NoConnection; the ring timeout (never shorter than ``min_ring_seconds``)
   CANCELs and is NoAnswer; a final status is read through ``sip_outcomes``.
3. On answer the call's audio joins the shared media clock and the answering-machine detector
   listens (we say nothing meanwhile): its verdict is how the call was answered.
   (With ``detect_answer`` off, no detector runs: the answer is reported at once as a person.)
4. The engine walks the call flow through ``say`` / ``play`` / ``gather`` / ``transfer``, and
   ``hangup`` reports who ended the call and how.
5. An agent's phone (``call_agent``) is a call like these, dialled by URI or through the
   trunk, never detected, kept up; customers are bridged onto it (sip_agent.py).
6. ``close`` hangs up what is left and waits (bounded) until no SIP transaction of ours is
   unfinished (sip_trace.py) before it stops the stack.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from itertools import count
from typing import TYPE_CHECKING

import baresip

from dialer.domain.amd_mode import AmdMode
from dialer.domain.call import CallNotPlaced, OriginateRequest
from dialer.domain.events import NullSink
from dialer.ports import AgentPhones, EventSink, SpeechSynthesizer, Timer
from dialer.settings import SipSettings
from dialer.telephony.sip_agent import SipAgentLeg
from dialer.telephony.sip_call import SipCall
from dialer.telephony.sip_capacity import check_capacity
from dialer.telephony.sip_detectors import AnswerDetecting, SitDetecting
from dialer.telephony.sip_events import EarlyEvents
from dialer.telephony.sip_media import MediaClock
from dialer.telephony.sip_trace import REFERENCE_HEADER, ProvisionalWatch

log = logging.getLogger(__name__)

# How long shutdown waits for the carrier to answer our last CANCELs and BYEs (a carrier
# answers in milliseconds; one that never does is not waited for past this).
SHUTDOWN_WAIT_SECONDS = 8.0
_TRACE_LAG_SECONDS = 0.05
# An agent who just logged in is expecting the call: past this, their phone is not answering.
AGENT_RING_SECONDS = 30.0


class SipNetwork:
    def __init__(
        self,
        settings: SipSettings,
        timer: Timer,
        speech: SpeechSynthesizer,
        new_answer_detector: Callable[[AmdMode], AnswerDetecting],
        load_audio: Callable[[str], bytes],
        new_sit_detector: Callable[[], SitDetecting] | None = None,
        events: EventSink | None = None,
    ) -> None:
        # Before the stack starts: libre sizes its poll set from the open-file limit then.
        self.capacity = check_capacity(settings.max_calls)
        self.settings = settings
        self.timer = timer
        self.speech = speech
        self.new_answer_detector = new_answer_detector
        self.new_sit_detector = new_sit_detector
        self.load_audio = load_audio
        self.media = MediaClock()
        self.watch = ProvisionalWatch()
        self.early = EarlyEvents()
        self.lines = asyncio.Semaphore(settings.max_calls)
        # FirstAudio, AnswerDetected: measurements go out as events, never kept here.
        self.events: EventSink = events or NullSink()
        self._runtime: baresip.Runtime | None = None
        self._agents: dict[tuple[str, bool], baresip.UserAgent] = {}
        self._start_lock = asyncio.Lock()
        self._next_invite = 0.0
        self._calls: set[SipCall] = set()
        self._agent_legs = count(1)

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
            # Before any dial: a call's first events may arrive before its Call object does.
            runtime.subscribe(self.early)
            self._runtime = runtime

    async def _agent(self, caller_id: str, *, trunk: bool = True) -> baresip.UserAgent:
        """The user agent that dials as ``caller_id``: through the trunk, with the trunk's
        credentials; or (``trunk=False``) straight to a URI, with none: an agent names that URI
        at log-in, and a digest answer made with the carrier's password must never go there."""
        user = caller_id or self.settings.from_user
        agent = self._agents.get((user, trunk))
        if agent is None:
            assert self._runtime is not None
            s = self.settings
            account = baresip.Account(
                user=user,
                domain=self.domain,
                password=(s.password or "") if trunk else "",
                reg_interval=0,  # a trunk: no registration
                transport=s.transport,  # type: ignore[arg-type]
                audio_codecs=s.codecs,
                dtmf_mode=s.dtmf_mode,  # type: ignore[arg-type]
                auth_user=s.username if trunk else None,
            )
            agent = await baresip.UserAgent.create(self._runtime, account)
            self._agents[(user, trunk)] = agent
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
        return await self._place(request, self.uri_for(request.number))

    async def call_agent(self, phone: str, caller_id: str) -> SipAgentLeg:
        """Call an agent's phone: a SIP URI dialled directly, or a number through the trunk;
        no answering-machine detection, and the leg stays up until hung up (sip_agent.py).
        Raises CallNotPlaced for anything else (a ``sim:`` phone)."""
        scheme, colon, rest = phone.partition(":")
        direct = bool(colon) and scheme.lower() in ("sip", "sips")
        if direct:
            uri = f"{scheme.lower()}:{rest}"  # the desk takes SIP: too; the stack wants sip:
        elif colon or "@" in phone:
            # sim:... (the simulated network's), tel:, an address without a scheme: nothing
            # this driver can dial, and not for the trunk to guess at.
            raise CallNotPlaced(f"not a SIP URI or a number for the trunk: {phone!r}")
        else:
            uri = self.uri_for(phone)
        request = OriginateRequest(
            number=phone,
            caller_id=caller_id,
            ring_timeout=timedelta(seconds=AGENT_RING_SECONDS),
            reference=f"agent:{next(self._agent_legs)}",
            detect_answer=False,
        )
        return SipAgentLeg(self, await self._place(request, uri, trunk=not direct))

    async def _place(self, request: OriginateRequest, uri: str, trunk: bool = True) -> "SipCall":
        await self.start()
        await self.lines.acquire()
        call = SipCall(self, request)
        self._calls.add(call)
        try:
            await self._invite_slot()
            call.originated_at = self.timer.now()  # setup time counts from the INVITE
            agent = await self._agent(request.caller_id, trunk=trunk)
            headers = {
                REFERENCE_HEADER: request.reference,
                "P-Asserted-Identity": f"<sip:{request.caller_id}@{self.domain}>",
            }
            with self.early.dialling():
                dialled = await agent.dial(uri, headers=headers)
                call.bind(dialled, self.early.claim(dialled.handle))
        except baresip.CommandTimeout as error:  # the INVITE may have gone: not "not placed"
            call.fail_to_dial(str(error))
        except baresip.BaresipError as error:
            # The stack refused before sending anything (no line number, no local address,
            # a full command queue): the network never saw this call.
            call.fail_to_dial(str(error))
            raise CallNotPlaced(str(error)) from error
        except ValueError as error:  # a number the binding refuses to put in a URI
            call.fail_to_dial(f"not dialled: {error}")
        except BaseException:  # cancelled while waiting to dial: give the line back
            call.fail_to_dial("not dialled: the engine stopped")
            raise
        return call

    async def _finish_transactions(self) -> None:
        """Wait until the far end is waiting on us for nothing: every request we sent has its
        final response, every answered INVITE its ACK (above all the 487 after a CANCEL,
        which a stack stopped too soon never ACKs: the carrier retransmits it into the void)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SHUTDOWN_WAIT_SECONDS
        # The trace reaches the watch on the binding's log thread, a moment after the wire.
        await asyncio.sleep(_TRACE_LAG_SECONDS)
        while self.watch.open() and loop.time() < deadline:
            await asyncio.sleep(_TRACE_LAG_SECONDS)
        if unfinished := self.watch.open():
            log.warning("stopping with %d SIP transaction(s) unfinished", unfinished)

    def released(self, call: "SipCall") -> None:
        if call in self._calls:
            self._calls.discard(call)
            self.watch.forget(call.request.reference)
            if call.handle is not None:
                self.early.forget(call.handle)
            self.lines.release()

    async def close(self) -> None:
        """Hang up every call, let every SIP transaction finish (bounded), stop the stack."""
        await asyncio.gather(*(call.hangup() for call in list(self._calls)), return_exceptions=True)
        if self._runtime is not None:
            await self._finish_transactions()
        await self.media.close()
        if self._runtime is not None:
            await self._runtime.close()
            self._runtime = None
        logging.getLogger("baresip.native.sip").removeHandler(self.watch)


if TYPE_CHECKING:

    def _agent_phones(network: SipNetwork) -> AgentPhones:
        return network  # mypy holds the driver (and its legs) to the ports

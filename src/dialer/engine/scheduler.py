"""The engine: a loop that hands each pass to its dispatcher and its housekeeper, and writes
what they finished in batches.

Every state lives in the store, so any number of engines may run against one database and
any of them may die: claims are atomic and leased (storage/sql_engine.py), a live engine renews
its leases, and an engine finding a lease run out records that attempt as NoConnection and
lets the retry policy decide what follows. Business time comes from the Timer only.

Who decides what (docs/engine.md): dialer.domain.dialling decides each attempt's fate,
dialer.domain.pacing how many to claim; engine/dispatcher.py claims and starts calls,
engine/housekeeper.py keeps leases, recovers lost ones and closes campaigns out,
engine/recorder.py writes; this Engine owns the state they share and runs the loop.
"""

import asyncio
import contextlib
import gc
import logging
import os
import secrets
import socket
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from dialer.clocks import VirtualTimer
from dialer.domain.attempt import DialJob
from dialer.domain.campaign import DialingContext
from dialer.domain.dialling import NOT_PLACED_RETRY
from dialer.domain.events import CallsOnLine, FanOutSink, StoreFailed
from dialer.domain.ids import CampaignId
from dialer.domain.pacing import CapsAndRate, PacingPolicy
from dialer.engine.agent_calls import AgentCalls
from dialer.engine.agent_floor import AgentFloor
from dialer.engine.alarms import Alarms
from dialer.engine.calls import CallRunner, CampaignPlan
from dialer.engine.dispatcher import Dispatcher, ZoneLookup
from dialer.engine.housekeeper import Housekeeper
from dialer.engine.pacer import TokenBucket
from dialer.engine.recorder import Recorder
from dialer.engine.sms_outbox import SmsProviders, SmsSender
from dialer.engine.state import EngineState
from dialer.engine.stats import EngineStats
from dialer.ports import AgentPhones, EventSink, Store, TelephonyDriver, Timer
from dialer.ports.sms import SmsProvider
from dialer.settings import EngineSettings

__all__ = ["NOT_PLACED_RETRY", "Engine", "ZoneLookup", "worker_name"]

log = logging.getLogger(__name__)


# The collector's young-generation threshold while an engine runs (Python's default: 700).
GC_YOUNG = 50_000


def settle_heap() -> None:
    """Leave what the process built before dialling (modules, the API's routes, the metrics'
    registry: some 100,000 objects) out of the garbage collector's full passes from now on.
    The engine allocates several objects a call, so those passes come every few thousand
    calls, and each walked the whole heap: a tenth of the engine's CPU in the throughput
    benchmark. What is garbage now is collected first; objects frozen here are still freed
    when nothing refers to them."""
    gc.collect()
    gc.freeze()
    # A young pass every GC_YOUNG net new objects instead of every 700: with a thousand calls
    # on the line each holding its task, frames and events, the default ran one every few
    # calls (530 passes in a 20,000-call run). Cyclic garbage waits a little longer: bounded.
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(GC_YOUNG, young), middle, old)


def worker_name() -> str:
    """Unique per process start, readable in the in_flight table."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Engine:
    def __init__(
        self,
        store: Store,
        driver: TelephonyDriver,
        sms: SmsProvider,
        timer: Timer,
        settings: EngineSettings,
        zones: ZoneLookup,
        worker: str | None = None,
        events: EventSink | None = None,
        pacing: PacingPolicy | None = None,
        phones: AgentPhones | None = None,
        sms_providers: SmsProviders | None = None,
    ) -> None:
        """``sms``: the provider texts go through when their tenant has none of its own
        (``sms_providers`` says which tenants have, when given)."""
        self.store = store
        # The engine's own totals subscribe first; then whatever bootstrap wired (metrics).
        self.stats = EngineStats()
        self.events = FanOutSink([self.stats])
        if events is not None:
            self.events.subscribe(events)
        self._timer = timer
        self._settings = settings
        self.worker = worker or worker_name()
        self._state = EngineState(self.worker, timedelta(seconds=settings.lease_seconds))
        self._runner = CallRunner(
            driver,
            timer,
            timedelta(seconds=settings.ring_timeout_seconds),
            timedelta(seconds=settings.gather_timeout_seconds),
            settings.audio_dir,
            self.events,
        )
        self._recorder = Recorder(store, timer, self.worker, self.events)
        # The texts the calls earn are queued with their attempts and sent from the outbox.
        self.sms = SmsSender(
            store,
            timer,
            sms_providers or SmsProviders(sms),
            lease=timedelta(seconds=settings.sms_lease_seconds),
            grace=timedelta(seconds=settings.sms_grace_seconds),
            events=self.events,
        )
        self.events.subscribe(self.sms.waker)  # a text queued here goes at once
        # Agents: the sessions whose phones this engine calls, and its agent campaigns' calls.
        # On a virtual clock the floor looks at its sessions when the engine would idle.
        self._virtual = isinstance(timer, VirtualTimer)
        self._alarms = Alarms(timer, self._state.wake.set)
        self.floor = AgentFloor(
            store,
            phones,
            timer,
            self._state,
            self.events,
            settings.agent_caller_id,
            settings.poll_seconds,
            self._virtual,
        )
        self._runner.agents = AgentCalls(
            self.floor, timer, self._alarms, self.events, settings.audio_dir
        )
        self._runner.without_agent = self._state.without_agent
        caps = CapsAndRate(settings.claim_batch, settings.campaign_max_in_flight)
        self._dispatcher = Dispatcher(
            store,
            timer,
            settings,
            zones,
            self._runner,
            self._state,
            self.events,
            pacing or caps,
        )
        self._housekeeper = Housekeeper(store, self._recorder, self._state, self.events)

    # the state the parts share, by the names the engine's tests read

    @property
    def _plans(self) -> dict[CampaignId, CampaignPlan]:
        return self._state.plans

    @property
    def _active(self) -> Counter[CampaignId]:
        return self._state.active

    @property
    def _campaign_buckets(self) -> dict[CampaignId, TokenBucket]:
        return self._dispatcher.campaign_buckets

    def _read_contexts(self) -> list[DialingContext]:
        return self._dispatcher.read_contexts()

    def _claim(
        self,
        context: DialingContext,
        now: datetime,
        room: int,
        opened_at: datetime | None,
        max_in_flight: int | None = None,
    ) -> tuple[list[DialJob], datetime | None]:
        return self._dispatcher._claim(context, now, room, opened_at, max_in_flight)

    # the loop

    async def run(self, stop: asyncio.Event) -> None:
        """Dial until ``stop`` is set; then let calls in progress end and record them."""
        settle_heap()
        relay = asyncio.create_task(self._relay(stop))
        # The floor outlives ``stop`` until the calls have drained: their agents' bridges,
        # releases from the desk, and their sessions' leases go on meanwhile.
        floor_stop = asyncio.Event()
        floor = asyncio.create_task(self.floor.run(floor_stop))
        unsubscribe = self.store.subscribe(self._ring(asyncio.get_running_loop()))
        sms_stop = asyncio.Event()
        sms = asyncio.create_task(self.sms.run(sms_stop))
        try:
            while not stop.is_set():
                try:
                    await self._cycle(stop)
                except Exception:
                    # The store failed (a restart, a lost connection): the work is safe in it,
                    # and leases bring back whatever was held, so wait a little and go on.
                    log.exception("engine cycle failed; retrying in a second")
                    self.events.publish(StoreFailed("engine"))
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 1.0)
        finally:
            unsubscribe()
            relay.cancel()
            try:
                await self._stop_floor(floor, floor_stop)
            finally:
                # After the last calls are recorded; what they queued and is not sent by
                # then waits in the outbox for the next start.
                sms_stop.set()
                await sms

    async def run_until_done(self) -> None:
        """Dial until no destination is waiting or in flight anywhere (``dialer simulate``)."""
        settle_heap()
        stop, floor_stop = asyncio.Event(), asyncio.Event()
        floor = asyncio.create_task(self.floor.run(floor_stop))
        try:
            while True:
                idle = await self._cycle(stop)
                state = self._state
                if idle and not state.calls and not state.finished and not state.contexts:
                    return
        finally:
            try:
                await self._stop_floor(floor, floor_stop)
            finally:
                await self.sms.drain()

    async def _stop_floor(self, floor: "asyncio.Task[None]", floor_stop: asyncio.Event) -> None:
        """Drain the calls, then hang up the agents' legs and let their sessions go."""
        try:
            await self._drain()
        finally:
            floor_stop.set()
            floor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await floor
            await self.floor.close()

    async def _relay(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._state.wake.set()

    def _ring(self, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
        """A doorbell for the store: new work was committed (from any thread or process)."""

        def ring() -> None:
            loop.call_soon_threadsafe(self._state.wake.set)
            loop.call_soon_threadsafe(self.floor.kick)  # perhaps an agent logged in

        return ring

    async def _cycle(self, stop: asyncio.Event) -> bool:
        """One pass; returns True when it found nothing to do and waited."""
        now = self._timer.now()
        if self._housekeeper.due(now):
            await self._housekeeper.run(now)
            self._dispatcher.agent_pacing.book.reload = (
                True  # other engines' calls, in the store's tallies
            )
        done = await self._dispatcher.dispatch(now)
        self._publish_lines()
        started = done.started
        for context in done.over:
            started += await asyncio.to_thread(self._housekeeper.close_out, context, now)
        finished = self._state.finished
        batch = len(finished) >= self._settings.claim_batch
        if finished and (not started or batch or self._state.record_soon):
            await self._flush()
            return False
        if started:
            await asyncio.sleep(0)
            return False
        await self._rest(done.wake, stop)
        return not self._state.calls

    async def _rest(self, wake: datetime | None, stop: asyncio.Event) -> None:
        """Wait until ``wake``, a call ends, new work is committed, or it is time for
        housekeeping (a live engine must renew its leases, however long its calls last)."""
        now = self._timer.now()
        state = self._state
        if self._virtual and self.floor.due:
            # What the desk changed may be what moves next (a ready agent, a log-in).
            await self.floor.poll()
            if state.wake.is_set():
                state.wake.clear()
                return
        housekeeping = self._housekeeper.next_at or now
        until = housekeeping if wake is None else min(wake, housekeeping)
        real = self._timer.real_seconds(until - now)
        if real is None and await self._leap(wake, until):
            return
        timeout = self._settings.poll_seconds
        if real is not None and self._virtual:
            # A discrete-event clock (dialer.sim_clock): one process, whose commits ring the
            # doorbell; looking every poll interval would only cost a simulated day its speed.
            timeout = max(0.0, real)
        elif real is not None:
            timeout = min(timeout, max(0.0, real))
        # Cleared after the wait, not before: a call that ended since the last look has set
        # it already, and clearing first would sleep through that end.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.wake.wait(), timeout)
        state.wake.clear()

    async def _leap(self, wake: datetime | None, until: datetime) -> bool:
        """Virtual time: when nothing in progress can move before the next wake-up (no call,
        or every call waits for a time or an agent), go straight there; True if it did."""
        state = self._state
        parked = bool(state.calls) and self._alarms.parked >= len(state.calls)
        if not parked and (state.calls or (wake is None and not state.contexts)):
            return False
        target = wake if wake is not None else until
        earliest = self._alarms.earliest() if parked else None
        if earliest is not None:
            target = min(target, earliest)
        await self._timer.idle_until(target)
        self._alarms.moved()
        return True

    async def _drain(self) -> None:
        """Let the calls in progress end (a customer is never cut off), without waiting for
        agents' wrap-ups: those calls are recorded with the disposition given so far."""
        state = self._state
        self.floor.closing.set()
        while state.calls:
            now = self._timer.now()
            if self._housekeeper.due(now):
                # Calls with agents last minutes: their leases, and their agents', must not
                # run out while they end.
                try:
                    await self._housekeeper.run(now)
                except Exception:
                    log.exception("housekeeping failed while calls drained")
            await asyncio.wait(set(state.calls), timeout=self._settings.poll_seconds)
            virtual = self._timer.real_seconds(timedelta()) is None
            if virtual and state.calls and self._alarms.parked >= len(state.calls):
                earliest = self._alarms.earliest()
                if earliest is not None:
                    await self._timer.idle_until(earliest)
                self._alarms.moved()
        await self._flush()
        self._publish_lines()

    def _publish_lines(self) -> None:
        """Once a pass, not once a call: what gauges of calls in flight read."""
        self.events.publish(CallsOnLine(dict(self._state.active)))

    # recording

    async def _flush(self) -> None:
        state = self._state
        if not state.finished:
            return
        batch, state.finished = state.finished, []
        state.record_soon = False
        try:
            await asyncio.to_thread(self._recorder.write, batch, dict(state.active))
        except Exception:
            # Keep them for the next try (their leases are still renewed); a write that did
            # commit before failing is harmless to repeat, since only held leases are recorded.
            state.finished[:0] = batch
            raise

"""An engine's housekeeping, every third of a lease: renew its leases (calls and agents'
sessions), fold count deltas,
read which tenants have webhooks, record the calls of engines whose leases ran out; and close
out campaigns whose last window is over.

What each recovered or closed-out attempt ends as is decided in dialer.domain.dialling; the
attempts are written in the same transaction that takes them, so a crash leaves them taken
and recorded, or neither.
"""

import asyncio
import logging
from datetime import datetime

from dialer.domain import dialling
from dialer.domain.campaign import DialingContext
from dialer.domain.events import CampaignFinished
from dialer.domain.ids import DestinationId
from dialer.engine.log_context import ids
from dialer.engine.recorder import Recorder
from dialer.engine.state import EngineState
from dialer.ports import EventSink
from dialer.ports.store import EngineSession, UnitOfWork

log = logging.getLogger(__name__)
_BATCH = 1000
_RECOVER_BATCH = 500


class Housekeeper:
    def __init__(
        self,
        store: UnitOfWork[EngineSession],
        recorder: Recorder,
        state: EngineState,
        events: EventSink,
    ) -> None:
        self._store = store
        self._recorder = recorder
        self._state = state
        self._events = events
        self.next_at: datetime | None = None  # None: at once

    def due(self, now: datetime) -> bool:
        return self.next_at is None or now >= self.next_at

    async def run(self, now: datetime) -> None:
        # A live engine must renew its leases however long its calls last: three chances
        # per lease.
        self.next_at = now + self._state.lease / 3
        await asyncio.to_thread(self._renew_and_recover, now, self._state.held())

    def _renew_and_recover(self, now: datetime, held: list[DestinationId]) -> None:
        state = self._state
        with self._store.write() as session:
            if held:
                session.queue.extend_leases(state.worker, now + state.lease, held)
                session.queue.set_calls_on_line(state.worker, dict(state.active))
            if state.agents_held:
                # The agents' sessions whose phone legs this engine holds, leased like calls.
                session.agent_sessions.renew_sessions(state.worker, now + state.lease)
            # Every engine's triggers append count deltas; folding them keeps reads O(1).
            session.queue.fold_counts()
            session.queue.forget_spent_windows(now)
            # Retries of calls that were on the line when their campaign was cancelled.
            session.lifecycle.sweep_cancelled()
        with self._store.read() as session:
            state.webhook_tenants = frozenset(session.outbox.webhook_tenants())
        self.recover(now)

    def recover(self, now: datetime) -> None:
        """Record the calls of engines whose leases ran out as NoConnection."""
        while True:
            with self._store.write() as session:
                # Contexts first: once the leases are taken, a campaign whose every remaining
                # destination was among them has no rows left to be listed by.
                contexts = {c.campaign.id: c for c in session.queue.dialing_contexts()}
                expired = session.queue.take_expired(now, _RECOVER_BATCH)
                if not expired:
                    session.queue.forget_lost_lines()
                    return
                finished = []
                for job in expired:
                    rules = self._state.rules(contexts[job.campaign_id].campaign)
                    finished.append(dialling.conclude(job, dialling.lease_lost(job, now), rules))
                    about = ids(job.campaign_id, job.destination_id, job.attempt_number)
                    log.debug("lease expired: recorded as NoConnection", extra=about)
                recorded = self._recorder.write_in(session, finished, now, leased=False)
            self._recorder.count(recorded, recovered=True)
            log.warning("recorded %d calls of a lost engine as NoConnection", len(finished))

    def close_out(self, context: DialingContext, now: datetime) -> int:
        """The campaign's last window has closed: what still waits ends as OutOfTime."""
        state = self._state
        rules = state.rules(context.campaign)
        total = 0
        while True:
            with self._store.write() as session:
                jobs = session.queue.claim_for_closing(
                    context.campaign.id, _BATCH, state.worker, now + state.lease
                )
                finished = [
                    dialling.conclude(job, dialling.out_of_time(job, now), rules) for job in jobs
                ]
                recorded = self._recorder.write_in(session, finished, now)
            self._recorder.count(recorded)
            total += len(jobs)
            if len(jobs) < _BATCH:
                if total:
                    self._events.publish(CampaignFinished(context.campaign.id, total))
                return total

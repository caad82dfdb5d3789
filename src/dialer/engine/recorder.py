"""Writing finished attempts, each with the step that follows it (decided in
dialer.domain.dialling), and telling the engine's events what the store recorded."""

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from dialer.domain.attempt import FinishedAttempt
from dialer.domain.events import AttemptFinished, AttemptsFinished, LeaseLost
from dialer.domain.ids import CampaignId
from dialer.engine.log_context import ids
from dialer.ports import EventSink, Timer
from dialer.ports.store import QueueSession, UnitOfWork

log = logging.getLogger(__name__)


class Recorder:
    """Writes finished attempts for one engine. The outbox row of a webhook message is written
    by the store in the same transaction as its attempt (QueueRepo.finish_attempts)."""

    def __init__(
        self, store: UnitOfWork[QueueSession], timer: Timer, worker: str, events: EventSink
    ) -> None:
        self._store = store
        self._timer = timer
        self._worker = worker
        self._events = events

    def write(
        self, batch: list[FinishedAttempt], lines: Mapping[CampaignId, int] | None = None
    ) -> list[FinishedAttempt]:
        """Record the batch of this engine's calls, in its own transaction; ``lines``: the
        engine's calls on the line now, published with it."""
        with self._store.write() as session:
            written = session.queue.finish_attempts(batch, self._worker, self._timer.now())
            if lines:
                session.queue.set_calls_on_line(self._worker, lines)
        if len(written) < len(batch):
            self._events.publish(LeaseLost(len(batch) - len(written)))
            kept = {(f.record.destination_id, f.record.attempt_number) for f in written}
            for item in batch:
                record = item.record
                if (record.destination_id, record.attempt_number) not in kept:
                    about = ids(item.campaign_id, record.destination_id, record.attempt_number)
                    log.debug("result dropped: its lease was lost", extra=about)
            log.warning("%d results dropped: their leases were lost", len(batch) - len(written))
        self.count(written)
        return written

    def write_in(
        self,
        session: QueueSession,
        batch: Sequence[FinishedAttempt],
        now: datetime,
        *,
        leased: bool = True,
    ) -> list[FinishedAttempt]:
        """Record ``batch`` in the caller's transaction (taken with the claims it settles).
        ``leased``: only attempts whose lease this engine holds are recorded; without it,
        whoever holds them (recovering other engines' expired leases). Call ``count`` on
        what it returns once the transaction has committed."""
        return session.queue.finish_attempts(batch, self._worker if leased else None, now)

    def count(self, finished: list[FinishedAttempt], *, recovered: bool = False) -> None:
        """Publish what the store recorded (only that: a result whose lease was lost is not),
        as one batch."""
        if not finished:
            return
        self._events.publish(
            AttemptsFinished(
                tuple(  # from a list: a generator is one Python call per attempt more
                    [
                        AttemptFinished(
                            item.campaign_id,
                            item.record.destination_id,
                            item.record.attempt_number,
                            item.record.outcome,
                            item.record.stage,
                            item.record.sms_sent,
                            final=item.retry_at is None,
                            recovered=recovered,
                            webhook=item.webhook is not None,
                        )
                        for item in finished
                    ]
                )
            )
        )

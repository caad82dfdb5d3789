"""Recording attempts: what follows each (retry or done), webhook payloads, lost leases."""

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from dialer.domain.attempt import AttemptRecord, AttemptResult, DialJob, FinishedAttempt
from dialer.domain.campaign import DialingContext
from dialer.domain.codes import Outcome, Stage
from dialer.domain.events import AttemptFinished, CampaignFinished, LeaseLost
from dialer.domain.ids import CampaignId, TenantId
from dialer.domain.retry import after_attempt
from dialer.engine.calls import not_dialled
from dialer.engine.log_context import ids
from dialer.ports import EventSink, Timer
from dialer.ports.store import QueueSession, UnitOfWork
from dialer.services.results import result_fields

log = logging.getLogger(__name__)
_BATCH = 1000


class Recorder:
    """Writes finished attempts for one engine, each with the step that follows it."""

    def __init__(
        self,
        store: UnitOfWork[QueueSession],
        timer: Timer,
        worker: str,
        lease: timedelta,
        events: EventSink,
    ) -> None:
        self._store = store
        self._timer = timer
        self._worker = worker
        self._lease = lease
        self._events = events
        self.webhook_tenants: frozenset[TenantId] = frozenset()

    def recover(self, now: datetime) -> None:
        """Record the calls of engines whose leases ran out as NoConnection."""
        while True:
            with self._store.write() as session:
                # Contexts first: once the leases are taken, a campaign whose every remaining
                # destination was among them has no rows left to be listed by.
                contexts = {c.campaign.id: c for c in session.queue.dialing_contexts()}
                expired = session.queue.take_expired(now, 500)
                if not expired:
                    session.queue.forget_lost_lines()
                    return
                finished = []
                for job in expired:
                    context = contexts[job.campaign_id]
                    record = AttemptRecord(
                        destination_id=job.destination_id,
                        attempt_number=job.attempt_number,
                        outcome=Outcome.NO_CONNECTION,
                        stage=Stage.NONE,
                        queued_at=job.queued_at,
                        ended_at=now,
                        cause="engine lost: lease expired",
                    )
                    finished.append(self.finished(job, context, record))
                    about = ids(job.campaign_id, job.destination_id, job.attempt_number)
                    log.debug("lease expired: recorded as NoConnection", extra=about)
                self.count(session.queue.finish_attempts(finished, None, now), recovered=True)
            log.warning("recorded %d calls of a lost engine as NoConnection", len(finished))

    def finished(
        self, job: DialJob, context: DialingContext, record: AttemptRecord
    ) -> FinishedAttempt:
        campaign = context.campaign
        ended = record.ended_at or self._timer.now()
        verdict = after_attempt(
            campaign.spec.attempts, record.attempt_number, record.outcome, ended
        )
        payload: dict[str, object] | None = None
        if campaign.tenant_id in self.webhook_tenants:
            result = AttemptResult(
                attempt_id=0,  # assigned by the store as it records the attempt
                campaign_id=campaign.id,
                destination_id=record.destination_id,
                number=job.e164 or job.raw,
                name=job.name,
                attempt_number=record.attempt_number,
                outcome=record.outcome,
                stage=record.stage,
                queued_at=record.queued_at,
                originated_at=record.originated_at,
                answered_at=record.answered_at,
                ended_at=record.ended_at,
                cause=record.cause,
                keys=record.keys,
                sms_sent=record.sms_sent,
            )
            # The one serializer of results, with the webhook's head (tested as shipped).
            payload = result_fields(result, campaign_code=campaign.code)
        return FinishedAttempt(
            record, campaign.id, campaign.tenant_id, job.priority, verdict.retry_at, payload
        )

    def write(
        self, batch: list[FinishedAttempt], lines: Mapping[CampaignId, int] | None = None
    ) -> list[FinishedAttempt]:
        """Record the batch; ``lines``: the engine's calls on the line now, published with it."""
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

    def count(self, finished: list[FinishedAttempt], *, recovered: bool = False) -> None:
        """Publish what the store recorded (only that: a result whose lease was lost is not)."""
        for item in finished:
            record = item.record
            self._events.publish(
                AttemptFinished(
                    item.campaign_id,
                    record.destination_id,
                    record.attempt_number,
                    record.outcome,
                    record.stage,
                    record.sms_sent,
                    final=item.retry_at is None,
                    recovered=recovered,
                    webhook=item.webhook_fields is not None,
                )
            )

    def close_out(self, context: DialingContext, now: datetime) -> int:
        """The campaign's last window has closed: what still waits ends as OutOfTime."""
        total = 0
        while True:
            with self._store.write() as session:
                jobs = session.queue.claim_for_closing(
                    context.campaign.id, _BATCH, self._worker, now + self._lease
                )
                finished = [
                    self.finished(
                        job, context, not_dialled(job, Outcome.OUT_OF_TIME, Stage.NONE, now)
                    )
                    for job in jobs
                ]
                recorded = session.queue.finish_attempts(finished, self._worker, now)
            self.count(recorded)
            total += len(jobs)
            if len(jobs) < _BATCH:
                if total:
                    self._events.publish(CampaignFinished(context.campaign.id, total))
                return total

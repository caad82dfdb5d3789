"""Leases under faults: late results of lost leases, and a store that fails mid-run."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dialer.domain.attempt import AttemptRecord, FinishedAttempt
from dialer.domain.codes import Outcome, Stage
from dialer.ports import StoreSession
from tests.integration.engine_support import Rig, drama

OPEN = datetime(2025, 10, 1, 8, 30, tzinfo=UTC)  # 09:30 in London: the window is open


def finished(job: Any, outcome: Outcome, retry_at: datetime | None, tenant: int) -> FinishedAttempt:
    record = AttemptRecord(
        destination_id=job.destination_id,
        attempt_number=job.attempt_number,
        outcome=outcome,
        stage=Stage.NONE,
        queued_at=job.queued_at,
        ended_at=OPEN,
    )
    return FinishedAttempt(record, job.campaign_id, tenant, job.priority, retry_at)  # type: ignore[arg-type]


def test_a_late_result_of_a_lost_lease_is_dropped_alone(rig: Rig) -> None:
    campaign = rig.campaign([drama(1), drama(2)])
    store = rig.container.store
    tenant = rig.account.tenant.id
    lease = OPEN + timedelta(seconds=60)
    with store.write() as session:
        (first,) = session.queue.claim(campaign, OPEN, 1, "slow", lease)  # type: ignore[arg-type]
    # "slow" stalls past its lease; another engine records attempt 1 and queues a retry.
    later = lease + timedelta(seconds=1)
    with store.write() as session:
        (lost,) = session.queue.take_expired(later, 10)
        session.queue.finish_attempts(
            [finished(lost, Outcome.NO_CONNECTION, OPEN, tenant)], None, later
        )
    # "slow" wakes, claims the same destination again (attempt 2) and the other number, then
    # reports the first's attempt 1 beside the other's result.
    with store.write() as session:
        again = session.queue.claim(campaign, later, 10, "slow", later + timedelta(seconds=60))  # type: ignore[arg-type]
    assert sorted((j.destination_id, j.attempt_number) for j in again)[0] == (
        first.destination_id,
        2,
    )
    other = next(j for j in again if j.destination_id != first.destination_id)
    with store.write() as session:
        written = session.queue.finish_attempts(
            [
                finished(first, Outcome.ANSWERED, None, tenant),  # attempt 1: not its any more
                finished(other, Outcome.ANSWERED, None, tenant),  # held: recorded
            ],
            "slow",
            later,
        )
    assert [(f.record.destination_id, f.record.attempt_number) for f in written] == [
        (other.destination_id, other.attempt_number)
    ]
    rows = rig.attempts(campaign)
    assert [(r.attempt_number, r.outcome) for r in rows[drama(1)]] == [(1, Outcome.NO_CONNECTION)]


class FailingOnce:
    """The store, but the first batch of results fails to be written (a lost connection)."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.failed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    @contextmanager
    def write(self) -> Iterator[StoreSession]:
        with self._store.write() as session:
            if not self.failed:
                original = session.finish_attempts

                def fail(batch: Any, worker: Any, now: Any) -> Any:
                    if worker is not None and batch:
                        self.failed = True
                        raise ConnectionError("server closed the connection")
                    return original(batch, worker, now)

                session.finish_attempts = fail
            yield session


def test_results_that_failed_to_be_written_are_written_later(rig: Rig, tmp_path: Path) -> None:
    campaign = rig.campaign([drama(2), drama(6)])
    runtime = rig.engine()
    flaky = FailingOnce(rig.container.store)
    engine = runtime.engine
    engine.store = flaky  # type: ignore[assignment]
    engine._recorder._store = flaky  # type: ignore[assignment]

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(engine.run(stop))
        while engine.stats.done < 2:
            await asyncio.sleep(0.01)
        stop.set()
        await task

    asyncio.run(asyncio.wait_for(scenario(), 60))
    assert flaky.failed
    got = rig.attempts(campaign)
    assert [r.outcome for r in got[drama(2)]] == [Outcome.ANSWERED]
    assert [r.outcome for r in got[drama(6)]] == [Outcome.UNOBTAINABLE]
    with rig.container.store.write() as session:  # no lease is left behind
        assert session.queue.take_expired(OPEN + timedelta(days=30), 10) == []

"""The engine screens each claimed batch by its numbers' recent calls across the tenant's
campaigns (docs/compliance.md): the per-number cap over any 24 hours and the UK's 72 hours
after an abandoned call. On a virtual clock, the simulated network, SQLite and PostgreSQL."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from dialer.domain.attempt import AttemptRecord, FinishedAttempt
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId
from dialer.storage.sql_store import SqlStore
from tests.integration.engine_support import Rig, drama


def test_a_number_is_called_at_most_the_cap_in_any_24_hours(rig: Rig) -> None:
    tenant = rig.account.tenant.id
    rig.container.tenants.update_compliance(tenant, {"attemptsPerDay": 1})
    number = drama(7)  # rings out: each attempt is a call placed
    once = [{"attemptNumber": 1, "interval": 1}]
    first = rig.campaign([number], attempts=once)
    # The same number in another campaign of the tenant, two hours later.
    second = rig.campaign([number], attempts=once, startTime="11:00")
    rig.run()
    (a,) = rig.attempts(first)[number]
    (b,) = rig.attempts(second)[number]
    assert a.originated_at is not None
    assert a.ended_at is not None
    assert b.originated_at is not None
    # Not at 11:00 the same day: once the first call was 24 hours old (the runover day).
    assert b.originated_at >= a.ended_at + timedelta(hours=24)
    assert b.originated_at < a.ended_at + timedelta(hours=25)


def test_a_cap_switched_on_mid_day_counts_the_calls_placed_before_it(rig: Rig) -> None:
    # Without a cap the ledger keeps only abandoned calls (the engine's cost per call); the
    # switch copies the day's other calls in, so the cap holds from the moment it is on.
    number = drama(7)
    once = [{"attemptNumber": 1, "interval": 1}]
    first = rig.campaign([number], attempts=once)
    rig.run()
    (a,) = rig.attempts(first)[number]
    assert a.originated_at is not None
    assert a.ended_at is not None
    rig.container.tenants.update_compliance(rig.account.tenant.id, {"attemptsPerDay": 1})
    second = rig.campaign([number], attempts=once, startTime="11:00")
    rig.run()
    (b,) = rig.attempts(second)[number]
    assert b.originated_at is not None
    assert b.originated_at >= a.ended_at + timedelta(hours=24)


def test_a_cap_switched_off_and_on_again_counts_each_call_once(rig: Rig) -> None:
    # Calls recorded while the cap was on are in the ledger already: switching it off and on
    # copies only what is missing, so a cap of 2 still lets the second call through.
    tenant = rig.account.tenant.id
    rig.container.tenants.update_compliance(tenant, {"attemptsPerDay": 2})
    number = drama(7)
    once = [{"attemptNumber": 1, "interval": 1}]
    first = rig.campaign([number], attempts=once)
    rig.run()
    rig.container.tenants.update_compliance(tenant, {"attemptsPerDay": None})
    rig.container.tenants.update_compliance(tenant, {"attemptsPerDay": 2})
    second = rig.campaign([number], attempts=once, startTime="11:00")
    rig.run()
    (a,) = rig.attempts(first)[number]
    (b,) = rig.attempts(second)[number]
    assert a.originated_at is not None
    assert b.originated_at is not None
    assert b.originated_at - a.originated_at < timedelta(hours=3)


def test_the_cap_holds_for_two_campaigns_dialling_at_once(rig: Rig) -> None:
    # Both open at 09:00: the second claims the number while the first's call is on the line.
    rig.container.tenants.update_compliance(rig.account.tenant.id, {"attemptsPerDay": 1})
    number = drama(7)
    once = [{"attemptNumber": 1, "interval": 1}]
    campaigns = [rig.campaign([number], attempts=once) for _ in range(2)]
    rig.run()
    a, b = sorted((rig.attempts(c)[number][0] for c in campaigns), key=lambda r: r.originated_at)
    assert a.ended_at is not None
    assert b.originated_at is not None
    assert b.originated_at >= a.ended_at + timedelta(hours=24)


def test_without_a_cap_both_are_called_the_same_day(rig: Rig) -> None:
    number = drama(7)
    once = [{"attemptNumber": 1, "interval": 1}]
    first = rig.campaign([number], attempts=once)
    second = rig.campaign([number], attempts=once, startTime="11:00")
    rig.run()
    (a,) = rig.attempts(first)[number]
    (b,) = rig.attempts(second)[number]
    assert a.originated_at is not None
    assert b.originated_at is not None
    assert b.originated_at - a.originated_at < timedelta(hours=3)


def test_an_ivr_campaign_waits_72_hours_after_an_abandoned_call(rig: Rig) -> None:
    # UK (a GB tenant): the number had an abandoned call from an agent campaign yesterday.
    number = drama(7)
    earlier = rig.campaign([number], type="agent", status="Disabled")
    abandoned_at = rig.timer.now() - timedelta(hours=20)
    with rig.container.store.write() as s:
        (job,) = s.queue.claim(CampaignId(earlier), rig.timer.now(), 1, "w", rig.timer.now())
        record = AttemptRecord(
            job.destination_id,
            job.attempt_number,
            Outcome.ANSWERED,
            Stage.CALL_DROPPED,
            job.queued_at,
            originated_at=abandoned_at - timedelta(seconds=15),
            answered_at=abandoned_at - timedelta(seconds=3),
            ended_at=abandoned_at,
        )
        finished = FinishedAttempt(record, job.campaign_id, rig.account.tenant.id, 0, None)
        s.queue.finish_attempts([finished], "w", rig.timer.now())
    runover = [
        {"date": "2025-10-02", "startTime": "09:00", "finishTime": "12:00"},
        {"date": "2025-10-03", "startTime": "09:00", "finishTime": "12:00"},
    ]
    ivr = rig.campaign(
        [number], attempts=[{"attemptNumber": 1, "interval": 1}], runoverDays=runover
    )
    rig.run()
    (call,) = rig.attempts(ivr)[number]
    assert call.originated_at is not None
    assert call.originated_at >= abandoned_at + timedelta(hours=72)


class _Statements:
    """A connection that notes the SELECTs it runs and passes everything on."""

    def __init__(self, conn: Any, seen: list[str]) -> None:
        self._conn = conn
        self._seen = seen

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self._seen.append(sql)
        return self._conn.execute(sql, params)


def test_a_batch_reads_its_dnc_and_its_numbers_recent_calls_in_one_transaction(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 11: one read transaction per batch for what screening reads, not one each; the
    # cap and the DNC list still hold.
    tenant = rig.account.tenant.id
    rig.container.tenants.update_compliance(tenant, {"attemptsPerDay": 1})
    rig.container.dnc.add(rig.account.tenant, ["+447700900099"], label="line")
    number = drama(7)
    once = [{"attemptNumber": 1, "interval": 1}]
    first = rig.campaign([number], attempts=once)
    second = rig.campaign([number, "+447700900099"], attempts=once, startTime="11:00")
    store = rig.container.store
    assert isinstance(store, SqlStore)
    database = store.database
    opened = database.transaction
    reads: list[list[str]] = []

    @contextmanager
    def transaction(*, write: bool) -> Iterator[Any]:
        with opened(write=write) as conn:
            if write:
                yield conn
                return
            reads.append([])
            yield _Statements(conn, reads[-1])

    monkeypatch.setattr(database, "transaction", transaction)
    rig.run()
    (a,) = rig.attempts(first)[number]
    (b,) = rig.attempts(second)[number]
    (listed,) = rig.attempts(second)["+447700900099"]
    assert a.ended_at is not None
    assert b.originated_at is not None
    assert b.originated_at >= a.ended_at + timedelta(hours=24)
    assert listed.originated_at is None  # settled as DNC, never dialled
    screening = [
        [sql for sql in statements if "FROM dnc_numbers" in sql or "FROM number_calls" in sql]
        for statements in reads
    ]
    screening = [statements for statements in screening if statements]
    assert len(screening) >= 2  # a batch of each campaign at least
    for statements in screening:
        assert any("FROM dnc_numbers" in sql for sql in statements)
        assert any("FROM number_calls" in sql for sql in statements)

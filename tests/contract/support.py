"""Builders the contract tests share: a tenant with its catalog, campaigns, numbers, claims and
finished attempts, all written through the store's roles only."""

import itertools
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import psycopg

from dialer.domain.attempt import AttemptRecord, DialJob, FinishedAttempt, WebhookSubject
from dialer.domain.campaign import CampaignSpec, CampaignStatus, PhoneNumber
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CallFlowId, CampaignId, CliId, TenantId
from dialer.domain.policy import AttemptRule, MessagePolicy
from dialer.domain.schedule import Schedule, Window
from dialer.ports.store import Store
from dialer.storage.memory.base import IntegrityError as MemoryIntegrityError

# Whole seconds: every store must give back exactly the instants it was given.
T0 = datetime(2025, 9, 30, 8, 0, tzinfo=UTC)
LEASE = T0 + timedelta(minutes=5)
_codes = itertools.count(1)

# What each store raises for a row its schema refuses (a UNIQUE key taken, a foreign key naming
# nothing, a row still referenced); the transaction fails whole on every store.
REFUSED_BY_SCHEMA = (MemoryIntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError)


@dataclass(frozen=True)
class Account:
    tenant_id: TenantId
    callflow_id: CallFlowId
    cli_id: CliId


def account(store: Store, name: str = "Acme") -> Account:
    with store.write() as s:
        tenant = s.tenants.add_tenant(name, "GB", "Europe/London", f"hash-{name}", T0)
        flow = s.catalog.add_callflow(tenant.id, "Reminder", "message: 'Hello'\n", T0)
        cli = s.catalog.add_cli(tenant.id, "+441632960000", T0)
    return Account(tenant.id, flow.id, cli.id)


def spec(acct: Account, name: str = "Campaign", attempts: int = 3) -> CampaignSpec:
    return CampaignSpec(
        name=name,
        schedule=Schedule(date(2025, 10, 1), Window(time(9), time(12))),
        callflow_id=acct.callflow_id,
        cli_id=acct.cli_id,
        attempts=tuple(AttemptRule(i + 1, 15) for i in range(attempts)),
        answerphone=MessagePolicy.NEVER,
        sms_on_busy=MessagePolicy.ON_THE_FIRST_CALL,
    )


def e164(i: int) -> str:
    return f"+4477009{i:05d}"


def number(i: int, **fields: Any) -> PhoneNumber:
    base = PhoneNumber(raw=f"077009{i:05d}", e164=e164(i), name=f"n{i}", number_type=1)
    return base._replace(**fields)


def numbers(count: int, start: int = 0) -> list[PhoneNumber]:
    return [number(i) for i in range(start, start + count)]


def campaign(
    store: Store,
    acct: Account,
    phone_numbers: Sequence[PhoneNumber] = (),
    *,
    status: CampaignStatus = CampaignStatus.ENABLED,
    name: str = "Campaign",
) -> CampaignId:
    with store.write() as s:
        cid = s.campaigns.add_campaign(
            acct.tenant_id, f"code-{next(_codes)}", spec(acct, name), status, T0
        )
        if phone_numbers:
            s.destinations.add_numbers(cid, phone_numbers, T0)
    return cid


def claim(
    store: Store,
    cid: CampaignId,
    limit: int = 100,
    *,
    now: datetime = T0,
    worker: str = "w1",
    lease_until: datetime = LEASE,
) -> list[DialJob]:
    with store.write() as s:
        return s.queue.claim(cid, now, limit, worker, lease_until)


# The campaign code webhook messages of finished(webhook=True) carry.
HOOKED = "hooked"


def finished(
    job: DialJob,
    acct: Account,
    outcome: Outcome = Outcome.NO_ANSWER,
    *,
    retry_at: datetime | None = None,
    webhook: bool = False,
    called: bool = True,
) -> FinishedAttempt:
    record = AttemptRecord(
        destination_id=job.destination_id,
        attempt_number=job.attempt_number,
        outcome=outcome,
        stage=Stage.NONE,
        queued_at=job.queued_at,
        originated_at=T0 if called else None,
        ended_at=T0 + timedelta(seconds=30) if called else None,
    )
    subject = WebhookSubject(HOOKED, job.e164 or job.raw, job.name) if webhook else None
    return FinishedAttempt(record, job.campaign_id, acct.tenant_id, job.priority, retry_at, subject)


def finish(
    store: Store, done: Sequence[FinishedAttempt], worker: str | None = "w1"
) -> list[FinishedAttempt]:
    with store.write() as s:
        return s.queue.finish_attempts(done, worker, T0)


def together(count: int, work: Callable[[int], list[int]]) -> list[list[int]]:
    """Run ``work(i)`` for i in range(count) on as many threads, started at once; their results
    (a thread's failure is raised here)."""
    start = threading.Barrier(count)

    def run(i: int) -> list[int]:
        start.wait(10)
        return work(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count), timeout=60))

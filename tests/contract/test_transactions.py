"""The unit of work: a write commits whole or not at all, every role of one session shares its
transaction, and a reader sees committed data only."""

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import psycopg
import pytest

from dialer.domain.campaign import CampaignStatus
from dialer.domain.ids import CampaignId
from dialer.ports.store import Store
from tests.contract.support import T0, Account, account, campaign, claim, numbers, spec


class Boom(Exception):
    pass


def _write_everything_then_fail(store: Store, acct: Account, cid: CampaignId) -> None:
    with store.write() as s:
        s.tenants.add_tenant("Ghost", "GB", "Europe/London", "ghost", T0)
        s.catalog.add_cli(acct.tenant_id, "+441632960001", T0)
        s.tenants.set_calling_hours(acct.tenant_id, "10:00", "11:00")
        s.campaigns.add_campaign(acct.tenant_id, "ghost", spec(acct), CampaignStatus.ENABLED, T0)
        s.destinations.add_numbers(cid, numbers(2, 10), T0)
        s.queue.claim(cid, T0, 10, "w1", T0)
        s.dnc.add_dnc(acct.tenant_id, ["+447700900001"], T0)
        raise Boom


def test_a_write_block_that_raises_leaves_no_trace(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(1))
    with pytest.raises(Boom):
        _write_everything_then_fail(store, acme, cid)
    with store.read() as s:
        assert s.tenants.tenant_by_key_hash("ghost") is None
        assert len(s.catalog.list_clis(acme.tenant_id)) == 1
        assert s.campaigns.campaign_by_code("ghost") is None
        assert len(s.destinations.list_numbers(cid)) == 1
        assert s.results.progress(cid).pending == 1
        assert s.dnc.list_dnc(acme.tenant_id, None, 10) == []
        (context,) = s.queue.dialing_contexts()
    assert context.calling_hours == "08:00-21:00"
    assert len(claim(store, cid)) == 1  # the rolled-back claim took nothing


def test_the_roles_of_one_session_see_each_others_writes(store: Store) -> None:
    with store.write() as s:
        tenant = s.tenants.add_tenant("Acme", "GB", "Europe/London", "h", T0)
        flow = s.catalog.add_callflow(tenant.id, "Flow", "message: 'x'\n", T0)
        assert s.catalog.callflow_owned(tenant.id, flow.id)
        assert s.tenants.get_tenant(tenant.id) == tenant


def test_a_reader_does_not_see_a_write_until_it_commits(store: Store) -> None:
    written, checked = threading.Event(), threading.Event()

    def writer() -> None:
        with store.write() as s:
            s.tenants.add_tenant("Acme", "GB", "Europe/London", "h", T0)
            written.set()
            checked.wait(10)

    with ThreadPoolExecutor(1) as pool:
        done = pool.submit(writer)
        assert written.wait(10)
        try:
            with store.read() as s:
                assert s.tenants.tenant_by_key_hash("h") is None
        finally:
            checked.set()
        done.result(10)  # the writer's own failure, if any
    with store.read() as s:
        assert s.tenants.tenant_by_key_hash("h") is not None


# What each store raises for a write in a read transaction: PostgreSQL's READ ONLY
# transaction, SQLite's query_only connection, the memory store's own check.
READ_ONLY_REFUSALS = (
    psycopg.errors.ReadOnlySqlTransaction,
    sqlite3.OperationalError,
    RuntimeError,
)


def _write_in_a_read(store: Store) -> None:
    with store.read() as s:
        s.tenants.add_tenant("Sneaky", "GB", "Europe/London", "sneaky", T0)


def test_a_read_transaction_refuses_to_write(store: Store) -> None:
    with pytest.raises(READ_ONLY_REFUSALS):
        _write_in_a_read(store)
    with store.read() as s:
        assert s.tenants.tenant_by_key_hash("sneaky") is None
    with store.write() as s:  # and the store still takes writes
        s.tenants.add_tenant("Acme", "GB", "Europe/London", "h", T0)


def test_instants_read_back_to_the_microsecond_past_2038(store: Store) -> None:
    # 2**31 seconds after 1970 a float epoch times 1e6 lost a microsecond about one time in four.
    moments = [
        datetime(2039, 9, 3, 7, 40, 51, 412719, tzinfo=UTC),
        datetime(2038, 12, 7, 8, 57, 53, 966984, tzinfo=UTC),
        datetime(2025, 9, 30, 8, 0, 0, 1, tzinfo=UTC),
    ]
    with store.write() as s:
        added = [
            s.tenants.add_tenant(f"T{i}", "GB", "Europe/London", f"h{i}", moment)
            for i, moment in enumerate(moments)
        ]
    with store.read() as s:
        read = [s.tenants.get_tenant(t.id) for t in added]
    assert [t.created_at for t in added] == moments
    assert [t.created_at if t else None for t in read] == moments

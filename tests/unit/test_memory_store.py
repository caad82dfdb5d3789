"""The memory store's transactions: commit at the end of a write, all or nothing, one writer at
a time, reads of committed state only, and listeners rung after work is committed. (What each
role does is the contract suite's, run on this store and both SQL stores alike.)"""

import dataclasses
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from dialer.bootstrap import MEMORY_URL, build, migrate_database, open_store
from dialer.cli import app as cli_app
from dialer.domain.campaign import CampaignStatus, PhoneNumber
from dialer.domain.ids import CampaignId, TenantId
from dialer.settings import Settings
from dialer.storage.memory import MemorySession, MemoryStore
from dialer.storage.memory.base import IntegrityError

NOW = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)


def tenant_names(store: MemoryStore) -> list[str | None]:
    with store.read() as session:
        return [
            None if (t := session.tenants.get_tenant(TenantId(i))) is None else t.name
            for i in (1, 2)
        ]


def test_a_write_commits_when_its_block_ends() -> None:
    store = MemoryStore()
    with store.write() as session:
        session.tenants.add_tenant("Acme", "GB", "Europe/London", "h1", NOW)
    assert tenant_names(store) == ["Acme", None]


def test_a_failed_write_leaves_nothing_behind() -> None:
    store = MemoryStore()
    with store.write() as session:
        session.tenants.add_tenant("Acme", "GB", "Europe/London", "h1", NOW)

    def fails() -> None:
        with store.write() as session:
            session.tenants.set_calling_hours(TenantId(1), "10:00", "11:00")
            session.tenants.add_tenant("Globex", "GB", "Europe/London", "h2", NOW)
            session.dnc.add_dnc(TenantId(1), ["+447700900001"], NOW)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        fails()
    with store.read() as session:
        assert session.dnc.list_dnc(TenantId(1), None, 10) == []
        assert session.queue.dialing_contexts() == []
    assert tenant_names(store) == ["Acme", None]
    # The id the failed write took is given again, as SQLite's AUTOINCREMENT rolls back.
    with store.write() as session:
        assert session.tenants.add_tenant("Initech", "GB", "UTC", "h3", NOW).id == 2


def test_a_read_sees_only_committed_state_and_never_writes() -> None:
    store = MemoryStore()
    seen: list[list[str | None]] = []
    with store.write() as session:
        session.tenants.add_tenant("Acme", "GB", "Europe/London", "h1", NOW)
        # Another thread reads while this write is open: the tenant is not committed yet.
        reader = threading.Thread(target=lambda: seen.append(tenant_names(store)))
        reader.start()
        reader.join()
    assert seen == [[None, None]]
    with store.read() as session, pytest.raises(RuntimeError, match="read transaction"):
        session.tenants.add_tenant("Globex", "GB", "Europe/London", "h2", NOW)
    assert tenant_names(store) == ["Acme", None]


def test_one_writer_at_a_time() -> None:
    store = MemoryStore()
    first_open = threading.Event()
    second_saw: list[str | None] = []

    def second() -> None:
        first_open.wait()
        with store.write() as session:
            tenant = session.tenants.get_tenant(TenantId(1))
            second_saw.append(None if tenant is None else tenant.name)

    other = threading.Thread(target=second)
    other.start()
    with store.write() as session:
        first_open.set()
        session.tenants.add_tenant("Acme", "GB", "Europe/London", "h1", NOW)
        # The second writer is waiting for this one; it has seen nothing yet.
        assert second_saw == []
    other.join()
    assert second_saw == ["Acme"]


def test_a_transaction_inside_another_on_one_thread_is_refused() -> None:
    store = MemoryStore()
    with store.write(), pytest.raises(RuntimeError, match="inside another"), store.read():
        pass
    with store.read(), pytest.raises(RuntimeError, match="inside another"), store.write():
        pass


def test_listeners_ring_after_a_commit_that_added_work_only() -> None:
    store = MemoryStore()
    rings: list[str] = []
    unsubscribe = store.subscribe(lambda: rings.append("ring"))
    with store.write() as session:
        tenant = session.tenants.add_tenant("Acme", "GB", "Europe/London", "h1", NOW)
    assert rings == []  # no work

    def fails() -> None:
        with store.write() as session:
            session.destinations.add_numbers(CampaignId(1), [PhoneNumber("1", "+441", None)], NOW)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        fails()
    assert rings == []  # rolled back: nothing to do
    with store.write() as session:
        session.destinations.add_numbers(CampaignId(1), [PhoneNumber("1", "+441", None)], NOW)
        assert rings == []  # not before the commit
    assert rings == ["ring"]
    with store.write() as session:
        session.campaigns.set_campaign_status(CampaignId(1), CampaignStatus.ENABLED, NOW)
    assert rings == ["ring", "ring"]
    unsubscribe()
    with store.write() as session:
        session.destinations.add_numbers(CampaignId(1), [PhoneNumber("2", "+442", None)], NOW)
    assert rings == ["ring", "ring"]
    assert tenant.id == 1


def test_bootstrap_opens_a_memory_store_from_its_url() -> None:
    assert isinstance(open_store(MEMORY_URL), MemoryStore)
    assert migrate_database(Settings(database_url=MEMORY_URL)) == []
    container = build(Settings(database_url=MEMORY_URL))
    tenant, key = container.tenants.create("Acme", "GB", "Europe/London")
    assert container.tenants.authenticate(key) == tenant
    # Each store is its own: a second container starts empty.
    other = build(Settings(database_url=MEMORY_URL))
    with other.store.read() as session:
        assert session.tenants.get_tenant(tenant.id) is None


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["tenant", "create", "Acme"], "would be gone when it exits"),
        (["worker"], "a dialer worker cannot share it"),
        (["serve", "--port", "0"], "no command could add a tenant"),
    ],
)
def test_the_command_line_refuses_memory_where_its_data_would_be_lost(
    args: list[str], why: str
) -> None:
    result = CliRunner().invoke(cli_app, [*args, "--database", MEMORY_URL])
    assert result.exit_code == 2
    assert result.output.startswith("error: memory:// keeps its data inside this one process")
    assert why in result.output


def test_rows_the_sql_schema_refuses_fail_the_write_whole() -> None:
    store = MemoryStore()
    with store.write() as session:
        tenant = session.tenants.add_tenant("Acme", "GB", "Europe/London", "h1", NOW)
        flow = session.catalog.add_callflow(tenant.id, "F", "{}", NOW)

    def write(change: Callable[[MemorySession], object]) -> None:
        with store.write() as session:
            session.dnc.add_dnc(tenant.id, ["+447700900001"], NOW)
            change(session)

    refused: list[Callable[[MemorySession], object]] = [
        # a UNIQUE key taken
        lambda s: s.tenants.add_tenant("Other", "GB", "UTC", "h1", NOW),
        # a foreign key naming nothing
        lambda s: s.catalog.add_cli(TenantId(9), "+441632960000", NOW),
        lambda s: s.outbox.set_webhook(TenantId(9), "https://x.example", "s", NOW),
        lambda s: s.agents.add_members(CampaignId(9), [1], NOW),
    ]
    for change in refused:
        with pytest.raises(IntegrityError):
            write(change)
    with store.read() as session:
        assert session.dnc.list_dnc(tenant.id, None, 10) == []
        assert session.catalog.list_callflows(tenant.id) == [
            dataclasses.replace(flow, created_at=flow.created_at.astimezone(UTC))
        ]

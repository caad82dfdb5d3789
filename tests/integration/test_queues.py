"""Queues by name: call flows may transfer only to a queue the tenant has, and a name is one
queue (on a real SQLite file and a real PostgreSQL)."""

import pytest

from dialer.bootstrap import Container
from dialer.domain.errors import Conflict, ValidationFailed
from dialer.storage.migrations import available
from tests.conftest import Account

FLOW = """\
version: 2
sms: "Sorry we missed you"
answerphone: "Please call us back"
nodes:
  hello: {{say: "Hello {{Name}}", next: agent}}
  agent: {{transfer: "queue:{first}", next: other}}
  other: {{transfer: "queue:{second}", next: bye}}
  bye: {{hangup: true}}
"""


def test_a_transfer_to_an_unknown_queue_is_refused_by_node(
    container: Container, account: Account
) -> None:
    container.catalog.add_queue(account.tenant, "Sales")
    flow = FLOW.format(first="Nobody", second="Sales")
    with pytest.raises(ValidationFailed) as caught:
        container.catalog.add_callflow(account.tenant, "IVR", flow)
    assert list(caught.value.errors) == ["nodes.agent.transfer"]
    assert "unknown queue 'Nobody'" in caught.value.errors["nodes.agent.transfer"][0]
    assert "(Sales)" in caught.value.errors["nodes.agent.transfer"][0]
    assert [f.name for f in container.catalog.callflows(account.tenant)] == ["Reminder"]


def test_another_tenants_queue_does_not_count(
    container: Container, account: Account, other_account: Account
) -> None:
    container.catalog.add_queue(other_account.tenant, "Sales")
    with pytest.raises(ValidationFailed) as caught:
        container.catalog.add_callflow(
            account.tenant, "IVR", FLOW.format(first="Sales", second="Sales")
        )
    assert set(caught.value.errors) == {"nodes.agent.transfer", "nodes.other.transfer"}
    assert "none yet" in caught.value.errors["nodes.agent.transfer"][0]


def test_a_flow_naming_known_queues_is_accepted(container: Container, account: Account) -> None:
    for name in ("Sales", "Support"):
        container.catalog.add_queue(account.tenant, name)
    flow = FLOW.format(first="Sales", second="Support")
    record = container.catalog.add_callflow(account.tenant, "IVR", flow)
    assert record.name == "IVR"


def test_a_queue_name_is_unique_per_tenant(
    container: Container, account: Account, other_account: Account
) -> None:
    container.catalog.add_queue(account.tenant, "Sales")
    with pytest.raises(Conflict, match="'Sales' already exists"):
        container.catalog.add_queue(account.tenant, " Sales ")
    container.catalog.add_queue(other_account.tenant, "Sales")  # another tenant's name is free
    with container.store.read() as session:
        assert [q.name for q in session.agents.list_queues(account.tenant.id)] == ["Sales"]


def test_the_migration_renames_duplicate_names_before_making_them_unique(
    container: Container, account: Account
) -> None:
    """A store from before 0007 may hold a name twice: the later copies get their id."""
    migration = next(m for m in available(container.store.dialect) if m.name == "queue_names")
    with container.store.write() as session:
        conn = session._conn  # type: ignore[attr-defined]
        conn.execute("DROP INDEX queues_tenant_name")
        for _ in range(3):
            conn.execute(
                "INSERT INTO queues (tenant_id, name, created_at) VALUES (%s, 'Sales', 0)",
                (account.tenant.id,),
            )
        conn.execute_script(migration.sql)
    with container.store.read() as session:
        names = [q.name for q in session.agents.list_queues(account.tenant.id)]
        ids = [q.id for q in session.agents.list_queues(account.tenant.id)]
    assert names == ["Sales", f"Sales ({ids[1]})", f"Sales ({ids[2]})"]
    with pytest.raises(Conflict):
        container.catalog.add_queue(account.tenant, "Sales")

"""CatalogRepo: a tenant's call flows and caller IDs, who uses them, and deleting them."""

import pytest

from dialer.domain.agent import Strategy
from dialer.domain.errors import Conflict
from dialer.domain.ids import CallFlowId, CliId
from dialer.ports.store import Store
from tests.contract.support import (
    REFUSED_BY_SCHEMA,
    T0,
    Account,
    account,
    campaign,
    claim,
    finish,
    finished,
    numbers,
)


def test_call_flows_read_back_in_the_order_added(store: Store) -> None:
    acme = account(store)
    with store.write() as s:
        second = s.catalog.add_callflow(acme.tenant_id, "Second", "message: 'two'\n", T0)
    with store.read() as s:
        flows = s.catalog.list_callflows(acme.tenant_id)
        assert [f.id for f in flows] == [acme.callflow_id, second.id]
        assert s.catalog.get_callflow(acme.tenant_id, second.id) == second
        assert s.catalog.callflow_definitions(acme.tenant_id) == [
            (acme.callflow_id, "message: 'Hello'\n"),
            (second.id, "message: 'two'\n"),
        ]
    assert (second.name, second.definition, second.created_at) == ("Second", "message: 'two'\n", T0)


def test_another_tenants_call_flow_is_not_there(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    with store.read() as s:
        assert s.catalog.get_callflow(globex.tenant_id, acme.callflow_id) is None
        assert s.catalog.callflow_owned(acme.tenant_id, acme.callflow_id)
        assert not s.catalog.callflow_owned(globex.tenant_id, acme.callflow_id)
        assert [f.id for f in s.catalog.list_callflows(globex.tenant_id)] == [globex.callflow_id]
        assert not s.catalog.callflow_owned(acme.tenant_id, CallFlowId(424242))


def test_caller_ids_read_back_and_belong_to_their_tenant(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    with store.write() as s:
        extra = s.catalog.add_cli(acme.tenant_id, "+441632960001", T0)
    with store.read() as s:
        assert [c.id for c in s.catalog.list_clis(acme.tenant_id)] == [acme.cli_id, extra.id]
        assert s.catalog.get_cli(acme.tenant_id, extra.id) == extra
        assert s.catalog.get_cli(globex.tenant_id, extra.id) is None
        assert s.catalog.cli_owned(acme.tenant_id, extra.id)
        assert not s.catalog.cli_owned(globex.tenant_id, extra.id)
        assert not s.catalog.cli_owned(acme.tenant_id, CliId(424242))
    assert (extra.number, extra.tenant_id) == ("+441632960001", acme.tenant_id)


def test_a_caller_id_twice_for_one_tenant_is_a_conflict(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    with pytest.raises(Conflict), store.write() as s:
        s.catalog.add_cli(acme.tenant_id, "+441632960000", T0)
    # Another tenant may register the same number.
    with store.write() as s:
        s.catalog.add_cli(globex.tenant_id, "+441632960009", T0)
    with store.read() as s:
        assert len(s.catalog.list_clis(acme.tenant_id)) == 1
        assert len(s.catalog.list_clis(globex.tenant_id)) == 2


def test_campaigns_using_a_flow_or_cli_say_whether_they_still_dial(store: Store) -> None:
    acme = account(store)
    dialling = campaign(store, acme, numbers(1))
    idle = campaign(store, acme)
    with store.read() as s:
        for what, entry in (("callflow", acme.callflow_id), ("cli", acme.cli_id)):
            assert s.catalog.campaigns_using(acme.tenant_id, what, entry) == [
                (dialling, True),
                (idle, False),
            ]


def test_a_campaign_whose_numbers_are_all_done_no_longer_dials(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(1))
    (job,) = claim(store, cid)
    with store.read() as s:  # in flight: still dialling
        assert s.catalog.campaigns_using(acme.tenant_id, "cli", acme.cli_id) == [(cid, True)]
    finish(store, [finished(job, acme)])
    with store.read() as s:
        assert s.catalog.campaigns_using(acme.tenant_id, "cli", acme.cli_id) == [(cid, False)]


def test_campaigns_using_an_agent_or_queue(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(1))
    with store.write() as s:
        agent = s.agents.add_agent(acme.tenant_id, "1001", "Ann", T0)
        queue = s.agents.add_queue(acme.tenant_id, "sales", T0)
        other = s.agents.add_queue(acme.tenant_id, "support", T0)
        s.agents.add_members(cid, [agent.id], T0)
        s.campaigns.set_strategy(cid, Strategy(queue.id, 3, 2), T0)
    with store.read() as s:
        assert s.catalog.campaigns_using(acme.tenant_id, "agent", agent.id) == [(cid, True)]
        assert s.catalog.campaigns_using(acme.tenant_id, "queue", queue.id) == [(cid, True)]
        assert s.catalog.campaigns_using(acme.tenant_id, "queue", other.id) == []


def test_campaigns_using_sees_only_the_asking_tenants_campaigns(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    campaign(store, acme, numbers(1))
    with store.read() as s:
        assert s.catalog.campaigns_using(globex.tenant_id, "callflow", acme.callflow_id) == []


def test_an_unused_entry_is_deleted_once(store: Store) -> None:
    acme = account(store)
    with store.write() as s:
        flow = s.catalog.add_callflow(acme.tenant_id, "Spare", "message: 'x'\n", T0)
        agent = s.agents.add_agent(acme.tenant_id, "1001", "Ann", T0)
        queue = s.agents.add_queue(acme.tenant_id, "sales", T0)
    with store.write() as s:
        for what, entry in (("callflow", flow.id), ("agent", agent.id), ("queue", queue.id)):
            assert s.catalog.delete_catalog_entry(acme.tenant_id, what, entry) is True
            assert s.catalog.delete_catalog_entry(acme.tenant_id, what, entry) is False
    with store.read() as s:
        assert s.catalog.get_callflow(acme.tenant_id, flow.id) is None
        assert s.agents.get_agent(acme.tenant_id, agent.id) is None
        assert s.agents.get_queue(acme.tenant_id, queue.id) is None


def test_another_tenant_cannot_delete_an_entry(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    with store.write() as s:
        assert s.catalog.delete_catalog_entry(globex.tenant_id, "cli", acme.cli_id) is False
    with store.read() as s:
        assert s.catalog.get_cli(acme.tenant_id, acme.cli_id) is not None


def test_an_entry_is_deletable_once_its_campaign_is_gone(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(1))
    with store.write() as s:
        s.campaigns.delete_campaign(cid)
    with store.write() as s:
        assert s.catalog.campaigns_using(acme.tenant_id, "cli", acme.cli_id) == []
        assert s.catalog.delete_catalog_entry(acme.tenant_id, "cli", acme.cli_id) is True


def _delete(store: Store, acct: Account, what: str, entry_id: int) -> None:
    with store.write() as s:
        s.catalog.delete_catalog_entry(acct.tenant_id, what, entry_id)


def test_an_entry_a_campaign_uses_is_not_deleted(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme)
    with store.write() as s:
        agent = s.agents.add_agent(acme.tenant_id, "1001", "Ann", T0)
        s.agents.add_members(cid, [agent.id], T0)
    for what, entry in (("callflow", acme.callflow_id), ("cli", acme.cli_id), ("agent", agent.id)):
        with pytest.raises(REFUSED_BY_SCHEMA):  # campaigns' and members' foreign keys
            _delete(store, acme, what, entry)
    with store.read() as s:
        assert s.catalog.get_callflow(acme.tenant_id, acme.callflow_id) is not None
        assert s.catalog.get_cli(acme.tenant_id, acme.cli_id) is not None
        assert s.agents.campaign_members(cid) == [agent]


def test_a_queue_a_strategy_names_may_go_and_the_campaign_transfers_nowhere(store: Store) -> None:
    # campaigns.strategy_queue_id has no foreign key: the service asks campaigns_using first.
    acme = account(store)
    cid = campaign(store, acme, numbers(1))
    with store.write() as s:
        queue = s.agents.add_queue(acme.tenant_id, "sales", T0)
        s.campaigns.set_strategy(cid, Strategy(queue.id, 3, 2), T0)
    with store.write() as s:
        assert s.catalog.delete_catalog_entry(acme.tenant_id, "queue", queue.id) is True
    with store.read() as s:
        (context,) = s.queue.dialing_contexts()
    assert context.transfer_queue is None


def test_a_deleted_campaign_has_no_members_left(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme)
    with store.write() as s:
        agent = s.agents.add_agent(acme.tenant_id, "1001", "Ann", T0)
        s.agents.add_members(cid, [agent.id], T0)
    with store.write() as s:
        s.campaigns.delete_campaign(cid)
    with store.write() as s:
        assert s.agents.campaign_members(cid) == []
        assert s.catalog.delete_catalog_entry(acme.tenant_id, "agent", agent.id) is True

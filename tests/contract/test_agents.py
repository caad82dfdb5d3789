"""AgentRepo: agents and queues (unique names per tenant) and a campaign's members."""

import pytest

from dialer.domain.errors import Conflict
from dialer.domain.ids import CampaignId
from dialer.ports.store import Store
from tests.contract.support import REFUSED_BY_SCHEMA, T0, account, campaign


def test_agents_read_back_by_id_by_member_and_in_order(store: Store) -> None:
    acme = account(store)
    with store.write() as s:
        ann = s.agents.add_agent(acme.tenant_id, "1001", "Ann", T0)
        bob = s.agents.add_agent(acme.tenant_id, "1002", "Bob", T0)
    with store.read() as s:
        assert s.agents.list_agents(acme.tenant_id) == [ann, bob]
        assert s.agents.get_agent(acme.tenant_id, bob.id) == bob
        assert s.agents.agents_by_member(acme.tenant_id, ["1002", "9999"]) == {"1002": bob}
        assert s.agents.agents_by_member(acme.tenant_id, []) == {}
    assert (ann.member, ann.display_name, ann.created_at) == ("1001", "Ann", T0)


def test_an_agents_member_code_is_unique_per_tenant(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    with store.write() as s:
        s.agents.add_agent(acme.tenant_id, "1001", "Ann", T0)
    with pytest.raises(Conflict), store.write() as s:
        s.agents.add_agent(acme.tenant_id, "1001", "Another Ann", T0)
    with store.write() as s:
        s.agents.add_agent(globex.tenant_id, "1001", "Globex's Ann", T0)
    with store.read() as s:
        assert [a.display_name for a in s.agents.list_agents(acme.tenant_id)] == ["Ann"]


def test_another_tenants_agents_are_not_there(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    with store.write() as s:
        ann = s.agents.add_agent(acme.tenant_id, "1001", "Ann", T0)
    with store.read() as s:
        assert s.agents.get_agent(globex.tenant_id, ann.id) is None
        assert s.agents.list_agents(globex.tenant_id) == []
        assert s.agents.agents_by_member(globex.tenant_id, ["1001"]) == {}


def test_queues_read_back_and_belong_to_their_tenant(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    with store.write() as s:
        sales = s.agents.add_queue(acme.tenant_id, "sales", T0)
        support = s.agents.add_queue(acme.tenant_id, "support", T0)
    with store.read() as s:
        assert s.agents.list_queues(acme.tenant_id) == [sales, support]
        assert s.agents.get_queue(acme.tenant_id, support.id) == support
        assert s.agents.queue_owned(acme.tenant_id, sales.id)
        assert not s.agents.queue_owned(globex.tenant_id, sales.id)
        assert s.agents.get_queue(globex.tenant_id, sales.id) is None
        assert s.agents.list_queues(globex.tenant_id) == []


def test_a_queue_name_is_unique_per_tenant(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    with store.write() as s:
        s.agents.add_queue(acme.tenant_id, "sales", T0)
    with pytest.raises(Conflict), store.write() as s:
        s.agents.add_queue(acme.tenant_id, "sales", T0)
    with store.write() as s:
        s.agents.add_queue(globex.tenant_id, "sales", T0)
    with store.read() as s:
        assert len(s.agents.list_queues(acme.tenant_id)) == 1


def test_members_are_added_once_and_listed_in_the_order_added(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme)
    with store.write() as s:
        ann = s.agents.add_agent(acme.tenant_id, "1001", "Ann", T0)
        bob = s.agents.add_agent(acme.tenant_id, "1002", "Bob", T0)
        assert s.agents.add_members(cid, [bob.id, ann.id], T0) == 2
        assert s.agents.add_members(cid, [ann.id], T0) == 0
    with store.read() as s:
        assert s.agents.campaign_members(cid) == [ann, bob]  # same instant: by agent id


def test_members_added_later_come_later(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme)
    with store.write() as s:
        ann = s.agents.add_agent(acme.tenant_id, "1001", "Ann", T0)
        bob = s.agents.add_agent(acme.tenant_id, "1002", "Bob", T0)
        s.agents.add_members(cid, [bob.id], T0)
        s.agents.add_members(cid, [ann.id], T0.replace(hour=9))
    with store.read() as s:
        assert s.agents.campaign_members(cid) == [bob, ann]


def test_removing_members_counts_only_those_that_were_members(store: Store) -> None:
    acme = account(store)
    cid, other = campaign(store, acme), campaign(store, acme)
    with store.write() as s:
        ann = s.agents.add_agent(acme.tenant_id, "1001", "Ann", T0)
        bob = s.agents.add_agent(acme.tenant_id, "1002", "Bob", T0)
        s.agents.add_members(cid, [ann.id, bob.id], T0)
        s.agents.add_members(other, [ann.id], T0)
        assert s.agents.remove_members(cid, [ann.id, 424242]) == 1
        assert s.agents.remove_members(cid, [ann.id]) == 0
    with store.read() as s:
        assert s.agents.campaign_members(cid) == [bob]
        assert s.agents.campaign_members(other) == [ann]


def _add_member(store: Store, cid: CampaignId, agent_id: int) -> None:
    with store.write() as s:
        s.agents.add_members(cid, [agent_id], T0)


def test_only_agents_become_members(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme)
    with pytest.raises(REFUSED_BY_SCHEMA):
        _add_member(store, cid, 424242)
    with store.read() as s:
        assert s.agents.campaign_members(cid) == []


def test_an_agents_phone_is_set_read_back_everywhere_and_cleared_per_tenant(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    with store.write() as s:
        ann = s.agents.add_agent(acme.tenant_id, "1001", "Ann", T0)
        assert ann.phone is None
        assert s.agents.set_agent_phone(acme.tenant_id, ann.id, "+441632960001")
        assert not s.agents.set_agent_phone(globex.tenant_id, ann.id, "+449098790000")
        assert not s.agents.set_agent_phone(acme.tenant_id, ann.id + 1000, "sim:x")
    members_of = campaign(store, acme)
    with store.write() as s:
        s.agents.add_members(members_of, [ann.id], T0)
    with store.write() as s:
        phoned = s.agents.lock_agent(acme.tenant_id, ann.id)
        assert phoned is not None
        assert phoned.phone == "+441632960001"
        assert s.agents.lock_agent(globex.tenant_id, ann.id) is None
    with store.read() as s:
        assert s.agents.get_agent(acme.tenant_id, ann.id) == phoned
        assert s.agents.list_agents(acme.tenant_id) == [phoned]
        assert s.agents.agents_by_member(acme.tenant_id, ["1001"]) == {"1001": phoned}
        assert s.agents.campaign_members(members_of) == [phoned]
        assert s.agents.get_agent(globex.tenant_id, ann.id) is None
    with store.write() as s:
        assert s.agents.set_agent_phone(acme.tenant_id, ann.id, None)
    with store.read() as s:
        assert s.agents.get_agent(acme.tenant_id, ann.id) == ann

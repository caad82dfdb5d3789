"""CampaignRepo: campaigns added, read by id and code, listed, changed and deleted."""

from dataclasses import replace
from datetime import timedelta

from dialer.domain.agent import Strategy
from dialer.domain.campaign import CampaignStatus, PhoneNumber
from dialer.domain.destination import CampaignCounts
from dialer.domain.ids import CampaignId
from dialer.ports.store import Store
from tests.contract.support import (
    T0,
    account,
    campaign,
    claim,
    finish,
    finished,
    number,
    numbers,
    spec,
)


def test_a_campaign_reads_back_as_added(store: Store) -> None:
    acme = account(store)
    with store.write() as s:
        cid = s.campaigns.add_campaign(
            acme.tenant_id, "spring", spec(acme), CampaignStatus.DISABLED, T0
        )
    with store.read() as s:
        got = s.campaigns.get_campaign(acme.tenant_id, cid)
    assert got is not None
    assert (got.id, got.tenant_id, got.code, got.status) == (
        cid,
        acme.tenant_id,
        "spring",
        CampaignStatus.DISABLED,
    )
    assert (got.spec, got.created_at, got.updated_at, got.strategy) == (spec(acme), T0, T0, None)


def test_another_tenants_campaign_is_not_there(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    cid = campaign(store, acme)
    with store.write() as s:
        assert s.campaigns.get_campaign(globex.tenant_id, cid) is None
        assert s.campaigns.get_campaign(globex.tenant_id, cid, for_update=True) is None
        assert s.campaigns.get_campaign(acme.tenant_id, cid, for_update=True) is not None
        assert s.campaigns.list_campaigns(globex.tenant_id) == []
    with store.read() as s:
        assert s.campaigns.get_campaign(acme.tenant_id, CampaignId(424242)) is None


def test_a_campaign_is_found_by_its_code(store: Store) -> None:
    acme = account(store)
    with store.write() as s:
        cid = s.campaigns.add_campaign(
            acme.tenant_id, "spring", spec(acme), CampaignStatus.ENABLED, T0
        )
    with store.write() as s:
        locked = s.campaigns.campaign_by_code("spring", lock=True)
        assert locked is not None
        assert locked.id == cid
    with store.read() as s:
        assert s.campaigns.campaign_by_code("spring") == locked
        assert s.campaigns.campaign_by_code("summer") is None


def test_campaigns_list_in_order_with_their_number_counts(store: Store) -> None:
    acme = account(store)
    first = campaign(store, acme, numbers(3), name="first")
    second = campaign(store, acme, name="second")
    with store.read() as s:
        listed = s.campaigns.list_campaigns(acme.tenant_id)
        uncounted = s.campaigns.list_campaigns(acme.tenant_id, count_numbers=False)
    assert [(c.campaign.id, c.phone_number_count) for c in listed] == [(first, 3), (second, 0)]
    assert [(c.campaign.id, c.phone_number_count) for c in uncounted] == [(first, 0), (second, 0)]


def test_updating_a_campaign_replaces_its_spec_and_stamps_it(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme)
    later = T0 + timedelta(hours=1)
    changed = replace(spec(acme, "renamed", attempts=1))
    with store.write() as s:
        s.campaigns.update_campaign(cid, changed, later)
    with store.read() as s:
        got = s.campaigns.get_campaign(acme.tenant_id, cid)
    assert got is not None
    assert (got.spec, got.created_at, got.updated_at) == (changed, T0, later)


def test_status_and_strategy_are_set(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme)
    later = T0 + timedelta(minutes=1)
    with store.write() as s:
        queue = s.agents.add_queue(acme.tenant_id, "sales", T0)
        s.campaigns.set_campaign_status(cid, CampaignStatus.DISABLED, later)
        s.campaigns.set_strategy(cid, Strategy(queue.id, 5, 3), later)
    with store.read() as s:
        got = s.campaigns.get_campaign(acme.tenant_id, cid)
        contexts = s.queue.dialing_contexts()
    assert got is not None
    assert (got.status, got.strategy, got.updated_at) == (
        CampaignStatus.DISABLED,
        Strategy(queue.id, 5, 3),
        later,
    )
    assert contexts == []  # no numbers waiting: nothing to dial


def test_deleting_a_campaign_takes_its_numbers_and_work_with_it(store: Store) -> None:
    acme = account(store)
    doomed, kept = campaign(store, acme, numbers(3)), campaign(store, acme, numbers(2, 10))
    claim(store, doomed, 1)
    with store.write() as s:
        s.campaigns.delete_campaign(doomed)
    with store.read() as s:
        assert s.campaigns.get_campaign(acme.tenant_id, doomed) is None
        assert s.destinations.list_numbers(doomed) == []
        assert s.queue.next_due(doomed) is None
        assert [c.campaign.id for c in s.queue.dialing_contexts()] == [kept]
        assert s.results.progress(doomed).pending == 0
        assert len(s.destinations.list_numbers(kept)) == 2
        assert s.queue.dialling_identity(doomed) is None


def test_campaign_counts_of_waiting_and_originated_numbers(store: Store) -> None:
    acme = account(store)
    later = T0 + timedelta(days=1)
    cid = campaign(
        store,
        acme,
        [
            number(1, priority=5),
            number(2, priority=-2),
            number(3, priority=1, originate_at=later),
            number(4),
        ],
    )
    idle = campaign(store, acme)
    claim(store, cid, 1)  # the priority-5 one goes in flight
    with store.read() as s:
        counts = s.campaigns.campaign_counts([cid, idle], T0)
        assert s.campaigns.campaign_counts([], T0) == {}
    assert counts == {cid: CampaignCounts(3, 1, 2, 1, -2)}


def test_the_number_count_takes_every_number_whatever_its_state(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, [*numbers(3), PhoneNumber("12", None, None)])
    first, second = claim(store, cid, 2)
    finish(store, [finished(first, acme)])
    with store.write() as s:
        s.destinations.cancel_pending(cid, None)  # the third, never dialled, goes
    with store.read() as s:
        (summary,) = s.campaigns.list_campaigns(acme.tenant_id)
    assert summary.phone_number_count == 3  # done, in flight, invalid
    assert second.attempt_number == 1


def test_deleting_a_campaign_forgets_its_results(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(2))
    finish(store, [finished(j, acme) for j in claim(store, cid)])
    with store.write() as s:
        s.campaigns.delete_campaign(cid)
    with store.read() as s:
        assert s.results.attempt_results(cid, None, 10) == []
        assert s.results.progress(cid).done == 0

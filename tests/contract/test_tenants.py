"""TenantRepo: tenants, their API keys and calling hours."""

import pytest

from dialer.domain.ids import TenantId
from dialer.ports.store import Store
from tests.contract.support import REFUSED_BY_SCHEMA, T0, account, campaign, claim, numbers


def test_a_tenant_reads_back_as_added(store: Store) -> None:
    with store.write() as s:
        added = s.tenants.add_tenant("Acme", "GB", "Europe/London", "h1", T0)
    with store.read() as s:
        assert s.tenants.get_tenant(added.id) == added
    assert (added.name, added.region, added.timezone, added.created_at) == (
        "Acme",
        "GB",
        "Europe/London",
        T0,
    )


def test_a_tenant_is_found_by_its_key_hash_only(store: Store) -> None:
    with store.write() as s:
        acme = s.tenants.add_tenant("Acme", "GB", "Europe/London", "h1", T0)
        globex = s.tenants.add_tenant("Globex", "US", "America/New_York", "h2", T0)
    with store.read() as s:
        assert s.tenants.tenant_by_key_hash("h1") == acme
        assert s.tenants.tenant_by_key_hash("h2") == globex
        assert s.tenants.tenant_by_key_hash("h3") is None
    assert acme.id != globex.id


def test_an_unknown_tenant_is_none(store: Store) -> None:
    with store.read() as s:
        assert s.tenants.get_tenant(TenantId(424242)) is None


def test_rotating_the_key_retires_the_old_one(store: Store) -> None:
    with store.write() as s:
        tenant = s.tenants.add_tenant("Acme", "GB", "Europe/London", "old", T0)
        assert s.tenants.set_api_key_hash(tenant.id, "new") is True
    with store.read() as s:
        assert s.tenants.tenant_by_key_hash("old") is None
        assert s.tenants.tenant_by_key_hash("new") == tenant


def test_rotating_the_key_of_no_tenant_says_so(store: Store) -> None:
    with store.write() as s:
        assert s.tenants.set_api_key_hash(TenantId(424242), "new") is False
    with store.read() as s:
        assert s.tenants.tenant_by_key_hash("new") is None


def test_calling_hours_default_and_are_set_per_tenant(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    for acct in (acme, globex):
        campaign(store, acct, numbers(1))
    with store.write() as s:
        s.tenants.set_calling_hours(acme.tenant_id, "09:30", "17:00")
    with store.read() as s:
        hours = {c.campaign.tenant_id: c.calling_hours for c in s.queue.dialing_contexts()}
    assert hours == {acme.tenant_id: "09:30-17:00", globex.tenant_id: "08:00-21:00"}


def test_dialing_contexts_carry_the_tenants_zone_and_region(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(1))
    claim(store, cid)  # in flight still counts as a campaign to watch
    with store.read() as s:
        (context,) = s.queue.dialing_contexts()
    assert (context.campaign.id, context.timezone, context.region) == (
        cid,
        "Europe/London",
        "GB",
    )


def _add_second_tenant_with(store: Store, key_hash: str) -> None:
    with store.write() as s:
        s.tenants.add_tenant("Globex", "US", "America/New_York", key_hash, T0)


def test_a_key_hash_names_one_tenant(store: Store) -> None:
    with store.write() as s:
        acme = s.tenants.add_tenant("Acme", "GB", "Europe/London", "h1", T0)
    with pytest.raises(REFUSED_BY_SCHEMA):  # tenants.api_key_hash is UNIQUE
        _add_second_tenant_with(store, "h1")
    with store.read() as s:
        assert s.tenants.tenant_by_key_hash("h1") == acme

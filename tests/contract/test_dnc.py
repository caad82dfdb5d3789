"""DncRepo: a tenant's do-not-call list."""

from dialer.ports.store import Store
from tests.contract.support import T0, account

A, B, C, D = "+447700900001", "+447700900002", "+447700900003", "+447700900004"


def test_adding_counts_only_numbers_not_listed_yet(store: Store) -> None:
    acme = account(store)
    with store.write() as s:
        assert s.dnc.add_dnc(acme.tenant_id, [A, B, A], T0) == 2
        assert s.dnc.add_dnc(acme.tenant_id, [B, C], T0) == 1
        assert s.dnc.add_dnc(acme.tenant_id, [], T0) == 0
    with store.read() as s:
        assert s.dnc.dnc_listed(acme.tenant_id, [A, C, D]) == {A, C}
        assert s.dnc.dnc_listed(acme.tenant_id, []) == set()


def test_removing_counts_only_listed_numbers(store: Store) -> None:
    acme = account(store)
    with store.write() as s:
        s.dnc.add_dnc(acme.tenant_id, [A, B], T0)
        assert s.dnc.remove_dnc(acme.tenant_id, [A, A, D]) == 1
    with store.read() as s:
        assert s.dnc.list_dnc(acme.tenant_id, None, 10) == [B]


def test_the_list_pages_in_number_order(store: Store) -> None:
    acme = account(store)
    with store.write() as s:
        s.dnc.add_dnc(acme.tenant_id, [D, B, A, C], T0)
    with store.read() as s:
        assert s.dnc.list_dnc(acme.tenant_id, None, 3) == [A, B, C]
        assert s.dnc.list_dnc(acme.tenant_id, C, 3) == [D]
        assert s.dnc.list_dnc(acme.tenant_id, D, 3) == []


def test_a_tenants_list_is_its_own(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    with store.write() as s:
        s.dnc.add_dnc(acme.tenant_id, [A], T0)
        assert s.dnc.add_dnc(globex.tenant_id, [A, B], T0) == 2
        assert s.dnc.remove_dnc(globex.tenant_id, [A]) == 1
    with store.read() as s:
        assert s.dnc.dnc_listed(acme.tenant_id, [A, B]) == {A}
        assert s.dnc.list_dnc(acme.tenant_id, None, 10) == [A]
        assert s.dnc.list_dnc(globex.tenant_id, None, 10) == [B]


def test_long_lists_are_added_and_looked_up_whole(store: Store) -> None:
    # Past the SQL store's batches: COPY on PostgreSQL, lookups 500 numbers at a time.
    acme = account(store)
    listed = [f"+4477009{i:05d}" for i in range(0, 1_200, 2)]
    asked = [f"+4477009{i:05d}" for i in range(1_200)]
    with store.write() as s:
        assert s.dnc.add_dnc(acme.tenant_id, listed, T0) == 600
    with store.read() as s:
        assert s.dnc.dnc_listed(acme.tenant_id, asked) == set(listed)
        assert s.dnc.list_dnc(acme.tenant_id, None, 5_000) == listed

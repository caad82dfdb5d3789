"""Tenants and API keys on a real store."""

import pytest

from dialer.bootstrap import Container
from dialer.domain.errors import Conflict, Unauthorized, ValidationFailed
from tests.conftest import Account


def test_keys_are_stored_only_as_hashes(container: Container) -> None:
    tenant, key = container.tenants.create("Acme", "gb", "Europe/London")
    assert tenant.region == "GB"
    assert container.tenants.authenticate(key).id == tenant.id
    with container.store.read() as session:
        stored = session._conn.execute("SELECT api_key_hash FROM tenants")  # type: ignore[attr-defined]
    assert stored[0][0] != key
    assert key not in stored[0][0]
    assert len(stored[0][0]) == 64
    for wrong in ("", key[:-1], key + "x", "x" * 10_000):
        with pytest.raises(Unauthorized):
            container.tenants.authenticate(wrong)


def test_region_timezone_and_name_are_validated_together(container: Container) -> None:
    with pytest.raises(ValidationFailed) as caught:
        container.tenants.create(" ", "ZZ", "Mars/Olympus")
    assert set(caught.value.errors) == {"name", "region", "timezone"}


def test_a_caller_id_is_registered_once_per_tenant(container: Container, account: Account) -> None:
    with pytest.raises(Conflict):
        container.catalog.add_cli(account.tenant, "01632 960000")
    with pytest.raises(ValidationFailed):
        container.catalog.add_cli(account.tenant, "not a number")


def test_a_nested_transaction_is_refused_not_hung(container: Container) -> None:
    tenant, _ = container.tenants.create("A")
    if container.store.dialect == "sqlite":
        # One connection per thread cannot hold two transactions, and a nested write would wait
        # forever on the writer lock: both are refused at once.
        for inner in (container.store.read, container.store.write):
            with container.store.write(), pytest.raises(RuntimeError, match="inside another"):
                inner().__enter__()
    else:
        # PostgreSQL gives the inner transaction a connection of its own.
        with container.store.read() as outer, container.store.read() as inner_session:
            assert outer.tenants.get_tenant(tenant.id) == inner_session.tenants.get_tenant(
                tenant.id
            )
    # Either way the thread's store still works afterwards.
    assert container.tenants.get(tenant.id).name == "A"

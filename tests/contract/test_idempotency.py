"""IdempotencyRepo: a write request's key, claimed once, with the response it got."""

from datetime import timedelta

import pytest

from dialer.ports.store import Store
from tests.contract.support import T0


class Boom(Exception):
    pass


def test_a_key_is_claimed_once_then_answers_with_its_hash_and_response(store: Store) -> None:
    with store.write() as s:
        assert s.idempotency.claim_idempotency_key("k1", "hash-a", T0) is None
    with store.write() as s:
        assert s.idempotency.claim_idempotency_key("k1", "hash-a", T0) == ("hash-a", None)
        s.idempotency.store_idempotent_response("k1", '{"ok":true}')
    with store.write() as s:
        assert s.idempotency.claim_idempotency_key("k1", "hash-a", T0) == ("hash-a", '{"ok":true}')


def test_a_key_reused_for_another_request_gives_the_first_hash(store: Store) -> None:
    with store.write() as s:
        s.idempotency.claim_idempotency_key("k1", "hash-a", T0)
        s.idempotency.store_idempotent_response("k1", "first")
    with store.write() as s:
        assert s.idempotency.claim_idempotency_key("k1", "hash-b", T0) == ("hash-a", "first")


def test_old_keys_are_forgotten_and_may_be_claimed_again(store: Store) -> None:
    later = T0 + timedelta(days=1)
    with store.write() as s:
        s.idempotency.claim_idempotency_key("old", "h", T0)
        s.idempotency.claim_idempotency_key("new", "h", later)
    with store.write() as s:
        s.idempotency.forget_idempotency_keys(later)
    with store.write() as s:
        assert s.idempotency.claim_idempotency_key("old", "h2", later) is None
        assert s.idempotency.claim_idempotency_key("new", "h2", later) == ("h", None)


def _failing_request(store: Store) -> None:
    with store.write() as s:
        s.idempotency.claim_idempotency_key("k1", "hash-a", T0)
        raise Boom


def test_a_claim_in_a_failed_request_is_not_kept(store: Store) -> None:
    with pytest.raises(Boom):
        _failing_request(store)
    with store.write() as s:
        assert s.idempotency.claim_idempotency_key("k1", "hash-b", T0) is None


def test_a_key_made_at_the_cutoff_is_kept(store: Store) -> None:
    with store.write() as s:
        s.idempotency.claim_idempotency_key("k1", "h", T0)
        s.idempotency.forget_idempotency_keys(T0)
    with store.write() as s:
        assert s.idempotency.claim_idempotency_key("k1", "h", T0) == ("h", None)

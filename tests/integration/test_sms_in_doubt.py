"""After a crash, the sender binds the provider of each tenant with a text in doubt at once
(engine/sms_outbox.py), on a real SQLite file and PostgreSQL: a tenant's own provider would
otherwise bind only when its next text is due, and the receipts its SMSC kept for the dead
sender's text would come only when that text is submitted again, once too often. And a text
never submitted (its provider could not be had) is not taken for a dead sender's."""

import asyncio
from datetime import timedelta

from dialer.bootstrap import Container
from dialer.clocks import ManualClock
from dialer.domain.ids import CampaignId, TenantId
from dialer.domain.sms_outbox import SmsStatus
from dialer.engine.sms_outbox import SmsProviders, SmsSender
from tests.contract import support
from tests.integration.test_sms_sender import ScriptedProvider, queued, status

__all__ = ["queued"]  # the fixture


def test_a_tenants_own_provider_is_bound_while_its_text_is_in_doubt(
    container: Container, queued: tuple[support.Account, CampaignId]
) -> None:
    acct, cid = queued
    clock = ManualClock(support.T0)
    default = ScriptedProvider(clock, [])
    own = ScriptedProvider(clock, [])

    def tenant_provider(tenant: TenantId) -> ScriptedProvider | None:
        return own if tenant == acct.tenant_id else None

    providers = SmsProviders(default, tenant_provider)  # type: ignore[arg-type]
    # A sender claimed the text at T0 and died: no answer was stored.
    with container.store.write() as s:
        assert len(s.sms.claim_sms(support.T0, 10, timedelta(minutes=2))) == 1
    clock.advance(timedelta(minutes=2))
    sender = SmsSender(container.store, clock, providers)  # type: ignore[arg-type]
    assert asyncio.run(sender.run_once()) == 0  # nothing to submit: the text is in doubt
    assert status(container, cid)[0] is SmsStatus.UNKNOWN
    assert own.reports is not None, "the tenant's own provider was not started"
    assert own.sent == []


def test_a_text_whose_provider_cannot_be_had_is_retried_not_taken_for_a_crash(
    container: Container, queued: tuple[support.Account, CampaignId]
) -> None:
    _, cid = queued
    clock = ManualClock(support.T0)

    def broken(tenant: TenantId) -> ScriptedProvider | None:
        raise ValueError("unreadable settings")

    providers = SmsProviders(ScriptedProvider(clock, []), broken)  # type: ignore[arg-type]
    sender = SmsSender(container.store, clock, providers)  # type: ignore[arg-type]
    assert asyncio.run(sender.run_once()) == 1
    # Nothing was submitted: the claim's mark is cleared, and the text is queued to retry.
    reason = "no provider: ValueError: unreadable settings"
    assert status(container, cid) == (SmsStatus.QUEUED, reason)
    with container.store.write() as s:
        (again,) = s.sms.claim_sms(support.T0 + timedelta(minutes=3), 10, timedelta(minutes=2))
    assert again.status is SmsStatus.QUEUED

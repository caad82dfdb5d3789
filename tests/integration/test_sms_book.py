"""The tenants' own providers (telephony/sms_book.py), built from their stored settings."""

import pytest

from dialer.bootstrap import Container
from dialer.clocks import ManualClock
from dialer.telephony.sms import SimulatedSmsGateway
from dialer.telephony.sms_book import TenantSmsBook
from dialer.telephony.sms_http import HttpSmsProvider
from tests.conftest import Account

HTTP = {
    "provider": "http",
    "senderId": "ACME",
    "http": {
        "url": "https://gw.example.com/send",
        "bodyTemplate": '{"to": "{to}", "text": "{text}"}',
        "callbackSecret": "0123456789abcdef0123",
    },
}


def test_a_tenant_gets_its_own_provider_and_sender_id(
    container: Container, clock: ManualClock, account: Account, other_account: Account
) -> None:
    container.sms_settings.update(account.tenant.id, HTTP, "http://dialer.test/")
    book = TenantSmsBook(container.store, clock, refresh=0)
    provider = book(account.tenant.id)
    assert isinstance(provider, HttpSmsProvider)
    assert provider.settings.url == "https://gw.example.com/send"
    assert book(account.tenant.id) is provider  # unchanged settings: the same provider
    assert book.sender_id(account.tenant.id) == "ACME"
    assert book(other_account.tenant.id) is None  # none of its own: the default
    assert book.sender_id(other_account.tenant.id) is None


@pytest.mark.parametrize(("real", "expected"), [(False, SimulatedSmsGateway), (True, type(None))])
def test_sim_settings_never_pretend_on_a_real_network(
    container: Container, clock: ManualClock, account: Account, real: bool, expected: type
) -> None:
    container.sms_settings.update(account.tenant.id, {"provider": "sim"}, "http://dialer.test/")
    book = TenantSmsBook(container.store, clock, real_network=real)
    assert isinstance(book(account.tenant.id), expected)

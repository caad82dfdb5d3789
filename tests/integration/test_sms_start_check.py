"""Issue 15: a clear error at start when a SIP process would send texts with no provider.
`dialer serve|worker --network sip` with no --sms names each campaign still to dial whose
texts would all fail, on a real SQLite file and PostgreSQL."""

import json
from typing import Any

import pytest

from dialer.bootstrap import Container
from dialer.cli.sms_check import report_texts_without_provider
from dialer.domain.lifecycle import Transition
from dialer.domain.sms import SmppSettings
from dialer.domain.sms_settings import HttpSmsSettings, SmsProviderKind, TenantSmsSettings
from dialer.services.sms_readiness import texting_without_provider
from dialer.settings import NetworkSettings, SmsDefault
from tests.conftest import Account

SIP = NetworkSettings(kind="sip", sms=SmsDefault("none"))
TEXT_LOG = ("text", "info")
NODE_FLOW = """\
version: 2
sms: "Sorry we missed you"  # sent on busy only, and smsOnBusy is 0 here
answerphone: "Please call us back"
nodes:
  hello: {say: "Hello {Name}", next: note}
  note: {sms: "We will call again tomorrow", next: bye}
  bye: {hangup: true}
"""


def campaign(container: Container, account: Account, name: str, **overrides: Any) -> int:
    body = account.campaign(name=name, **overrides)
    return container.campaigns.create(account.tenant, body).campaign.id


def set_provider(container: Container, account: Account, settings: TenantSmsSettings) -> None:
    with container.store.write() as session:
        session.sms.set_sms_settings(account.tenant.id, settings, container.clock.now())


def test_a_sip_start_names_each_campaign_that_would_text_with_no_provider(
    container: Container, account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    busy = campaign(container, account, "Busy texts", smsOnBusy=1)
    campaign(container, account, "No texts", smsOnBusy=0)
    flow = container.catalog.add_callflow(account.tenant, "Node", NODE_FLOW).id
    node = campaign(container, account, "Node texts", smsOnBusy=0, callflow_Id=flow)
    # A tenant's own `sim` is ignored on a SIP process: still no provider.
    set_provider(container, account, TenantSmsSettings(SmsProviderKind.SIM, callback_id="c"))

    assert report_texts_without_provider(container, SIP, TEXT_LOG) == 2
    lines = capsys.readouterr().err.splitlines()
    tenant = f"of tenant {account.tenant.id} (Acme)"
    assert lines == [
        f"error: campaign {busy} 'Busy texts' {tenant} would send texts (smsOnBusy) but no SMS"
        " provider can take them: every one will fail. Set the tenant's provider"
        " (PUT /api/settings/sms) or start with --sms smpp|http",
        f"error: campaign {node} 'Node texts' {tenant} would send texts (sms node 'note') but"
        " no SMS provider can take them: every one will fail. Set the tenant's provider"
        " (PUT /api/settings/sms) or start with --sms smpp|http",
    ]


def test_json_logs_carry_the_error_as_an_object(
    container: Container, account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    busy = campaign(container, account, "Busy texts")
    assert report_texts_without_provider(container, SIP, ("json", "info")) == 1
    (line,) = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert record["level"].lower() == "error"
    assert f"campaign {busy} 'Busy texts'" in record["message"]


@pytest.mark.parametrize(
    "own",
    [
        TenantSmsSettings(
            SmsProviderKind.SMPP, smpp=SmppSettings("smsc.example.com", 2775, "a", "p")
        ),
        TenantSmsSettings(SmsProviderKind.HTTP, http=HttpSmsSettings("https://gw.example.com/")),
    ],
    ids=["smpp", "http"],
)
def test_no_error_when_the_tenant_has_a_provider_of_its_own(
    container: Container,
    account: Account,
    other_account: Account,
    own: TenantSmsSettings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    campaign(container, account, "Busy texts")
    other = campaign(container, other_account, "Globex texts")
    set_provider(container, account, own)
    # Only the tenant without one is named.
    assert [
        c.campaign_id for c in texting_without_provider(container.store, container.clock.now())
    ] == [other]
    assert report_texts_without_provider(container, SIP, TEXT_LOG) == 1
    assert "Globex" in capsys.readouterr().err


@pytest.mark.parametrize(
    "network",
    [
        NetworkSettings(kind="sim", sms=SmsDefault("sim")),
        NetworkSettings(kind="sip", sms=SmsDefault("http", http=HttpSmsSettings("https://g.io/"))),
    ],
    ids=["network-sim", "sip-with-sms-default"],
)
def test_no_error_on_the_simulated_network_or_with_a_default_provider(
    container: Container,
    account: Account,
    network: NetworkSettings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    campaign(container, account, "Busy texts")
    assert report_texts_without_provider(container, network, TEXT_LOG) == 0
    assert capsys.readouterr().err == ""


def test_a_cancelled_campaign_is_not_named(container: Container, account: Account) -> None:
    cancelled = campaign(container, account, "Cancelled")
    container.summaries.act(account.tenant, cancelled, Transition.CANCEL)
    kept = campaign(container, account, "Kept")
    assert [
        c.campaign_id for c in texting_without_provider(container.store, container.clock.now())
    ] == [kept]

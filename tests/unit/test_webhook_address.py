"""Which addresses webhooks may reach: public only, in every spelling, unless allowed."""

import ipaddress

import pytest

from dialer.domain.webhook_address import (
    AddressPolicy,
    AllowListInvalid,
    literal_address,
    why_not_public,
)

REFUSED = [
    "127.0.0.1",
    "127.255.0.9",
    "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "198.18.0.1",
    "::1",
    "::",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "2002:7f00:1::",
    "64:ff9b::a00:1",
    "2001:db8::1",
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::"]


@pytest.mark.parametrize("text", REFUSED)
def test_non_public_addresses_are_refused(text: str) -> None:
    address = ipaddress.ip_address(text)
    assert why_not_public(address) is not None
    assert AddressPolicy().refusal(text, address) is not None


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_pass(text: str) -> None:
    assert why_not_public(ipaddress.ip_address(text)) is None


@pytest.mark.parametrize(
    ("host", "spelled"),
    [
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("169.254.43518", "169.254.169.254"),
        ("[::1]", "::1"),
        ("::ffff:7f00:1", "::ffff:127.0.0.1"),
        ("8.8.8.8", "8.8.8.8"),
    ],
)
def test_every_spelling_of_an_address_is_read_as_that_address(host: str, spelled: str) -> None:
    assert literal_address(host) == ipaddress.ip_address(spelled)


def test_names_are_not_addresses_and_false_numbers_are_errors() -> None:
    assert literal_address("crm.example") is None
    assert literal_address("1password.example") is None
    with pytest.raises(ValueError, match="not an IP address"):
        literal_address("999999999999")


def test_the_operator_allows_hosts_and_networks() -> None:
    policy = AddressPolicy.allowing(["127.0.0.1", "10.1.0.0/16", "CRM.internal.", "fd00::/8"])
    loopback = ipaddress.ip_address("127.0.0.1")
    assert policy.refusal("127.0.0.1", loopback) is None
    assert policy.refusal("10.1.200.3", ipaddress.ip_address("10.1.200.3")) is None
    assert policy.refusal("10.2.0.1", ipaddress.ip_address("10.2.0.1")) is not None
    assert policy.refusal("crm.internal", ipaddress.ip_address("192.168.0.9")) is None
    assert policy.refusal("fd00::5", ipaddress.ip_address("fd00::5")) is None
    assert policy.refusal("other.internal", ipaddress.ip_address("192.168.0.9")) == (
        "other.internal resolves to 192.168.0.9, a private address; webhooks go to public"
        " addresses only, unless the operator allows it (--webhook-allow)"
    )
    assert policy.name_refusal("localhost") is not None
    assert AddressPolicy.allowing(["localhost"]).name_refusal("localhost") is None
    for bad in ("10.0.0.0/33", "http://x/", "a b"):
        with pytest.raises(AllowListInvalid):
            AddressPolicy.allowing([bad])

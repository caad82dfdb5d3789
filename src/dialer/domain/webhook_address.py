"""Which addresses a webhook may be delivered to: public ones, unless the operator allows more.

A tenant chooses its webhook's URL, so without this rule any tenant could make the service POST
into the network it runs in (a cloud's metadata service at 169.254.169.254, a database admin
page on 10.0.0.5). Refused: loopback, private (RFC 1918, IPv6 ULA), link-local, CGNAT, multicast,
reserved and unspecified addresses, and IPv6 forms that carry such an IPv4 address (mapped,
6to4, NAT64, Teredo). A host written as a number in any of the spellings resolvers accept
(``2130706433``, ``0177.0.0.1``, ``0x7f.1``) is read as the address it spells.

The operator's allow list (``--webhook-allow``) names hosts (``crm.internal``) or networks
(``10.1.0.0/16``, ``127.0.0.1``) that are allowed all the same.
"""

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# What inet_aton reads as an IPv4 address: one to four parts, each decimal, octal or hex.
_NUMERIC_HOST = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?", re.I)


_ONLY_PUBLIC = (
    "webhooks go to public addresses only, unless the operator allows it (--webhook-allow)"
)


class AllowListInvalid(ValueError):
    pass


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` spells, in any form a resolver would read it, or None for a name.

    Raises ValueError for a host that looks like a number but is no address (``999999999999``).
    """
    host = host.strip("[]")
    if _NUMERIC_HOST.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host.rstrip(".")))
        except OSError:
            raise ValueError(f"{host} is not an IP address") from None
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def literal_address_or_none(host: str) -> IPAddress | None:
    try:
        return literal_address(host)
    except ValueError:
        return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def why_not_public(address: IPAddress) -> str | None:
    """What kind of non-public address this is, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            reason = why_not_public(inner)
            return None if reason is None else f"{reason} (inside {address})"
    for kind, test in (
        ("a loopback", address.is_loopback),
        ("an unspecified", address.is_unspecified),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("a shared (CGNAT)", address in _CGNAT),
        ("a private", address.is_private),
        ("a reserved", address.is_reserved),
        ("a non-public", not address.is_global),
    ):
        if test:
            return f"{kind} address"
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """The public-only rule with the operator's exceptions."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def allowing(cls, entries: Iterable[str]) -> "AddressPolicy":
        """From ``--webhook-allow`` values: host names, addresses or networks in CIDR form."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            text = entry.strip().lower()
            if not text:
                continue
            try:
                networks.append(ipaddress.ip_network(text.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if "/" in text or not re.fullmatch(r"[a-z0-9_.-]+", text):
                raise AllowListInvalid(
                    f"{entry!r} is neither a host name nor an address or network like 10.0.0.0/8"
                )
            hosts.add(text.rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def host_allowed(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def refusal(self, host: str, address: IPAddress) -> str | None:
        """Why ``host`` may not be reached at ``address``, or None if it may."""
        if self.host_allowed(host) or any(
            address.version == net.version and address in net for net in self.networks
        ):
            return None
        reason = why_not_public(address)
        if reason is None:
            return None
        where = (
            f"{address} is"
            if literal_address_or_none(host) == address
            else f"{host} resolves to {address},"
        )
        return f"{where} {reason}; {_ONLY_PUBLIC}"

    def name_refusal(self, host: str) -> str | None:
        """Why a host name is refused before any lookup (``localhost`` and its subdomains)."""
        name = host.lower().rstrip(".")
        if self.host_allowed(name):
            return None
        if name == "localhost" or name.endswith(".localhost"):
            return f"{host} is this machine; {_ONLY_PUBLIC}"
        return None

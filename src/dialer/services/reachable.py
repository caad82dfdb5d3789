"""Where the service may connect when a tenant chose the place (a webhook's URL, an HTTP SMS
gateway, an SMPP host): the address policy of domain/webhook_address.py, checked again at each
connection, since a name accepted when it was saved may resolve to a private address later. The
connection then goes to the address just checked, not to the name, so a second lookup cannot
send it elsewhere (DNS rebinding)."""

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

import httpx

from dialer.domain.webhook_address import AddressPolicy, IPAddress, literal_address

AsyncResolver = Callable[[str, int], Awaitable[list[IPAddress]]]


class Refused(Exception):
    """The place may not be reached; the message says why."""


async def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses ``host`` resolves to now (OSError if it does not)."""
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(
        dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found)
    )


async def checked_address(
    host: str,
    port: int,
    policy: AddressPolicy,
    lookup: AsyncResolver = resolve,
    what: str = "webhooks",
) -> IPAddress:
    """The address to connect to; Refused if the host or any address it resolves to is.
    ``what`` names the connection in the policy's refusal ("SMPP binds go to public ...")."""
    try:
        literal = literal_address(host)
    except ValueError as exc:
        raise Refused(str(exc)) from None
    if literal is not None:
        addresses = [literal]
    else:
        refused = policy.name_refusal(host)
        if refused is not None:
            raise Refused(refused.replace("webhooks go", f"{what} go"))
        try:
            addresses = await lookup(host, port)
        except (OSError, UnicodeError) as exc:
            raise Refused(f"{host} does not resolve: {exc}") from None
        if not addresses:
            raise Refused(f"{host} does not resolve")
    for address in addresses:
        refused = policy.refusal(host, address)
        if refused is not None:
            raise Refused(refused.replace("webhooks go", f"{what} go"))
    return addresses[0]


async def checked_url(
    raw_url: str,
    headers: dict[str, str],
    policy: AddressPolicy,
    lookup: AsyncResolver = resolve,
    what: str = "webhooks",
) -> tuple[httpx.URL, dict[str, str]]:
    """The URL to request: ``raw_url`` with its host replaced by the address just checked. The
    name still goes in the Host header (set in ``headers``) and, for https, in the TLS
    handshake, where the certificate is checked against it. Refused if any address is."""
    url = httpx.URL(raw_url)
    if url.userinfo:
        raise Refused("the URL carries a user name or password")
    port = url.port or (443 if url.scheme == "https" else 80)
    address = await checked_address(url.host, port, policy, lookup, what)
    headers["Host"] = url.netloc.decode("ascii")
    extensions: dict[str, str] = {}
    if url.scheme == "https" and literal_address(url.host) is None:
        extensions["sni_hostname"] = url.host
        # A client pools connections by the address; a TLS connection made (and its
        # certificate checked) for one name must not carry another name's requests.
        headers["Connection"] = "close"
    return url.copy_with(host=str(address)), extensions

"""Where a tenant's SMPP bind may connect: the address policy webhooks and HTTP gateways obey
(domain/webhook_address.py), checked again at each connect, since a name accepted when the
settings were saved may resolve to a private address later. The bind then connects to the
address just checked, not to the name, so a second lookup cannot send it elsewhere."""

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

from dialer.domain.webhook_address import AddressPolicy, IPAddress, literal_address

AsyncResolver = Callable[[str, int], Awaitable[list[IPAddress]]]


class Refused(Exception):
    """The host may not be reached: its message says why."""


async def resolve(host: str, port: int) -> list[IPAddress]:
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(
        dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found)
    )


async def checked_address(
    host: str, port: int, policy: AddressPolicy, lookup: AsyncResolver = resolve
) -> str:
    """The address to connect to; Refused if the host or any address it resolves to is."""
    try:
        literal = literal_address(host)
    except ValueError as exc:
        raise Refused(str(exc)) from None
    if literal is not None:
        addresses = [literal]
    else:
        refused = policy.name_refusal(host)
        if refused is not None:
            raise Refused(refused)
        try:
            addresses = await lookup(host, port)
        except (OSError, UnicodeError) as exc:
            raise Refused(f"{host} does not resolve: {exc}") from None
        if not addresses:
            raise Refused(f"{host} does not resolve")
    for address in addresses:
        refused = policy.refusal(host, address)
        if refused is not None:
            raise Refused(refused.replace("webhooks go", "SMPP binds go"))
    return str(addresses[0])

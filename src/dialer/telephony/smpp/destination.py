"""Where a tenant's SMPP bind may connect: the address policy webhooks and HTTP gateways obey
(domain/webhook_address.py), checked again at each connect, since a name accepted when the
settings were saved may resolve to a private address later. The bind then connects to the
address just checked, not to the name, so a second lookup cannot send it elsewhere."""

from dialer.domain.webhook_address import AddressPolicy
from dialer.services import reachable
from dialer.services.reachable import AsyncResolver, Refused, resolve

__all__ = ["AsyncResolver", "Refused", "checked_address", "resolve"]


async def checked_address(
    host: str, port: int, policy: AddressPolicy, lookup: AsyncResolver = resolve
) -> str:
    """The address to connect to; Refused if the host or any address it resolves to is."""
    return str(await reachable.checked_address(host, port, policy, lookup, "SMPP binds"))

"""Bearer-key authentication: every REST request names its tenant by its API key, or comes from
the console with a manager's session cookie (api/session_auth.py)."""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from dialer.api.session_auth import session_of, uses_session
from dialer.domain.errors import Forbidden, Unauthorized
from dialer.domain.tenant import Tenant
from dialer.services.tenants import TenantService, hash_key


async def current_tenant(request: Request) -> Tenant:
    if uses_session(request):
        resolved = await session_of(request)
        if resolved.agent is not None:
            raise Forbidden("an agent's console session reaches only the agent desk")
        return resolved.tenant
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("send Authorization: Bearer <api key>")
    tenants: TenantService = request.app.state.tenants
    return await run_in_threadpool(tenants.authenticate, key.strip())


def bearer_key_hash(request: Request) -> str | None:
    """The SHA-256 of the API key in ``Authorization: Bearer``, or None without one (a stream
    opened with it keeps it, to end once the key is rotated: api/live_hub.py)."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return hash_key(key.strip())

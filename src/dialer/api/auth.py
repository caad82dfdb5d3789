"""Bearer-key authentication: every REST request names its tenant by its API key."""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from dialer.domain.errors import Unauthorized
from dialer.domain.tenant import Tenant
from dialer.services.tenants import TenantService


async def current_tenant(request: Request) -> Tenant:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("send Authorization: Bearer <api key>")
    tenants: TenantService = request.app.state.tenants
    return await run_in_threadpool(tenants.authenticate, key.strip())

"""The tenant's settings: its abandoned-call rules (GET and PUT /api/settings/compliance;
docs/compliance.md) and its calling hours (GET and PUT /api/settings/calling-hours)."""

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dialer.api import agent_schemas as docs
from dialer.api import compliance_schemas as schemas
from dialer.api.auth import current_tenant
from dialer.api.body import read_json
from dialer.api.responses import JsonResponse
from dialer.domain.compliance import CallingHours
from dialer.domain.tenant import Tenant
from dialer.services.compliance_input import compliance_json
from dialer.services.tenants import TenantService

router = APIRouter(prefix="/api/settings", tags=["settings"])
TenantDep = Annotated[Tenant, Depends(current_tenant)]
_SETTINGS = docs.answer(schemas.ComplianceOut, schemas.COMPLIANCE_EXAMPLE)
_TOO_LARGE = docs.problem(
    "A body over the server's limit", "the body is over the limit of 1048576 bytes", 413
)


def _tenants(request: Request) -> TenantService:
    service: TenantService = request.app.state.tenants
    return service


@router.get("/compliance", responses={200: _SETTINGS, 401: docs.TENANT_401})
async def get_compliance(request: Request, tenant: TenantDep) -> Response:
    """The regime the tenant dials under, its target, the information message abandoned calls
    hear, the per-number cap, and the rules these make."""
    settings = await run_in_threadpool(_tenants(request).compliance, tenant.id)
    return JsonResponse(compliance_json(settings))


@router.put(
    "/compliance",
    openapi_extra=docs.body(schemas.ComplianceIn, schemas.COMPLIANCE_UPDATE_EXAMPLE),
    responses={
        200: _SETTINGS,
        400: docs.BAD_BODY,
        401: docs.TENANT_401,
        413: _TOO_LARGE,
    },
)
async def put_compliance(request: Request, tenant: TenantDep) -> Response:
    """Change the settings the body names (the others keep their values); all of it or, if
    any field is wrong, nothing. Rates are percent: ``target`` at most 3."""
    body = await read_json(request, request.app.state.settings.max_body_bytes)
    settings = await run_in_threadpool(_tenants(request).update_compliance, tenant.id, body)
    return JsonResponse(compliance_json(settings))


def _hours_json(hours: CallingHours) -> dict[str, str]:
    return {"start": f"{hours.start:%H:%M}", "end": f"{hours.end:%H:%M}"}


_HOURS = docs.answer(schemas.CallingHoursOut, schemas.CALLING_HOURS_EXAMPLE)


@router.get("/calling-hours", responses={200: _HOURS, 401: docs.TENANT_401})
async def get_calling_hours(request: Request, tenant: TenantDep) -> Response:
    """When callees may be rung, in each callee's own time zone (start inclusive, end
    exclusive)."""
    hours = await run_in_threadpool(_tenants(request).calling_hours, tenant.id)
    return JsonResponse(_hours_json(hours))


@router.put(
    "/calling-hours",
    openapi_extra=docs.body(schemas.CallingHoursIn, schemas.CALLING_HOURS_EXAMPLE),
    responses={200: _HOURS, 400: docs.BAD_BODY, 401: docs.TENANT_401, 413: _TOO_LARGE},
)
async def put_calling_hours(request: Request, tenant: TenantDep) -> Response:
    """Change start, end or both; all of it or, if any of it is wrong, nothing. The end must be
    later than the start on the same day."""
    body = await read_json(request, request.app.state.settings.max_body_bytes)
    hours = await run_in_threadpool(_tenants(request).update_calling_hours, tenant.id, body)
    return JsonResponse(_hours_json(hours))

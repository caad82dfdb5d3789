"""The tenant's do-not-call list: GET (page or check one), POST (add), DELETE (remove)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dialer.api.auth import current_tenant
from dialer.api.body import read_json
from dialer.api.responses import JsonResponse
from dialer.api.schemas import Problem
from dialer.domain.errors import ValidationFailed
from dialer.domain.tenant import Tenant
from dialer.services.dnc import DncService

router = APIRouter(prefix="/api/dnc", tags=["do-not-call list"])
TenantDep = Annotated[Tenant, Depends(current_tenant)]
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"numbers": {"type": "array", "items": {"type": "string"}}},
                    "required": ["numbers"],
                }
            }
        },
    }
}


def _dnc(request: Request) -> DncService:
    service: DncService = request.app.state.dnc
    return service


async def _numbers(request: Request) -> list[Any]:
    body = await read_json(request, request.app.state.settings.max_body_bytes)
    numbers = body.get("numbers") if isinstance(body, dict) else None
    if not isinstance(numbers, list):
        raise ValidationFailed({"numbers": ['Send {"numbers": ["+447700900123", ...]}.']})
    return numbers


@router.get("", responses={400: {"model": Problem}, 401: {"model": Problem}})
async def list_dnc(
    request: Request,
    tenant: TenantDep,
    number: Annotated[str | None, Query(max_length=60, description="check one number")] = None,
    after: Annotated[
        str | None, Query(max_length=60, description="last number of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> Response:
    service = _dnc(request)
    if number is not None:
        e164, listed = await run_in_threadpool(service.contains, tenant, number)
        return JsonResponse({"number": e164, "listed": listed})
    numbers = await run_in_threadpool(service.listed, tenant, after, limit)
    return JsonResponse(
        {"numbers": numbers, "next": numbers[-1] if len(numbers) == limit else None}
    )


@router.post("", openapi_extra=_BODY, responses={400: {"model": Problem}, 401: {"model": Problem}})
async def add_dnc(request: Request, tenant: TenantDep) -> Response:
    change = await run_in_threadpool(_dnc(request).add, tenant, await _numbers(request))
    return JsonResponse({"added": change.changed, "alreadyListed": change.unchanged})


@router.delete(
    "", openapi_extra=_BODY, responses={400: {"model": Problem}, 401: {"model": Problem}}
)
async def remove_dnc(request: Request, tenant: TenantDep) -> Response:
    change = await run_in_threadpool(_dnc(request).remove, tenant, await _numbers(request))
    return JsonResponse({"removed": change.changed, "notListed": change.unchanged})

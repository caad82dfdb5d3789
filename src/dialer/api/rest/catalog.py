"""Read-only lists of the caller's call flows and caller IDs, for filling in campaign forms."""

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dialer.api.auth import current_tenant
from dialer.api.responses import JsonResponse
from dialer.api.rest.presenters import callflow_json, cli_json
from dialer.api.schemas import CallFlowOut, CliOut, Problem
from dialer.domain.tenant import Tenant
from dialer.services.catalog import CatalogService

router = APIRouter(prefix="/api", tags=["call flows and caller IDs"])
TenantDep = Annotated[Tenant, Depends(current_tenant)]


def _catalog(request: Request) -> CatalogService:
    service: CatalogService = request.app.state.catalog
    return service


@router.get("/callflows", responses={200: {"model": list[CallFlowOut]}, 401: {"model": Problem}})
async def list_callflows(request: Request, tenant: TenantDep) -> Response:
    records = await run_in_threadpool(_catalog(request).callflows, tenant)
    return JsonResponse([callflow_json(r) for r in records])


@router.get("/clis", responses={200: {"model": list[CliOut]}, 401: {"model": Problem}})
async def list_clis(request: Request, tenant: TenantDep) -> Response:
    clis = await run_in_threadpool(_catalog(request).clis, tenant)
    return JsonResponse([cli_json(c) for c in clis])

"""GET /api/campaign/voice/summaries, /{id}/summary and /{id}/statistics: light answers
without the numbers (docs/rest-api.md, "Summaries" and "Statistics")."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dialer.api.auth import current_tenant
from dialer.api.responses import JsonResponse
from dialer.api.rest.campaigns import _campaign_id
from dialer.api.schemas import Problem
from dialer.api.summary_schemas import CampaignSummaryOut, StatisticsOut
from dialer.domain.tenant import Tenant
from dialer.services.campaign_statistics import StatisticsService
from dialer.services.campaign_summary import (
    MAX_QUERY,
    SummaryService,
    parse_state,
    summary_json,
)

router = APIRouter(prefix="/api/campaign/voice", tags=["voice campaigns"])
TenantDep = Annotated[Tenant, Depends(current_tenant)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing or unknown API key"},
}


def summaries_service(request: Request) -> SummaryService:
    service: SummaryService = request.app.state.summaries
    return service


@router.get(
    "/summaries",
    responses={200: {"model": list[CampaignSummaryOut]}, 400: {"model": Problem}, **_ERRORS},
)
async def summaries(
    request: Request,
    tenant: TenantDep,
    state: Annotated[
        str | None,
        Query(description="Only campaigns in this state (Scheduled, Running, Paused, ...)"),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=MAX_QUERY,
            description="Only campaigns whose name contains this (any case), or with this id",
        ),
    ] = None,
) -> Response:
    """Every campaign of the account, in order of id, with its state and counts: the
    campaigns list's data, without any number."""
    wanted = parse_state(state)
    found = await run_in_threadpool(summaries_service(request).summaries, tenant, wanted, q)
    return JsonResponse([summary_json(s) for s in found])


@router.get(
    "/{campaign_id}/summary",
    responses={200: {"model": CampaignSummaryOut}, 404: {"model": Problem}, **_ERRORS},
)
async def summary(request: Request, campaign_id: str, tenant: TenantDep) -> Response:
    """One campaign's summary: the same as its item in /summaries."""
    target = _campaign_id(campaign_id)
    found = await run_in_threadpool(summaries_service(request).summary, tenant, target)
    return JsonResponse(summary_json(found))


@router.get(
    "/{campaign_id}/statistics",
    responses={
        200: {"model": StatisticsOut},
        400: {"model": Problem},
        404: {"model": Problem},
        **_ERRORS,
    },
)
async def statistics(
    request: Request,
    campaign_id: str,
    tenant: TenantDep,
    bucket: Annotated[str, Query(description="5m or 1h")] = "1h",
    since: Annotated[
        str | None,
        Query(
            alias="from",
            description="ISO 8601 instant with offset; default: 24 h (5m) or 7 days (1h)"
            " before `to`",
        ),
    ] = None,
    until: Annotated[
        str | None, Query(alias="to", description="ISO 8601 instant with offset; default now")
    ] = None,
) -> Response:
    """Attempts and outcomes per bucket of their end time, the answer rate, and for an agent
    campaign the abandoned-call rate over its rolling window; at most 2,000 buckets (400)."""
    target = _campaign_id(campaign_id)
    service: StatisticsService = request.app.state.statistics
    body = await run_in_threadpool(service.statistics, tenant, target, bucket, since, until)
    return JsonResponse(body)

"""Routes of the voice-campaign API: /api/campaign/voice."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from dialer.api.auth import current_tenant
from dialer.api.body import read_json
from dialer.api.responses import JsonResponse
from dialer.api.rest.csv_export import csv_chunks
from dialer.api.rest.presenters import detail_json, summary_json
from dialer.api.schemas import (
    CampaignDetailOut,
    CampaignIn,
    CampaignListItem,
    Problem,
    ResultsPageOut,
)
from dialer.domain.errors import NotFound, ValidationFailed
from dialer.domain.ids import CampaignId
from dialer.domain.tenant import Tenant
from dialer.services.abandonment_view import abandonment_json
from dialer.services.campaigns import NUMBERS_PAGE, NUMBERS_PAGE_MAX, CampaignService
from dialer.services.results import (
    DEFAULT_LIMIT,
    MAX_AFTER,
    MAX_LIMIT,
    ResultsService,
    result_fields,
)

router = APIRouter(prefix="/api/campaign/voice", tags=["voice campaigns"])
TenantDep = Annotated[Tenant, Depends(current_tenant)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing or unknown API key"},
}
_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": CampaignIn.model_json_schema()}},
    }
}
_MAX_ID = 2**63 - 1


def _service(request: Request) -> CampaignService:
    service: CampaignService = request.app.state.campaigns
    return service


def _campaign_id(raw: str) -> CampaignId:
    """Ids are positive integers; anything else is as unknown as an id that does not exist."""
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= _MAX_ID:
        raise NotFound(f"campaign {raw[:40]!r}")
    return CampaignId(int(raw))


def _limit(request: Request) -> int:
    limit: int = request.app.state.settings.max_body_bytes
    return limit


@router.get("", responses={200: {"model": list[CampaignListItem]}, **_ERRORS})
async def list_campaigns(request: Request, tenant: TenantDep) -> Response:
    summaries, states = await run_in_threadpool(_service(request).list_with_states, tenant)
    # state: the lifecycle state (docs/rest-api.md, "Campaign lifecycle").
    return JsonResponse(
        [{**summary_json(s), "state": states[s.campaign.id].value} for s in summaries]
    )


@router.get(
    "/{campaign_id}",
    responses={200: {"model": CampaignDetailOut}, 404: {"model": Problem}, **_ERRORS},
)
async def get_campaign(
    request: Request,
    campaign_id: str,
    tenant: TenantDep,
    numbers_limit: Annotated[
        int,
        Query(
            alias="numbersLimit",
            ge=1,
            le=NUMBERS_PAGE_MAX,
            description=f"phone numbers in this answer, default {NUMBERS_PAGE:,}",
        ),
    ] = NUMBERS_PAGE,
    numbers_after: Annotated[
        int,
        Query(
            alias="numbersAfter",
            ge=0,
            le=_MAX_ID,
            description="the `phoneNumbersNext` of the previous answer; omit to start",
        ),
    ] = 0,
) -> Response:
    """The campaign with a page of its numbers (docs/rest-api.md, Reading a campaign)."""
    target = _campaign_id(campaign_id)
    detail = await run_in_threadpool(
        _service(request).get, tenant, target, numbers_after, numbers_limit
    )
    body = detail_json(detail.campaign, detail.numbers, detail.progress, detail.not_valid)
    # Null for an IVR campaign, which abandons no call.
    body["abandonment"] = (
        None if detail.abandonment is None else abandonment_json(detail.abandonment)
    )
    body["phoneNumbersNext"] = detail.numbers_next
    body["state"] = None if detail.state is None else detail.state.value
    headers = {}
    if detail.numbers_next is not None:
        query = f"numbersAfter={detail.numbers_next}&numbersLimit={numbers_limit}"
        headers["Link"] = f'</api/campaign/voice/{target}?{query}>; rel="next"'
    return JsonResponse(body, headers=headers)


@router.get(
    "/{campaign_id}/results",
    responses={
        200: {
            "model": ResultsPageOut,
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "A page of results (JSON), or every result (format=csv)",
        },
        400: {"model": Problem},
        404: {"model": Problem},
        **_ERRORS,
    },
)
async def campaign_results(
    request: Request,
    campaign_id: str,
    tenant: TenantDep,
    after: Annotated[
        int | None,
        Query(ge=0, le=MAX_AFTER, description="the `next` of the previous page; omit to start"),
    ] = None,
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_LIMIT,
            description=f"results per page (JSON only), default {DEFAULT_LIMIT:,}",
        ),
    ] = None,
    output: Annotated[
        Literal["json", "csv"], Query(alias="format", description="csv: every result, streamed")
    ] = "json",
) -> Response:
    """One row per attempt, in the order attempts were made (docs/rest-api.md, Results)."""
    target = _campaign_id(campaign_id)
    service: ResultsService = request.app.state.results
    if output == "csv":
        if limit is not None:
            # Named as FastAPI names the query's other problems.
            raise ValidationFailed(
                {"query.limit": ["CSV gives every result; limit pages JSON only."]}
            )
        pages = await run_in_threadpool(service.stream, tenant, target, after)
        filename = f"campaign-{target}-results.csv"
        return StreamingResponse(
            csv_chunks(pages),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    page = await run_in_threadpool(
        service.page, tenant, target, after, DEFAULT_LIMIT if limit is None else limit
    )
    return JsonResponse(
        {"results": [result_fields(r) for r in page.results], "next": page.next_after}
    )


@router.post(
    "",
    status_code=201,
    openapi_extra=_BODY,
    responses={
        201: {"model": CampaignDetailOut},
        400: {"model": Problem},
        413: {"model": Problem},
        **_ERRORS,
    },
)
async def create_campaign(request: Request, tenant: TenantDep) -> Response:
    body = await read_json(request, _limit(request))
    detail = await run_in_threadpool(_service(request).create, tenant, body)
    return JsonResponse(
        detail_json(detail.campaign, detail.numbers, not_valid=detail.not_valid),
        status_code=201,
        headers={"Location": f"/api/campaign/voice/{detail.campaign.id}"},
    )


@router.put(
    "/{campaign_id}",
    status_code=204,
    openapi_extra=_BODY,
    responses={
        400: {"model": Problem},
        404: {"model": Problem},
        409: {"model": Problem},
        413: {"model": Problem},
        **_ERRORS,
    },
)
async def update_campaign(request: Request, campaign_id: str, tenant: TenantDep) -> Response:
    target = _campaign_id(campaign_id)
    body = await read_json(request, _limit(request))
    await run_in_threadpool(_service(request).update, tenant, target, body)
    return Response(status_code=204)


@router.delete("/{campaign_id}", status_code=204, responses={404: {"model": Problem}, **_ERRORS})
async def delete_campaign(request: Request, campaign_id: str, tenant: TenantDep) -> Response:
    await run_in_threadpool(_service(request).delete, tenant, _campaign_id(campaign_id))
    return Response(status_code=204)

"""POST /api/campaign/voice/{id}/pause, /resume and /cancel (docs/rest-api.md, "Campaign
lifecycle"): each answers the campaign's summary after the act; a repeat of what is already so
changes nothing and answers the same; an illegal act (resuming a cancelled campaign) is a 409."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dialer.api.auth import current_tenant
from dialer.api.responses import JsonResponse
from dialer.api.rest.campaign_summary import summaries_service
from dialer.api.rest.campaigns import _campaign_id
from dialer.api.schemas import Problem
from dialer.api.summary_schemas import CampaignSummaryOut
from dialer.domain.lifecycle import Transition
from dialer.domain.tenant import Tenant
from dialer.services.campaign_summary import summary_json

router = APIRouter(prefix="/api/campaign/voice", tags=["voice campaigns"])
TenantDep = Annotated[Tenant, Depends(current_tenant)]
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": CampaignSummaryOut, "description": "The campaign's summary after the act"},
    401: {"model": Problem, "description": "Missing or unknown API key"},
    404: {"model": Problem, "description": "No such campaign in your account"},
    409: {"model": Problem, "description": "Not possible in the campaign's state"},
}


async def _act(request: Request, raw: str, tenant: Tenant, action: Transition) -> Response:
    target = _campaign_id(raw)
    summary = await run_in_threadpool(summaries_service(request).act, tenant, target, action)
    return JsonResponse(summary_json(summary))


@router.post("/{campaign_id}/pause", responses=_RESPONSES)
async def pause(request: Request, campaign_id: str, tenant: TenantDep) -> Response:
    """Stop claiming the campaign's numbers (Paused); calls on the line finish. Pausing a
    paused campaign changes nothing. The same as the Dialer API's StopCampaign."""
    return await _act(request, campaign_id, tenant, Transition.PAUSE)


@router.post("/{campaign_id}/resume", responses=_RESPONSES)
async def resume(request: Request, campaign_id: str, tenant: TenantDep) -> Response:
    """Dial a paused campaign again, where it stopped. The same as StartCampaign; 409 for a
    cancelled, finished or expired campaign."""
    return await _act(request, campaign_id, tenant, Transition.RESUME)


@router.post("/{campaign_id}/cancel", responses=_RESPONSES)
async def cancel(request: Request, campaign_id: str, tenant: TenantDep) -> Response:
    """End the campaign for good (Cancelled): its pending numbers become cancelled, never
    dialled; calls on the line finish and are recorded. 409 for a finished or expired one."""
    return await _act(request, campaign_id, tenant, Transition.CANCEL)

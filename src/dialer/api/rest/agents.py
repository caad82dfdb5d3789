"""A tenant's side of its agents' desks (API key): agents' tokens (issue, revoke), the
supervisor view and the day report. Another tenant's agent answers 404, like an unknown one.

Mounted before the catalog's routes, whose ``/api/agents/{agent_id}`` would otherwise take
``/api/agents/sessions`` and ``/api/agents/report`` for an agent id."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dialer.api import agent_schemas as docs
from dialer.api.auth import current_tenant
from dialer.api.responses import JsonResponse
from dialer.api.rest.agent_json import overview_json, report_json
from dialer.domain.tenant import Tenant
from dialer.services.agent_desk import AgentDeskService
from dialer.services.agent_supervision import AgentSupervision, parse_campaign_id

router = APIRouter(prefix="/api/agents", tags=["agent desk: tenant"])
TenantDep = Annotated[Tenant, Depends(current_tenant)]
EntryId = Annotated[int, Path(ge=1, le=2**63 - 1)]
_NOT_FOUND = docs.problem("No such agent (or token) of this tenant", "No agent 7 was found.", 404)
_ERRORS: dict[int | str, dict[str, Any]] = {401: docs.TENANT_401, 404: _NOT_FOUND}


def _desk(request: Request) -> AgentDeskService:
    service: AgentDeskService = request.app.state.agent_desk
    return service


def _supervision(request: Request) -> AgentSupervision:
    service: AgentSupervision = request.app.state.agent_supervision
    return service


@router.post(
    "/{agent_id}/tokens",
    status_code=201,
    responses={
        201: docs.answer(docs.TokenOut, {"id": 3, "token": "agt_3q2-7wEvXh0kqTnq5Yt0DdYp..."}),
        **_ERRORS,
    },
)
async def issue_token(request: Request, tenant: TenantDep, agent_id: EntryId) -> Response:
    """A new token for the agent's desk, shown only here (stored hashed). An agent may hold
    several (one per device); each works until revoked."""
    token_id, token = await run_in_threadpool(_desk(request).issue_token, tenant, agent_id)
    return JsonResponse({"id": token_id, "token": token}, status_code=201)


@router.delete("/{agent_id}/tokens", status_code=204, responses=_ERRORS)
async def revoke_tokens(request: Request, tenant: TenantDep, agent_id: EntryId) -> Response:
    """Revoke every token of the agent: their requests answer 401 at once and their event
    streams end. The session itself is left as it is (a call in hand goes on)."""
    await run_in_threadpool(_desk(request).revoke_tokens, tenant, agent_id, None)
    return Response(status_code=204)


@router.delete("/{agent_id}/tokens/{token_id}", status_code=204, responses=_ERRORS)
async def revoke_token(
    request: Request, tenant: TenantDep, agent_id: EntryId, token_id: EntryId
) -> Response:
    """Revoke one token (404 if it is not the agent's or is already revoked)."""
    await run_in_threadpool(_desk(request).revoke_tokens, tenant, agent_id, token_id)
    return Response(status_code=204)


@router.get(
    "/sessions",
    responses={
        200: docs.answer(list[docs.SupervisorRow], docs.SUPERVISOR_EXAMPLE),
        400: docs.BAD_BODY,
        **_ERRORS,
    },
)
async def supervisor_view(
    request: Request,
    tenant: TenantDep,
    campaign_id: Annotated[
        str | None,
        Query(alias="campaignId", description="Only the members of this agent campaign"),
    ] = None,
) -> Response:
    """Every agent's state, time in state, pause reason, pending pause or log-out, the call
    in hand and the agent campaigns it is a member of."""
    wanted = parse_campaign_id(campaign_id)
    now, rows = await run_in_threadpool(_supervision(request).overview, tenant, wanted)
    return JsonResponse([overview_json(row, now) for row in rows])


@router.get(
    "/report",
    responses={
        200: docs.answer(docs.ReportOut, docs.REPORT_EXAMPLE),
        400: docs.BAD_BODY,
        401: docs.TENANT_401,
    },
)
async def day_report(
    request: Request,
    tenant: TenantDep,
    day: Annotated[
        str | None,
        Query(description="YYYY-MM-DD in the tenant's time zone; today if omitted"),
    ] = None,
) -> Response:
    """Seconds per state per agent over one day (midnight to midnight in the tenant's zone,
    up to now for today), from the stored state changes; offline time is not counted."""
    report = await run_in_threadpool(_supervision(request).day_report, tenant, day)
    return JsonResponse(report_json(report))

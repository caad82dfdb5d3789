"""The tenant's webhook: PUT (register or replace; shows the secret once), GET, DELETE."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dialer.api.auth import current_tenant
from dialer.api.body import read_json
from dialer.api.responses import JsonResponse
from dialer.api.schemas import Problem
from dialer.domain.tenant import Tenant
from dialer.services.results import iso_utc
from dialer.services.webhooks import WebhookService

router = APIRouter(prefix="/api/webhook", tags=["webhook"])
TenantDep = Annotated[Tenant, Depends(current_tenant)]
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"url": {"type": "string", "maxLength": 2000}},
                    "required": ["url"],
                }
            }
        },
    }
}
_ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": Problem}, 404: {"model": Problem}}


def _webhooks(request: Request) -> WebhookService:
    service: WebhookService = request.app.state.webhooks
    return service


@router.put(
    "",
    openapi_extra=_BODY,
    responses={400: {"model": Problem}, 401: {"model": Problem}, 413: {"model": Problem}},
)
async def set_webhook(request: Request, tenant: TenantDep) -> Response:
    """Register the URL each finished call attempt is POSTed to; the answer's ``secret`` signs
    them and is shown only here."""
    body = await read_json(request, request.app.state.settings.max_body_bytes)
    url = body.get("url") if isinstance(body, dict) else None
    webhook, secret = await run_in_threadpool(_webhooks(request).register, tenant, url)
    return JsonResponse(
        {"url": webhook.url, "secret": secret, "createdAt": iso_utc(webhook.created_at)}
    )


@router.get("", responses=_ERRORS)
async def get_webhook(request: Request, tenant: TenantDep) -> Response:
    """The webhook, with ``backlog`` (deliveries waiting) and ``failed`` (given up on)."""
    webhook, backlog = await run_in_threadpool(_webhooks(request).get, tenant)
    return JsonResponse(
        {
            "url": webhook.url,
            "createdAt": iso_utc(webhook.created_at),
            "backlog": backlog.pending,
            "failed": backlog.failed,
        }
    )


@router.delete("", status_code=204, responses=_ERRORS)
async def delete_webhook(request: Request, tenant: TenantDep) -> Response:
    """Stop delivering; results not yet delivered are dropped."""
    await run_in_threadpool(_webhooks(request).remove, tenant)
    return Response(status_code=204)

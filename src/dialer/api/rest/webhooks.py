"""The tenant's webhook: PUT (register or replace; shows the secret once), GET, DELETE; the
delivery log, and a retry of what was given up on that keeps the secret."""

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dialer.api.auth import current_tenant
from dialer.api.body import read_json
from dialer.api.console_schemas import WebhookTestOut
from dialer.api.responses import JsonResponse
from dialer.api.schemas import Problem
from dialer.domain.errors import NotFound
from dialer.domain.tenant import Tenant
from dialer.domain.webhook import DeliveryRecord
from dialer.services.results import iso_utc
from dialer.services.webhook_test import WebhookTester
from dialer.services.webhooks import DEFAULT_LOG_PAGE, WebhookService

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


@router.post("/retry", responses=_ERRORS)
async def retry_webhook(request: Request, tenant: TenantDep) -> Response:
    """Deliver again every delivery given up on, with fresh tries and the same secret."""
    retried = await run_in_threadpool(_webhooks(request).retry, tenant)
    return JsonResponse({"retried": retried})


@router.post("/test", responses={200: {"model": WebhookTestOut}, **_ERRORS})
async def test_webhook(request: Request, tenant: TenantDep) -> Response:
    """Send a test delivery to the webhook now (docs/webhooks.md, Testing the webhook): 200
    with whether it was delivered, the receiver's status, the time taken and the error."""
    tester: WebhookTester | None = request.app.state.webhook_tester
    if tester is None:
        raise NotFound("webhook test")
    result = await tester.test(tenant)
    return JsonResponse(
        {
            "url": result.url,
            "delivered": result.delivered,
            "status": result.status,
            "seconds": result.seconds,
            "error": result.error,
        }
    )


@router.get("/deliveries", responses={400: {"model": Problem}, 401: {"model": Problem}})
async def list_deliveries(
    request: Request,
    tenant: TenantDep,
    status: Annotated[
        str | None, Query(description="pending, delivered or failed (given up); omit for all")
    ] = None,
    before: Annotated[
        str | None, Query(description="the `next` of the previous page; omit to start")
    ] = None,
    limit: Annotated[str | None, Query(description="1 to 1000; 100 if omitted")] = None,
) -> Response:
    """The delivery log, newest first: each delivery's status, tries and last error."""
    found = await run_in_threadpool(_webhooks(request).deliveries, tenant, status, before, limit)
    size = int(limit) if limit is not None else DEFAULT_LOG_PAGE
    return JsonResponse(
        {
            "deliveries": [delivery_json(d) for d in found],
            "next": found[-1].id if len(found) == size else None,
        }
    )


def delivery_json(record: DeliveryRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "status": record.status,
        "tries": record.tries,
        "createdAt": iso_utc(record.created_at),
        "deliveredAt": None if record.delivered_at is None else iso_utc(record.delivered_at),
        "nextTryAt": None if record.next_try_at is None else iso_utc(record.next_try_at),
        "lastError": record.last_error,
        "body": orjson.loads(record.payload),
    }

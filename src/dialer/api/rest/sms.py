"""The tenant's SMS settings (GET and PUT /api/settings/sms) and the HTTP gateways' callbacks
(POST /api/sms/callbacks/{callbackId}: delivery statuses and inbound texts, verified by their
signature, no API key). docs/sms.md."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dialer.api.auth import current_tenant
from dialer.api.body import read_json
from dialer.api.responses import JsonResponse
from dialer.api.schemas import Problem
from dialer.domain.errors import PayloadTooLarge
from dialer.domain.tenant import Tenant
from dialer.services.sms import SmsSettingsService, settings_json

router = APIRouter(tags=["sms"])
TenantDep = Annotated[Tenant, Depends(current_tenant)]
_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem},
    401: {"model": Problem},
    413: {"model": Problem},
}
_CALLBACK_LIMIT = 64 * 1024


def _service(request: Request) -> SmsSettingsService:
    service: SmsSettingsService = request.app.state.sms_settings
    return service


@router.get("/api/settings/sms", responses={401: {"model": Problem}})
async def get_sms_settings(request: Request, tenant: TenantDep) -> Response:
    """The provider the tenant's texts go through (null: the server's default), its settings
    without their secrets, the sender ID, and the URL its HTTP gateway calls back."""
    settings = await run_in_threadpool(_service(request).get, tenant.id)
    return JsonResponse(settings_json(settings, str(request.base_url)))


_SETTINGS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "provider": {"type": "string", "enum": ["sim", "smpp", "http"]},
                        "senderId": {"type": ["string", "null"], "maxLength": 11},
                        "smpp": {"type": ["object", "null"]},
                        "http": {"type": ["object", "null"]},
                    },
                    "required": ["provider"],
                }
            }
        },
    }
}


@router.put("/api/settings/sms", openapi_extra=_SETTINGS_BODY, responses=_PROBLEMS)
async def put_sms_settings(request: Request, tenant: TenantDep) -> Response:
    """Set the provider (sim, smpp or http) and its settings; a secret left out keeps its
    stored value. All of it or, if any field is wrong, nothing."""
    body = await read_json(request, request.app.state.settings.max_body_bytes)
    settings = await run_in_threadpool(
        _service(request).update, tenant.id, body, str(request.base_url)
    )
    return JsonResponse(settings_json(settings, str(request.base_url)))


@router.post(
    "/api/sms/callbacks/{callback_id}",
    status_code=204,
    responses={
        400: {"model": Problem},
        401: {"model": Problem},
        404: {"model": Problem},
        413: {"model": Problem},
    },
)
async def sms_callback(
    request: Request,
    callback_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", max_length=64)],
) -> Response:
    """A delivery status or an inbound text from the tenant's HTTP gateway, signed
    (X-Twilio-Signature for the twilio preset, X-Dialer-Sms-Signature otherwise)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > _CALLBACK_LIMIT:
        raise PayloadTooLarge(f"the body is over the limit of {_CALLBACK_LIMIT} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > _CALLBACK_LIMIT:
            raise PayloadTooLarge(f"the body is over the limit of {_CALLBACK_LIMIT} bytes")
    await run_in_threadpool(
        _service(request).callback,
        callback_id,
        str(request.url),
        dict(request.headers),
        bytes(body),
    )
    return Response(status_code=204)

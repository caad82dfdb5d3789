"""A call flow's dry run: POST /api/callflows/{id}/dry-run walks the flow for a keypress
sequence and a sample number; each spoken step's audio is fetched from
GET /api/callflows/dry-run/audio/{token}.wav by the tenant that ran it (docs/callflows.md)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dialer.api.auth import current_tenant
from dialer.api.body import read_json
from dialer.api.console_schemas import DryRunOut
from dialer.api.responses import JsonResponse
from dialer.api.schemas import Problem
from dialer.domain.errors import NotFound
from dialer.domain.tenant import Tenant
from dialer.services.callflow_dry_run import CallFlowDryRun, DryRun, DryStep, read_input

router = APIRouter(prefix="/api/callflows", tags=["call flows, caller IDs, agents and queues"])
TenantDep = Annotated[Tenant, Depends(current_tenant)]
AUDIO_PATH = "/api/callflows/dry-run/audio"
_MAX_BODY = 64 * 1024
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem},
    401: {"model": Problem},
    404: {"model": Problem},
    413: {"model": Problem},
}
_BODY = {
    "requestBody": {
        "required": False,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "keys": {
                            "oneOf": [
                                {"type": "string", "example": "12"},
                                {"type": "array", "items": {"type": "string"}},
                            ]
                        },
                        "number": {
                            "type": "object",
                            "properties": {
                                "name": {"type": "string"},
                                "parameters": {"type": "array", "items": {"type": "object"}},
                                "customData": {"type": "object"},
                            },
                        },
                        "transferAnswers": {"type": "boolean", "default": True},
                    },
                }
            }
        },
    }
}


def _dry_run(request: Request) -> CallFlowDryRun:
    service: CallFlowDryRun = request.app.state.callflow_dry_run
    return service


def step_json(step: DryStep) -> dict[str, Any]:
    return {
        "node": step.node,
        "kind": step.kind,
        "text": step.text,
        "voice": step.voice,
        "key": step.key,
        "target": step.target,
        "audio": None if step.audio is None else f"{AUDIO_PATH}/{step.audio}.wav",
        "audioError": step.audio_error,
    }


def run_json(run: DryRun) -> dict[str, Any]:
    return {
        "steps": [step_json(s) for s in run.steps],
        "ended": run.ended,
        "stage": run.stage,
        "keys": run.keys,
        "sms": run.sms,
        "transferredTo": run.transferred_to,
        "unusedKeys": run.unused_keys,
    }


@router.post(
    "/{callflow_id}/dry-run",
    openapi_extra=_BODY,
    responses={200: {"model": DryRunOut}, **_ERRORS},
)
async def dry_run(
    request: Request,
    tenant: TenantDep,
    callflow_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
) -> Response:
    """Walk the flow as the engine would for ``keys`` (one press per gather; none left: the
    gather times out) and a sample ``number``: the steps by node path, the placeholders filled,
    where it ended, and each spoken step's audio as a WAV URL."""
    # No body (or an empty one) is a dry run with no keys and an empty sample number.
    has_body = request.headers.get("content-length", "0") != "0" or (
        "transfer-encoding" in request.headers
    )
    body = await read_json(request, _MAX_BODY) if has_body else None
    given = await run_in_threadpool(read_input, body)
    run = await _dry_run(request).run(tenant, callflow_id, given)
    return JsonResponse(run_json(run))


@router.get(
    "/dry-run/audio/{token}.wav",
    responses={
        200: {"content": {"audio/wav": {}}, "description": "8 kHz mono 16-bit WAV"},
        401: {"model": Problem},
        404: {"model": Problem},
    },
)
async def dry_run_audio(request: Request, tenant: TenantDep, token: str) -> Response:
    """A dry run's rendered speech, for the tenant that ran it, while it is kept (a bounded
    cache: run the dry run again when it has gone)."""
    wav = _dry_run(request).cache.get(token, tenant.id)
    if wav is None:
        raise NotFound("audio")
    return Response(wav, media_type="audio/wav", headers={"Cache-Control": "private, max-age=600"})

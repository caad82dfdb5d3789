"""The route of the Dialer API: reads GET query strings or POST-JSON bodies, picks the method,
and turns every error into the seed's envelope. No request gets a 500 with internals."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dialer.api.body import UnsupportedMediaType, read_json
from dialer.domain.errors import (
    Conflict,
    MemberInvalid,
    NumberInvalid,
    PayloadTooLarge,
    RequestRejected,
    TargetMissing,
    Unauthorized,
    UnknownCampaign,
    ValidationFailed,
)
from dialer.services.dialer import DialerService
from dialer.services.dialer_input import Params, check_no_controls

from . import envelope as codes
from .envelope import envelope
from .methods import METHODS, Method, describe_campaign_error
from .openapi import operation
from .presenters import bulk_body

log = logging.getLogger("dialer.api.rpc")
router = APIRouter(tags=["Dialer API"])


def _query(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        if key in params:
            raise RequestRejected(f"Parameter {key} is given more than once")
        # %00 and friends: refused here, before they reach a store (PostgreSQL refuses NUL).
        params[key] = check_no_controls(key, value, free_text=True)
    return params


async def _body(request: Request) -> Any:
    limit: int = request.app.state.settings.max_body_bytes
    try:
        return await read_json(request, limit, refuse_controls=False)
    except ValidationFailed as exc:
        raise RequestRejected(
            " ".join(exc.errors.get("$", ["The body is not valid JSON."]))
        ) from exc
    except UnsupportedMediaType as exc:
        raise RequestRejected(str(exc)) from exc


PATH = "/ForwardDialer/Dialer/{method}"


async def endpoint(request: Request) -> Response:
    """The plain Starlette endpoint of every method (app.py puts it first): parameters are read
    by hand, so FastAPI's dependency layer would only add cost (most of an AddCall's CPU)."""
    return await dialer_api(request, request.path_params["method"])


async def dialer_api(request: Request, method: str) -> Response:
    """Every method, its name in any case; unknown names get envelope code 6."""
    found = METHODS.get(method.lower())
    if found is None:
        return envelope(codes.UNKNOWN_METHOD, f"Unknown method {method[:60]}", status=404)
    if request.method == "GET" and not found.get:
        return envelope(codes.WRONG_VERB, f"{found.name} accepts POST-JSON only", status=405)
    service: DialerService = request.app.state.dialer
    try:
        if found.handler is None:
            return await _bulk(request, service)
        raw = _query(request) if request.method == "GET" else await _body(request)
        if not isinstance(raw, dict):
            raise RequestRejected("The body must be a JSON object of parameters")
        params = Params(raw)
        return await run_in_threadpool(found.handler, service, params)
    except Exception as error:  # noqa: BLE001 - every error becomes an envelope, by kind below
        return _error(found, error)


async def _bulk(request: Request, service: DialerService) -> Response:
    body = await _body(request)
    key = request.headers.get("idempotency-key") or request.query_params.get("IdempotencyKey")
    if key is not None:
        check_no_controls("IdempotencyKey", key)
    if isinstance(body, dict):
        # Our extension: {"IdempotencyKey": "...", "Calls": [...]} beside the seed's bare array.
        wrapper = Params(body)
        key = key or wrapper.text("IdempotencyKey", max_length=500)
        body = wrapper.raw("Calls")
    if not isinstance(body, list):
        raise RequestRejected("AddCallsBulk takes a JSON array of calls")
    result = await run_in_threadpool(lambda: service.add_calls_bulk(body, key, bulk_body))
    return Response(result, media_type="application/json")


def _error(method: Method, error: Exception) -> Response:
    if isinstance(error, UnknownCampaign):
        return envelope(*describe_campaign_error(method, str(error)))
    if isinstance(error, TargetMissing):
        return envelope(codes.MISSING, str(error))
    if isinstance(error, NumberInvalid):
        return envelope(codes.NUMBER_INVALID, str(error))
    if isinstance(error, MemberInvalid):
        return envelope(codes.MISSING, str(error), data=method.member_error_data)
    if isinstance(error, Unauthorized):
        return envelope(codes.INVALID_KEY, codes.INVALID_KEY_DESCRIPTION)
    if isinstance(error, PayloadTooLarge):
        return envelope(codes.TOO_LARGE, f"Request too large: {error}", status=413)
    if isinstance(error, RequestRejected):
        return envelope(codes.INVALID_REQUEST, f"Invalid request: {error}")
    if isinstance(error, Conflict):
        # A refusal the shared services raise (a lost race, a state that forbids the change):
        # the seed has no code of its own for it, and it is the caller's request, not our fault.
        return envelope(codes.INVALID_REQUEST, f"Invalid request: {error}")
    log.exception("unhandled error in Dialer API method %s", method.name)
    return envelope(codes.INVALID_REQUEST, "Internal error occurred.", status=500)


def _documented(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await dialer_api(request, name)

    return endpoint


# One documented operation per method and verb, for /docs; app.py puts the plain route for all
# of them ahead, so these are only ever matched if that route is taken away. What each one
# reads and answers is described in rpc.openapi.
for _method in METHODS.values():
    for _verb in ("GET", "POST") if _method.get else ("POST",):
        router.add_api_route(
            f"/ForwardDialer/Dialer/{_method.name}",
            _documented(_method.name),
            methods=[_verb],
            **operation(_method.name, _verb),
        )

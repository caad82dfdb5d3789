"""GET /health (readiness, for load balancers and supervisors) and GET /api/time (the service's
clock, which under --speed is not the wall clock). Neither needs an API key: they show nothing
of any tenant."""

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dialer.api.responses import JsonResponse
from dialer.services.health import EngineProblem, HealthService
from dialer.services.results import iso_utc

router = APIRouter(tags=["operating"])
# A PostgreSQL that has gone away makes a pool wait its full timeout (30 s); a supervisor
# asking for readiness wants an answer sooner than that.
STORE_ANSWER_SECONDS = 5.0
_PUBLIC: dict[str, Any] = {"security": []}

_HEALTH_EXAMPLE = {"status": "ok", "store": "ok", "engine": "ok"}
_UNHEALTHY_EXAMPLE = {
    "status": "unavailable",
    "store": "the store does not answer within 5 s",
    "engine": "ok",
}


def _health(request: Request) -> HealthService:
    service: HealthService = request.app.state.health
    return service


@router.get(
    "/health",
    openapi_extra=_PUBLIC,
    responses={
        200: {"content": {"application/json": {"example": _HEALTH_EXAMPLE}}},
        503: {"content": {"application/json": {"example": _UNHEALTHY_EXAMPLE}}},
    },
)
async def health(request: Request) -> Response:
    """Ready to serve: the store answers a read, and the dialing engine runs (when this process
    runs one; ``engine`` is ``not run by this process`` otherwise). 200 when all is well, 503
    naming what is wrong."""
    try:
        store = await asyncio.wait_for(
            run_in_threadpool(_health(request).store_problem), STORE_ANSWER_SECONDS
        )
    except TimeoutError:
        store = f"the store does not answer within {STORE_ANSWER_SECONDS:g} s"
    engine_problem: EngineProblem | None = request.app.state.engine_problem
    engine = "not run by this process" if engine_problem is None else engine_problem() or "ok"
    healthy = store is None and engine in ("ok", "not run by this process")
    body = {"status": "ok" if healthy else "unavailable", "store": store or "ok", "engine": engine}
    return JsonResponse(body, status_code=200 if healthy else 503)


@router.get(
    "/api/time",
    openapi_extra=_PUBLIC,
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "now": "2025-10-01T09:00:00.000Z",
                        "speed": 60.0,
                        "anchor": "2025-09-30T08:00:00.000Z",
                        "wallClock": "2025-09-30T08:01:00.000Z",
                    }
                }
            }
        }
    },
)
async def service_time(request: Request) -> Response:
    """The service's clock, which calling hours, schedules and ``OriginateTime`` follow. Under
    ``--speed N`` it runs N times faster than the wall clock from ``anchor`` on; under
    ``--speed max`` (``speed`` null) it jumps whenever the engine is idle."""
    info = _health(request).clock()
    return JsonResponse(
        {
            "now": iso_utc(info.now),
            "speed": info.speed,
            "anchor": iso_utc(info.anchor),
            "wallClock": iso_utc(datetime.now(UTC)),
        }
    )

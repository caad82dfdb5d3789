"""GET /metrics: Prometheus text (docs/metrics.md). No API key, like /health: it shows counts
by campaign id and outcome, never a tenant's name, key, numbers or codes."""

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def route(exposition: Callable[[], bytes]) -> Route:
    async def metrics(_: Request) -> Response:
        # In multiprocess mode this reads every process's files: off the event loop.
        body = await run_in_threadpool(exposition)
        return Response(body, media_type=CONTENT_TYPE)

    return Route("/metrics", metrics, methods=["GET"], include_in_schema=False)

"""GET /api/events: a tenant's live events as Server-Sent Events (docs/rest-api.md, "Live
events"): ``campaign`` (a campaign's summary, as GET .../summary answers it) whenever it
changed, at most once a second per campaign; ``agent`` (an agent's state) on each change;
``ping`` every ``KEEP_ALIVE`` seconds of quiet, so proxies keep the connection open.

Every stream of this process is served by one watcher (api/live_hub.py): the store is read
once per change for all of them, never per stream. The stream begins with every campaign's
current summary and every agent's current state, and ends when the client goes away
(Starlette cancels the body), the server is told to stop, or the credential that opened it
stops working: ``event: revoked`` then the end, for a console session (checked each second)
and for an API key (rotated: checked by the hub at each change it hears)."""

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from dialer.api.auth import bearer_key_hash, current_tenant
from dialer.api.live_hub import LiveHub, Subscriber
from dialer.api.schemas import Problem
from dialer.api.session_auth import REVOKED_FRAME, until_session_ends, uses_session
from dialer.domain.tenant import Tenant

__all__ = ["LiveHub", "router"]

router = APIRouter(prefix="/api", tags=["live events"])
TenantDep = Annotated[Tenant, Depends(current_tenant)]
KEEP_ALIVE = 15.0
RETRY_MS = 2000
# How often a quiet stream looks whether the server is stopping (I/O pacing only).
_DRAIN_CHECK = 0.5

SSE_EXAMPLE = (
    "retry: 2000\n\n"
    "event: campaign\n"
    'data: {"id":7,"name":"Reminders","type":"ivr","state":"Running","total":1000,'
    '"done":412,...}\n\n'
    "event: agent\n"
    'data: {"agentId":3,"state":"ready","since":"2026-11-30T09:00:00Z","reason":null,'
    '"campaignId":null}\n\n'
    "event: ping\ndata: {}\n\n"
)


async def _stream(
    hub: LiveHub, subscriber: Subscriber, draining: threading.Event
) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    try:
        yield b"retry: %d\n\n" % RETRY_MS
        quiet_since = loop.time()
        while not draining.is_set():
            for message in subscriber.take():
                yield message
                quiet_since = loop.time()
            if subscriber.revoked:
                # The API key it was opened with was rotated: say so, so that a client does
                # not just reconnect with it (it would get a 401), as a session's stream does.
                yield REVOKED_FRAME
                return
            try:
                await asyncio.wait_for(subscriber.wake.wait(), _DRAIN_CHECK)
            except TimeoutError:
                if loop.time() - quiet_since >= KEEP_ALIVE:
                    yield b"event: ping\ndata: {}\n\n"
                    quiet_since = loop.time()
    finally:
        hub.leave(subscriber)


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "`text/event-stream`: `campaign` events (data: the campaign's"
            " summary, as GET /api/campaign/voice/{id}/summary), `agent` events (data: agentId,"
            " state, since, reason, campaignId) and `ping` events",
            "content": {
                "text/event-stream": {"schema": {"type": "string"}, "example": SSE_EXAMPLE}
            },
        },
        401: {"model": Problem, "description": "Missing or unknown API key"},
    },
)
async def events(request: Request, tenant: TenantDep) -> Response:
    """The account's campaigns and agents, live: first every campaign's summary and every
    agent's state, then each change within about a second, whichever process made it."""
    hub: LiveHub = request.app.state.live_hub
    session = uses_session(request)
    subscriber = await hub.join(tenant, None if session else bearer_key_hash(request))

    async def leave() -> None:
        # Also when the client left before the body began (the generator's own finally
        # never runs then); leaving twice is harmless.
        hub.leave(subscriber)

    stream = _stream(hub, subscriber, request.app.state.draining)
    if session:
        stream = until_session_ends(stream, request)  # a console log-out ends it too
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        background=BackgroundTask(leave),
    )

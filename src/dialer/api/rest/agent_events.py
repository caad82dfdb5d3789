"""GET /api/agents/me/events: the agent's state changes as Server-Sent Events.

The stream tails the stored changes (not this process's events), so it shows a change whichever
process made it: another API process, or the engine worker that holds the agent's phone leg.
It polls the store every ``POLL`` seconds of real time (I/O pacing, not business logic), sends
a comment every ``KEEP_ALIVE`` seconds so proxies keep the connection open, and ends when the
client goes away (Starlette cancels the body), the token is revoked, or the server is told to
stop (uvicorn would otherwise wait for the endless answer before stopping).

Tailing by id is safe although ids are handed out before commit: one agent's changes are
written one at a time (each with a compare-and-set of the session's row, which holds the row
until commit, and a new session only once the last is offline), so an agent's later change never
commits before an earlier one."""

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from dialer.api import agent_schemas as docs
from dialer.api.agent_auth import current_agent
from dialer.api.rest.agent_desk import desk
from dialer.api.rest.agent_json import event_json
from dialer.api.session_auth import until_session_ends, uses_session
from dialer.domain.errors import ValidationFailed
from dialer.services.agent_desk import EVENTS_PAGE, AgentDeskService, AgentIdentity, DeskEvent

router = APIRouter(prefix="/api/agents/me", tags=["agent desk"])
POLL = 0.2
KEEP_ALIVE = 15.0
# How long a client waits before it reconnects after a dropped connection (the SSE retry).
RETRY_MS = 2000


def parse_last_event_id(raw: str | None) -> int | None:
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or int(raw) > 2**63 - 1:
        raise ValidationFailed({"Last-Event-ID": ["The id of an event of this stream."]})
    return int(raw)


def frame(event: DeskEvent) -> bytes:
    data = orjson.dumps(event_json(event))
    return b"id: %d\nevent: state\ndata: %s\n\n" % (event.change.id or 0, data)


async def _stream(
    service: AgentDeskService,
    who: AgentIdentity,
    after: int,
    first: DeskEvent | None,
    draining: threading.Event,
) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    yield b"retry: %d\n\n" % RETRY_MS
    if first is not None:
        yield frame(first)
    quiet_since = loop.time()
    # Until the server stops: the client then reconnects (to another process, or this one
    # restarted) with Last-Event-ID and misses nothing.
    while not draining.is_set():
        events = await run_in_threadpool(service.events_after, who, after)
        if events is None:
            # The token was revoked: say so, so the desk does not just reconnect (it would get
            # a 401 anyway), and end.
            yield b"event: revoked\ndata: {}\n\n"
            return
        for event in events:
            yield frame(event)
            after = event.change.id or after
        now = loop.time()
        if events:
            quiet_since = now
        elif now - quiet_since >= KEEP_ALIVE:
            yield b": keep-alive\n\n"
            quiet_since = now
        if len(events) < EVENTS_PAGE:
            await asyncio.sleep(POLL)


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "`text/event-stream`: one `state` event per change of the agent's"
            " state; its `data` is the JSON object `x-event-data` describes.",
            "content": {
                "text/event-stream": {
                    "schema": {"type": "string"},
                    "example": docs.SSE_EXAMPLE,
                    "x-event-data": docs.StateEvent.model_json_schema(),
                }
            },
        },
        400: docs.BAD_BODY,
        401: docs.AGENT_401,
    },
)
async def events(
    request: Request,
    who: Annotated[AgentIdentity, Depends(current_agent)],
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            description="Resume after this event id (a reconnecting EventSource sends it)",
        ),
    ] = None,
) -> Response:
    """The agent's state changes, live. Each event: `id:` the change's id, `event: state`,
    `data:` the state, when and why, and for a change to reserved, talking or wrap-up the
    customer (the screen pop). Without `Last-Event-ID` the stream begins with the change that
    put the agent in their current state; with it, every change after that id is sent first.
    A `: keep-alive` comment every 15 s; `event: revoked` and the end when the token is
    revoked."""
    service = desk(request)
    after = parse_last_event_id(last_event_id)
    first = None
    if after is None:
        first = await run_in_threadpool(service.latest_event, who)
        after = (first.change.id or 0) if first is not None else 0
    stream = _stream(service, who, after, first, request.app.state.draining)
    if uses_session(request):
        stream = until_session_ends(stream, request)  # a console log-out ends it too
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )

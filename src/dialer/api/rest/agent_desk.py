"""The agent desk over REST, under /api/agents/me: an agent, by their own token, logs in and
out, says ready, pauses, hangs the customer up, gives the call its disposition, and reads their
state and screen pop. Each answer is the agent's state after the request."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dialer.api import agent_schemas as docs
from dialer.api.agent_auth import current_agent
from dialer.api.body import read_json
from dialer.api.responses import JsonResponse
from dialer.api.rest.agent_json import session_json
from dialer.domain.agent_session import AgentSession
from dialer.services.agent_desk import AgentDeskService, AgentIdentity

router = APIRouter(prefix="/api/agents/me", tags=["agent desk"])
AgentDep = Annotated[AgentIdentity, Depends(current_agent)]
# The desk's bodies are a phone, a reason or a disposition: a few hundred bytes.
DESK_BODY_LIMIT = 4096
_REFUSED = docs.problem(
    "The agent's state refuses it (the reason says why); nothing changed",
    "there is no customer on the line",
    409,
)
_BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: docs.BAD_BODY,
    401: docs.AGENT_401,
    409: _REFUSED,
    413: docs.TOO_LARGE,
}
_ERRORS: dict[int | str, dict[str, Any]] = {401: docs.AGENT_401, 409: _REFUSED}


def desk(request: Request) -> AgentDeskService:
    service: AgentDeskService = request.app.state.agent_desk
    return service


def _answer(
    request: Request, who: AgentIdentity, session: AgentSession | None, status: int = 200
) -> Response:
    return JsonResponse(session_json(who.agent, session, desk(request).now()), status_code=status)


@router.get(
    "",
    responses={200: docs.answer(docs.AgentStateOut, docs.TALKING_EXAMPLE), 401: docs.AGENT_401},
)
async def me(request: Request, who: AgentDep) -> Response:
    """The agent's state, and while reserved, talking or in wrap-up the customer: the screen
    pop (number, name, the nine parameters, CustomData, the keys pressed so far)."""
    session = await run_in_threadpool(desk(request).current, who)
    return _answer(request, who, session)


@router.post(
    "/login",
    status_code=201,
    openapi_extra=docs.body(docs.LoginIn, {"phone": "sip:1001@192.0.2.10"}),
    responses={201: docs.answer(docs.AgentStateOut, docs.CONNECTING_EXAMPLE), **_BODY_ERRORS},
)
async def login(request: Request, who: AgentDep) -> Response:
    """Open a session: the dialer calls the phone and keeps that leg up; the agent is
    `paused` (`phone-connecting`) until they answer, then `ready`. Refused (409) while a
    session is open."""
    body = await read_json(request, DESK_BODY_LIMIT)
    session = await run_in_threadpool(desk(request).login, who, body)
    return _answer(request, who, session, 201)


@router.post(
    "/ready",
    responses={200: docs.answer(docs.AgentStateOut, docs.READY_EXAMPLE), **_ERRORS},
)
async def ready(request: Request, who: AgentDep) -> Response:
    """Ready for calls: from a pause, or ending wrap-up early."""
    session = await run_in_threadpool(desk(request).ready, who)
    return _answer(request, who, session)


@router.post(
    "/pause",
    openapi_extra=docs.body(docs.PauseIn, {"reason": "lunch"}),
    responses={200: docs.answer(docs.AgentStateOut, docs.PAUSE_PENDING_EXAMPLE), **_BODY_ERRORS},
)
async def pause(request: Request, who: AgentDep) -> Response:
    """Pause with a reason. During a call the pause is `pending` and begins when the call and
    its wrap-up are over (the call is never cut)."""
    body = await read_json(request, DESK_BODY_LIMIT)
    session = await run_in_threadpool(desk(request).pause, who, body)
    return _answer(request, who, session)


@router.post(
    "/hangup",
    responses={
        200: docs.answer(docs.AgentStateOut, {**docs.TALKING_EXAMPLE, "hangupRequested": True}),
        **_ERRORS,
    },
)
async def hangup(request: Request, who: AgentDep) -> Response:
    """Hang the customer up (while talking): the engine holding the call releases it and the
    agent goes to wrap-up."""
    session = await run_in_threadpool(desk(request).hang_up, who)
    return _answer(request, who, session)


@router.post(
    "/disposition",
    openapi_extra=docs.body(
        docs.DispositionIn,
        {
            "stage": "CallerRequestedCallBack",
            "callbackAt": "2025-10-02T14:30:00+01:00",
            "sameAgent": True,
        },
    ),
    responses={200: docs.answer(docs.AgentStateOut, docs.WRAP_UP_EXAMPLE), **_BODY_ERRORS},
)
async def disposition(request: Request, who: AgentDep) -> Response:
    """How the call went (talking or in wrap-up; may be changed until wrap-up ends): the
    attempt's Stage. CallerRequestedCallBack schedules the number again at `callbackAt`
    (optionally for this agent); OptOut adds it to the tenant's do-not-call list."""
    body = await read_json(request, DESK_BODY_LIMIT)
    session = await run_in_threadpool(desk(request).dispose, who, body)
    return _answer(request, who, session)


@router.post(
    "/logout",
    responses={
        200: docs.answer(
            docs.AgentStateOut,
            {**docs.READY_EXAMPLE, "state": "offline", "reason": "logged-out"},
        ),
        **_ERRORS,
    },
)
async def logout(request: Request, who: AgentDep) -> Response:
    """Log out: the dialer hangs up the agent's phone. During a call the log-out is `pending`
    and happens when the call and its wrap-up are over."""
    session = await run_in_threadpool(desk(request).logout, who)
    return _answer(request, who, session)

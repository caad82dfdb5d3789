"""The console's log-in (docs/console.md): POST /api/session with an API key or an agent token
opens a session held in the ``dialer_session`` cookie (HttpOnly, SameSite=Strict, Secure over
TLS) and answers its CSRF token; GET reads it back (a reloaded page); DELETE logs out."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dialer.api import agent_schemas as docs
from dialer.api.body import read_json
from dialer.api.responses import JsonResponse
from dialer.api.session_auth import SESSION_COOKIE, check_origin, session_of
from dialer.domain.agent import Agent
from dialer.domain.console_session import LIFETIME, ConsoleSession
from dialer.domain.errors import Unauthorized, ValidationFailed
from dialer.domain.tenant import Tenant
from dialer.services.console_sessions import ConsoleSessions

router = APIRouter(prefix="/api/session", tags=["console session"])
MAX_LOGIN_BYTES = 4096


class LoginIn(BaseModel):
    apiKey: str | None = Field(None, description="A tenant's API key: a manager's session")
    agentToken: str | None = Field(None, description="An agent's token: a desk-only session")


class SessionOut(BaseModel):
    kind: str = Field(description="manager or agent")
    csrfToken: str = Field(description="Send it as X-CSRF-Token with every change")
    tenant: dict[str, Any]
    agent: dict[str, Any] | None
    expiresAt: datetime


_EXAMPLE = {
    "kind": "manager",
    "csrfToken": "Yq3s0l3m3tOaZ1Bv2bNw8k1m1Rz4q6hY0bq5uXn2c1s",
    "tenant": {"id": 1, "name": "Acme Clinic"},
    "agent": None,
    "expiresAt": "2025-10-01T20:00:00Z",
}
_SESSION = docs.answer(SessionOut, _EXAMPLE)
_NO_SESSION = docs.problem(
    "No cookie, or a session that ended", "the console session has ended; log in again", 401
)
_FORBIDDEN = docs.problem(
    "A change without the session's CSRF token, or from another site's page",
    "a change made with a console session needs its CSRF token in X-CSRF-Token",
    403,
)


def _sessions(request: Request) -> ConsoleSessions:
    service: ConsoleSessions | None = request.app.state.console_sessions
    if service is None:
        raise Unauthorized("this server has no console sessions")
    return service


def _answer(
    session: ConsoleSession, tenant: Tenant, agent: Agent | None, status: int = 200
) -> JsonResponse:
    return JsonResponse(
        {
            "kind": session.kind.value,
            "csrfToken": session.csrf_token,
            "tenant": {"id": tenant.id, "name": tenant.name},
            "agent": None
            if agent is None
            else {"id": agent.id, "member": agent.member, "name": agent.display_name},
            "expiresAt": session.expires_at.isoformat().replace("+00:00", "Z"),
        },
        status_code=status,
    )


@router.post(
    "",
    status_code=201,
    openapi_extra=docs.body(LoginIn, {"apiKey": "dk_..."}),
    responses={
        201: _SESSION,
        400: docs.BAD_BODY,
        401: docs.TENANT_401,
        403: _FORBIDDEN,
        413: docs.TOO_LARGE,
    },
)
async def log_in(request: Request) -> Response:
    """Open a console session with ``apiKey`` (a manager: every tenant endpoint) or
    ``agentToken`` (an agent: the desk's endpoints only). The answer sets the HttpOnly cookie
    and gives the CSRF token; the key or token itself is not kept by the browser."""
    check_origin(request)
    body = await read_json(request, MAX_LOGIN_BYTES)
    if not isinstance(body, dict) or (("apiKey" in body) == ("agentToken" in body)):
        raise ValidationFailed({"$": ["send either apiKey or agentToken"]})
    sessions = _sessions(request)
    if "apiKey" in body:
        opened = await run_in_threadpool(sessions.open_manager, body["apiKey"])
    else:
        opened = await run_in_threadpool(sessions.open_agent, body["agentToken"])
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await run_in_threadpool(sessions.close, old)  # a second log-in replaces the first
    response = _answer(opened.session, opened.tenant, opened.agent, 201)
    response.set_cookie(
        SESSION_COOKIE,
        opened.token,
        max_age=int(LIFETIME.total_seconds()),
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("", responses={200: _SESSION, 401: _NO_SESSION})
async def who_am_i(request: Request) -> Response:
    """The session the cookie names, with its CSRF token (a reloaded page reads it here)."""
    resolved = await session_of(request)
    agent = None if resolved.agent is None else resolved.agent.agent
    response = _answer(resolved.session, resolved.tenant, agent)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.delete("", status_code=204, responses={401: _NO_SESSION, 403: _FORBIDDEN})
async def log_out(request: Request) -> Response:
    """End the session: it is deleted on the server, so the cookie opens nothing any more,
    here or in any other tab. Needs X-CSRF-Token like every change."""
    await session_of(request)
    await run_in_threadpool(_sessions(request).close, request.cookies.get(SESSION_COOKIE))
    response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


def declare_cookie(document: dict[str, Any]) -> None:
    """The session cookie as a security scheme of GET and DELETE /api/session, which want it
    (the other operations take it too, beside the bearer key: docs/console.md)."""
    document.setdefault("components", {}).setdefault("securitySchemes", {})["consoleSession"] = {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "The console's session, from POST /api/session (HttpOnly: a browser"
        " sends it by itself; a change also needs X-CSRF-Token).",
    }
    for method in ("get", "delete"):
        operation = document.get("paths", {}).get("/api/session", {}).get(method)
        if operation is not None:
            operation["security"] = [{"consoleSession": []}]

"""The console's session cookie as a credential (docs/console.md): the tenant and agent
dependencies (api/auth.py, api/agent_auth.py) accept it where no Authorization header is sent.

A browser sends the cookie by itself, so a change made with it must also carry the session's
CSRF token in X-CSRF-Token, which only the console's own pages can read (from the log-in answer
or GET /api/session); the cookie is SameSite=Strict as a second wall, and an Origin header, when
the browser sends one, must name this server. An Authorization header never needs either: a
browser does not add one by itself.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from dialer.domain.errors import Forbidden, Unauthorized
from dialer.services.console_sessions import ConsoleSessions, Resolved

SESSION_COOKIE = "dialer_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def uses_session(request: Request) -> bool:
    """The request names no bearer credential but carries the console's cookie."""
    return "authorization" not in request.headers and SESSION_COOKIE in request.cookies


def check_origin(request: Request) -> None:
    """Refuse a request a browser sent from another site's page (Origin names another host)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = request.headers.get("host", "")
    if origin == "null" or urlsplit(origin).netloc.lower() != host.lower():
        raise Forbidden("the request came from a page of another site (its Origin header)")


async def session_of(request: Request) -> Resolved:
    """The live session the cookie names; on an unsafe method, only with its CSRF token."""
    sessions: ConsoleSessions | None = request.app.state.console_sessions
    if sessions is None:
        raise Unauthorized("this server has no console sessions; send Authorization: Bearer")
    resolved = await run_in_threadpool(sessions.resolve, request.cookies.get(SESSION_COOKIE))
    if request.method not in SAFE_METHODS:
        check_origin(request)
        if not resolved.csrf_matches(request.headers.get(CSRF_HEADER)):
            raise Forbidden(
                "a change made with a console session needs its CSRF token in X-CSRF-Token"
                " (from POST or GET /api/session)"
            )
    return resolved


# How often an open stream checks that the session it was opened with still lives.
STREAM_CHECK_SECONDS = 1.0
REVOKED_FRAME = b"event: revoked\ndata: {}\n\n"


async def until_session_ends(
    stream: AsyncIterator[bytes], request: Request
) -> AsyncIterator[bytes]:
    """``stream`` (an endless answer such as the desk's event stream) until the console session
    that opened it ends (logged out, expired, its credential gone): then ``event: revoked`` and
    the end, as when a token is revoked. Checked at every chunk and every second between."""
    sessions: ConsoleSessions = request.app.state.console_sessions
    cookie = request.cookies.get(SESSION_COOKIE)

    def alive() -> bool:
        try:
            sessions.resolve(cookie)
        except Unauthorized:
            return False
        return True

    chunks = aiter(stream)
    pending: asyncio.Future[bytes] = asyncio.ensure_future(anext(chunks))
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=STREAM_CHECK_SECONDS)
            if pending in done:
                try:
                    chunk = pending.result()
                except StopAsyncIteration:
                    return
                yield chunk
                pending = asyncio.ensure_future(anext(chunks))
            if not await run_in_threadpool(alive):
                yield REVOKED_FRAME
                return
    finally:
        pending.cancel()
        with contextlib.suppress(BaseException):
            await pending
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()

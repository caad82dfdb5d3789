"""Turns the dialer's error tree into HTTP problems; nothing else reaches a client."""

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dialer.api.body import UnsupportedMediaType
from dialer.api.query_guard import QueryGuard
from dialer.api.responses import problem
from dialer.domain.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    ValidationFailed,
)

log = logging.getLogger("dialer.api")


class UnhandledErrors:
    """Answers an unexpected error with a 500 problem itself and does not re-raise it.

    Starlette's own last-resort handler re-raises after answering, and uvicorn then closes the
    client's keep-alive connection; a client that sent a bad request lost its connection too.
    An error after the answer has begun still goes to Starlette (nothing else can be sent).
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, receive, watch)
        except Exception:
            if started:
                raise
            # Logged in full for the operator; the client learns only that it was our fault.
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            await problem(500, "Internal Server Error", "The error was logged.")(
                scope, receive, send
            )


def install(app: FastAPI) -> None:
    app.add_middleware(QueryGuard, skip_prefix="/ForwardDialer/")
    app.add_middleware(UnhandledErrors)  # added last: outermost of ours, QueryGuard included

    @app.exception_handler(ValidationFailed)
    async def invalid(_: Request, exc: ValidationFailed) -> Response:
        return problem(400, "One or more validation errors occurred.", errors=exc.errors)

    @app.exception_handler(Unauthorized)
    async def unauthorized(_: Request, exc: Unauthorized) -> Response:
        return problem(
            401, "Unauthorized", str(exc), headers={"WWW-Authenticate": 'Bearer realm="dialer"'}
        )

    @app.exception_handler(Forbidden)
    async def forbidden(_: Request, exc: Forbidden) -> Response:
        return problem(403, "Forbidden", str(exc))

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> Response:
        return problem(404, "Not Found", f"No {exc} was found.")

    @app.exception_handler(Conflict)
    async def conflict(_: Request, exc: Conflict) -> Response:
        return problem(409, "Conflict", str(exc))

    @app.exception_handler(PayloadTooLarge)
    async def too_large(_: Request, exc: PayloadTooLarge) -> Response:
        return problem(413, "Payload Too Large", str(exc))

    @app.exception_handler(UnsupportedMediaType)
    async def media(_: Request, exc: UnsupportedMediaType) -> Response:
        return problem(415, "Unsupported Media Type", str(exc))

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_: Request, exc: RequestValidationError) -> Response:
        errors: dict[str, list[str]] = {}
        for error in exc.errors():
            field = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "$"
            errors.setdefault(field, []).append(str(error.get("msg", "invalid")))
        return problem(400, "One or more validation errors occurred.", errors=errors)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> Response:
        return problem(exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # Logged in full for the operator; the client learns only that it was our fault.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "Internal Server Error", "The error was logged.")

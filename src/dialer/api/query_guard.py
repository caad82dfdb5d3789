"""Refuses control characters in the query string of a REST request before any route sees it.

``GET /api/dnc?after=a%00b`` reached PostgreSQL, which refuses NUL in text, and the 500 that
followed also closed the client's keep-alive connection. A query parameter is an identifier, a
number or a cursor, so every C0 control and DEL is refused there, with a 400 naming it. The
Dialer API's route reads its own query strings and answers in its envelope (dispatch.py).
"""

import re
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from dialer.api.responses import problem

# A control character can only reach us percent-encoded: %00-%1F or %7F.
_ENCODED_CONTROL = re.compile(rb"%(?:[01][0-9a-f]|7f)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PROBLEM = "Must not contain control characters (U+0000-U+001F, U+007F)."


class QueryGuard:
    def __init__(self, app: ASGIApp, skip_prefix: str) -> None:
        self._app = app
        self._skip = skip_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(self._skip):
            query: bytes = scope.get("query_string", b"")
            if _ENCODED_CONTROL.search(query):
                errors = _problems(query.decode("latin-1"))
                if errors:
                    title = "One or more validation errors occurred."
                    await problem(400, title, errors=errors)(scope, receive, send)
                    return
        await self._app(scope, receive, send)


def _problems(query: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if _CONTROL.search(name):
            errors["$"] = [f"Query parameter names: {_PROBLEM}"]
        elif _CONTROL.search(value):
            errors[name] = [_PROBLEM]
    return errors

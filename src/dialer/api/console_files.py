"""The web console's files (src/dialer/console/static/, docs/console.md), served by the
service itself: ``/`` answers the app's page, ``/console/...`` its scripts, styles and the
vendored libraries. Nothing is built at run time and nothing is fetched from elsewhere: the
page's Content-Security-Policy allows this origin only, so even an injected tag could load
nothing from another site, and inline scripts do not run at all."""

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).resolve().parent.parent / "console" / "static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; font-src 'self'; media-src 'self' blob:; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The page holds no data (it reads it through the API), but a cached copy after log-out
    # should still not be shown as if current.
    "Cache-Control": "no-cache",
}


async def _index(_: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers=_HEADERS, media_type="text/html")


class _Assets(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        for name, value in _HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def routes() -> list[Route | Mount]:
    return [
        Route("/", _index, methods=["GET", "HEAD"], include_in_schema=False),
        Mount("/console", app=_Assets(directory=STATIC), name="console"),
    ]

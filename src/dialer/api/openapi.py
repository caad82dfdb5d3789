"""/openapi.json: FastAPI's document, made into valid OpenAPI 3.1 and told how to authenticate.

Two things FastAPI leaves to us. Schemas written by hand from pydantic's ``model_json_schema()``
(request bodies the services parse themselves) carry their own ``$defs`` with ``#/$defs/...``
references, which resolve against the document's root and so resolve to nothing: they are moved
to ``components/schemas``. And the bearer key is read by a plain dependency, not a FastAPI
security class, so the scheme is declared here, on every operation that needs the key.
"""

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from dialer.api.agent_auth import current_agent
from dialer.api.auth import current_tenant

BEARER = "bearerAuth"
AGENT_BEARER = "agentToken"
_DEFS_PREFIX = "#/$defs/"
_COMPONENTS_PREFIX = "#/components/schemas/"


def install(app: FastAPI, *finishing: Callable[[dict[str, Any]], None]) -> None:
    """Wrap ``app.openapi`` (which builds and caches the document) with the fixes above, then
    ``finishing``: what must be added to the built document (FastAPI drops nulls from it)."""
    build = app.openapi
    fixed: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = build()
        if not fixed or fixed[0] is not document:
            hoist_defs(document)
            declare_bearer(document, secured_operations(app.routes))
            declare_agent_bearer(document, secured_operations(app.routes, current_agent))
            for finish in finishing:
                finish(document)
            fixed[:] = [document]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def hoist_defs(document: dict[str, Any]) -> None:
    """Move every nested ``$defs`` into ``components/schemas`` and point its references there.

    A name already taken by a different schema gets a numbered one, so nothing is overwritten.
    """
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})

    def visit(node: Any) -> Any:
        if isinstance(node, list):
            return [visit(item) for item in node]
        if not isinstance(node, dict):
            return node
        defs = node.pop("$defs", None)
        out = {key: visit(value) for key, value in node.items()}
        if not isinstance(defs, dict):
            return out
        # Compared with what is already there as they would read once moved.
        same = {name: name for name in defs}
        moved = {name: _rewrite(visit(schema), same) for name, schema in defs.items()}
        renamed = {name: _place(schemas, name, schema) for name, schema in moved.items()}
        for name, schema in defs.items():
            # References among the definitions themselves follow the same renaming.
            schemas[renamed[name]] = _rewrite(visit(schema), renamed)
        return _rewrite(out, renamed)

    document["paths"] = visit(document.get("paths", {}))
    for name in list(schemas):
        schemas[name] = visit(schemas[name])
    if not schemas:
        del document["components"]["schemas"]


def _place(schemas: dict[str, Any], name: str, schema: Any) -> str:
    candidate, number = name, 1
    while candidate in schemas and schemas[candidate] != schema:
        number += 1
        candidate = f"{name}{number}"
    schemas.setdefault(candidate, schema)
    return candidate


def _rewrite(node: Any, renamed: dict[str, str]) -> Any:
    """Point ``#/$defs/X`` references (at any depth) at the component X was placed under."""
    if isinstance(node, list):
        return [_rewrite(item, renamed) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str) and value.startswith(_DEFS_PREFIX):
            name = value.removeprefix(_DEFS_PREFIX)
            out[key] = _COMPONENTS_PREFIX + renamed[name] if name in renamed else value
        else:
            out[key] = _rewrite(value, renamed)
    return out


def secured_operations(
    routes: Iterable[Any], dependency: Callable[..., Any] = current_tenant
) -> set[tuple[str, str]]:
    """(path, lower-case method) of every route that reads the bearer key (``dependency``:
    the tenant's API key unless told otherwise)."""
    found: set[tuple[str, str]] = set()
    # Included routers are kept as one entry each; FastAPI's own walk yields every route in them.
    for context in iter_route_contexts(list(routes)):
        if not isinstance(context.original_route, APIRoute):
            continue
        route: Any = context  # an APIRoute, seen with the prefixes of the routers it is in
        if route.include_in_schema and _depends_on(route.dependant, dependency):
            found.update((route.path_format, m.lower()) for m in route.methods)
    return found


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def declare_bearer(document: dict[str, Any], operations: set[tuple[str, str]]) -> None:
    """The HTTP bearer scheme, required by ``operations``: Swagger UI's Authorize sends it."""
    document.setdefault("components", {}).setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "The tenant's API key from `dialer tenant create` (shown once).",
    }
    for path, method in operations:
        operation = document.get("paths", {}).get(path, {}).get(method)
        if operation is not None:
            operation["security"] = [{BEARER: []}]


def declare_agent_bearer(document: dict[str, Any], operations: set[tuple[str, str]]) -> None:
    """The agent desk's own bearer scheme: an agent's token, which the tenant's key is not."""
    if not operations:
        return
    document.setdefault("components", {}).setdefault("securitySchemes", {})[AGENT_BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An agent's token (agt_...) from POST /api/agents/{agentId}/tokens or"
        " `dialer agent token` (shown once).",
    }
    for path, method in operations:
        operation = document.get("paths", {}).get(path, {}).get(method)
        if operation is not None:
            operation["security"] = [{AGENT_BEARER: []}]

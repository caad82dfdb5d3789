"""A tenant's catalog over REST: call flows, caller IDs, agents and queues (list, show, delete),
and the tenant's own API key (rotate). Another tenant's ids answer 404, like unknown ones."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dialer.api import agent_schemas as docs
from dialer.api.auth import current_tenant
from dialer.api.body import read_json
from dialer.api.responses import JsonResponse
from dialer.api.rest.presenters import callflow_json, cli_json
from dialer.api.schemas import CallFlowOut, CliOut, Problem
from dialer.domain.agent import Agent, Queue
from dialer.domain.errors import ValidationFailed
from dialer.domain.tenant import Tenant
from dialer.services.agent_desk_input import parse_phone
from dialer.services.catalog import CatalogService
from dialer.services.results import iso_utc
from dialer.services.tenants import TenantService

router = APIRouter(prefix="/api", tags=["call flows, caller IDs, agents and queues"])
TenantDep = Annotated[Tenant, Depends(current_tenant)]
# Ids are 64-bit in both stores; a larger number is a 400, not a database overflow.
EntryId = Annotated[int, Path(ge=1, le=2**63 - 1)]
_READ: dict[int | str, dict[str, Any]] = {401: {"model": Problem}, 404: {"model": Problem}}
_DELETE: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem},
    401: {"model": Problem},
    404: {"model": Problem},
    409: {
        "model": Problem,
        "description": "A campaign (or, for a queue, a call flow) uses it; an agent is logged in.",
    },
}

PHONE_BODY_LIMIT = 4096


_AGENT_EXAMPLE = {
    "id": 7,
    "member": "SIPSIP1",
    "name": "Alice",
    "phone": "+441632960001",
    "createdAt": "2025-10-01T08:00:00.000Z",
}


def _catalog(request: Request) -> CatalogService:
    service: CatalogService = request.app.state.catalog
    return service


def agent_json(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "member": agent.member,
        "name": agent.display_name,
        "phone": agent.phone,
        "createdAt": iso_utc(agent.created_at),
    }


def queue_json(queue: Queue) -> dict[str, Any]:
    return {"id": queue.id, "name": queue.name, "createdAt": iso_utc(queue.created_at)}


@router.get("/callflows", responses={200: {"model": list[CallFlowOut]}, 401: {"model": Problem}})
async def list_callflows(request: Request, tenant: TenantDep) -> Response:
    records = await run_in_threadpool(_catalog(request).callflows, tenant)
    return JsonResponse([callflow_json(r) for r in records])


# A flow file is at most 256 KiB (services/catalog.py); as a JSON string it may grow by escaping.
_CALLFLOW_BODY_LIMIT = 1024 * 1024
_CALLFLOW_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["name", "definition"],
                    "properties": {
                        "name": {"type": "string", "maxLength": 200},
                        "definition": {
                            "oneOf": [
                                {"type": "object", "description": "the flow as JSON"},
                                {"type": "string", "description": "the flow as YAML text"},
                            ]
                        },
                    },
                }
            }
        },
    }
}


def _callflow_input(body: Any) -> tuple[str, str]:
    """The name and the flow's text: ``definition`` is the flow as an object, or its YAML (or
    JSON) text as a string, as `dialer callflow create` reads a file."""
    if not isinstance(body, dict):
        raise ValidationFailed({"$": ["send an object with name and definition"]})
    problems: dict[str, list[str]] = {}
    name = body.get("name")
    if not isinstance(name, str):
        problems["name"] = ["is required: a string of 1 to 200 characters"]
    definition = body.get("definition")
    if isinstance(definition, dict):
        text = json.dumps(definition, ensure_ascii=False)
    elif isinstance(definition, str):
        text = definition
    else:
        problems["definition"] = ["is required: the flow as an object, or its YAML text"]
    unknown = sorted(set(body) - {"name", "definition"})
    for key in unknown:
        problems[key] = ["unknown property; send name and definition"]
    if problems:
        raise ValidationFailed(problems)
    assert isinstance(name, str)
    return name, text


@router.post(
    "/callflows",
    status_code=201,
    openapi_extra=_CALLFLOW_BODY,
    responses={
        201: {"model": CallFlowOut},
        400: {"model": Problem, "description": "every problem, keyed by node path"},
        401: {"model": Problem},
        413: {"model": Problem},
    },
)
async def create_callflow(request: Request, tenant: TenantDep) -> Response:
    """Add a call flow, validated as `dialer callflow create` validates a file: every problem at
    once, keyed by where it is (`nodes.menu.gather.timeout`)."""
    body = await read_json(request, _CALLFLOW_BODY_LIMIT)
    name, text = _callflow_input(body)
    record = await run_in_threadpool(_catalog(request).add_callflow, tenant, name, text)
    return JsonResponse(callflow_json(record), status_code=201)


@router.get("/callflows/{callflow_id}", responses={200: {"model": CallFlowOut}, **_READ})
async def get_callflow(request: Request, tenant: TenantDep, callflow_id: EntryId) -> Response:
    record = await run_in_threadpool(_catalog(request).callflow, tenant, callflow_id)
    return JsonResponse(callflow_json(record))


@router.delete("/callflows/{callflow_id}", status_code=204, responses=_DELETE)
async def delete_callflow(request: Request, tenant: TenantDep, callflow_id: EntryId) -> Response:
    """Refused (409) while any campaign uses it."""
    await run_in_threadpool(_catalog(request).delete, tenant, "callflow", callflow_id)
    return Response(status_code=204)


@router.get("/clis", responses={200: {"model": list[CliOut]}, 401: {"model": Problem}})
async def list_clis(request: Request, tenant: TenantDep) -> Response:
    clis = await run_in_threadpool(_catalog(request).clis, tenant)
    return JsonResponse([cli_json(c) for c in clis])


@router.get("/clis/{cli_id}", responses={200: {"model": CliOut}, **_READ})
async def get_cli(request: Request, tenant: TenantDep, cli_id: EntryId) -> Response:
    cli = await run_in_threadpool(_catalog(request).cli, tenant, cli_id)
    return JsonResponse(cli_json(cli))


@router.delete("/clis/{cli_id}", status_code=204, responses=_DELETE)
async def delete_cli(request: Request, tenant: TenantDep, cli_id: EntryId) -> Response:
    """Refused (409) while any campaign uses it."""
    await run_in_threadpool(_catalog(request).delete, tenant, "cli", cli_id)
    return Response(status_code=204)


@router.get("/agents", responses={401: {"model": Problem}})
async def list_agents(request: Request, tenant: TenantDep) -> Response:
    agents = await run_in_threadpool(_catalog(request).agents, tenant)
    return JsonResponse([agent_json(a) for a in agents])


@router.get(
    "/agents/{agent_id}",
    responses={200: docs.answer(docs.AgentOut, _AGENT_EXAMPLE), **_READ},
)
async def get_agent(request: Request, tenant: TenantDep, agent_id: EntryId) -> Response:
    agent = await run_in_threadpool(_catalog(request).agent, tenant, agent_id)
    return JsonResponse(agent_json(agent))


@router.delete("/agents/{agent_id}", status_code=204, responses=_DELETE)
async def delete_agent(request: Request, tenant: TenantDep, agent_id: EntryId) -> Response:
    """Refused (409) while it is a member of any campaign, or logged in (a session not
    offline: log it out first)."""
    await run_in_threadpool(_catalog(request).delete, tenant, "agent", agent_id)
    return Response(status_code=204)


@router.put(
    "/agents/{agent_id}/phone",
    openapi_extra=docs.body(docs.AgentPhoneIn, {"phone": "+441632960001"}),
    responses={
        200: docs.answer(docs.AgentOut, _AGENT_EXAMPLE),
        400: docs.BAD_BODY,
        401: {"model": Problem},
        404: {"model": Problem},
        413: docs.TOO_LARGE,
    },
)
async def set_agent_phone(request: Request, tenant: TenantDep, agent_id: EntryId) -> Response:
    """Assign the phone the agent's log-ins call (checked as a log-in checks it). With one
    assigned, a log-in may only call it; a session already open keeps its phone until it
    ends. Answers the agent."""
    body = await read_json(request, PHONE_BODY_LIMIT)
    phone = parse_phone(body, tenant.region)
    agent = await run_in_threadpool(_catalog(request).set_agent_phone, tenant, agent_id, phone)
    return JsonResponse(agent_json(agent))


@router.delete("/agents/{agent_id}/phone", status_code=204, responses=_READ)
async def clear_agent_phone(request: Request, tenant: TenantDep, agent_id: EntryId) -> Response:
    """Assign no phone: the agent may then log in only with a SIP URI or sim: phone of their
    own, never a number."""
    await run_in_threadpool(_catalog(request).set_agent_phone, tenant, agent_id, None)
    return Response(status_code=204)


@router.get("/queues", responses={401: {"model": Problem}})
async def list_queues(request: Request, tenant: TenantDep) -> Response:
    queues = await run_in_threadpool(_catalog(request).queues, tenant)
    return JsonResponse([queue_json(q) for q in queues])


@router.get("/queues/{queue_id}", responses=_READ)
async def get_queue(request: Request, tenant: TenantDep, queue_id: EntryId) -> Response:
    queue = await run_in_threadpool(_catalog(request).queue, tenant, queue_id)
    return JsonResponse(queue_json(queue))


@router.delete("/queues/{queue_id}", status_code=204, responses=_DELETE)
async def delete_queue(request: Request, tenant: TenantDep, queue_id: EntryId) -> Response:
    """Refused (409) while a campaign's strategy watches it or a call flow transfers to it."""
    await run_in_threadpool(_catalog(request).delete, tenant, "queue", queue_id)
    return Response(status_code=204)


@router.post("/tenant/api-key", tags=["tenant"], responses={401: {"model": Problem}})
async def rotate_api_key(request: Request, tenant: TenantDep) -> Response:
    """A new API key for the caller's tenant, shown only here. The key this request was made
    with stops working at once, in every process."""
    tenants: TenantService = request.app.state.tenants
    key = await run_in_threadpool(tenants.rotate_key, tenant.id)
    return JsonResponse({"api_key": key})

"""Agent-token authentication for the desk (``/api/agents/me``): an agent's token, never the
tenant's API key, and never the other way round (each key is looked up only where it belongs)."""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from dialer.domain.errors import Unauthorized
from dialer.services.agent_desk import AgentDeskService, AgentIdentity


async def current_agent(request: Request) -> AgentIdentity:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <agent token>")
    desk: AgentDeskService = request.app.state.agent_desk
    return await run_in_threadpool(desk.authenticate, token.strip())

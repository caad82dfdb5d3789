"""Agent-token authentication for the desk (``/api/agents/me``): an agent's token, never the
tenant's API key, and never the other way round (each key is looked up only where it belongs).
The console's desk page comes with an agent's session cookie instead (api/session_auth.py)."""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from dialer.api.session_auth import session_of, uses_session
from dialer.domain.errors import Forbidden, Unauthorized
from dialer.services.agent_desk import AgentDeskService, AgentIdentity


async def current_agent(request: Request) -> AgentIdentity:
    if uses_session(request):
        resolved = await session_of(request)
        if resolved.agent is None:
            raise Forbidden("the agent desk needs an agent's console session, not a manager's")
        return resolved.agent
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <agent token>")
    desk: AgentDeskService = request.app.state.agent_desk
    return await run_in_threadpool(desk.authenticate, token.strip())

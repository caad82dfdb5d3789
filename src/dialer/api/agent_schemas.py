"""The agent desk's JSON shapes and examples in /openapi.json (services.agent_desk_input parses
the bodies; these describe them)."""

from typing import Any, Literal

import orjson
from pydantic import BaseModel, Field

from dialer.api.responses import problem as make_problem
from dialer.api.schemas import Problem

State = Literal["offline", "ready", "reserved", "talking", "wrap-up", "paused"]


class LoginIn(BaseModel):
    phone: str | None = Field(
        None,
        max_length=200,
        description="The agent's phone, called at log-in and kept up. Omitted: the phone the"
        " tenant assigned (PUT /api/agents/{agentId}/phone; 409 if none). Given: it must be"
        " the assigned one, or, when the tenant assigned none, a SIP URI"
        " (sip:1001@192.0.2.10) or a simulated phone (sim:...); a number goes through the"
        " trunk, so only an assigned one is ever called.",
    )


class AgentPhoneIn(BaseModel):
    phone: str = Field(
        max_length=200,
        description="The phone the agent's log-ins call: a SIP URI (sip:1001@192.0.2.10), a"
        " number through the trunk (+441632960001, or national in the tenant's region, stored"
        " in E.164) or a simulated phone (sim:...).",
    )


class AgentOut(BaseModel):
    id: int
    member: str = Field(description="The Dialer API's Member, e.g. SIPSIP1")
    name: str
    phone: str | None = Field(description="The phone the tenant assigned; null: none")
    createdAt: str


class PauseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=64, description="Shown to the supervisor")


class DispositionIn(BaseModel):
    stage: str | int = Field(
        description="A Stage by name or code: CorrectCallee (1), WrongCallee (2), CallDeclined"
        " (3), CalleeTransferRequest (7), CalleeTransferAccepted (8), OptIn (13), OptOut (14),"
        " WrongCalleeTransferRequested (15), TransferredToPaymentLine (17),"
        " CallerRequestedCallBack (18), WrongCalleeTransferAccepted (19)"
    )
    callbackAt: str | None = Field(
        None,
        description="CallerRequestedCallBack only, and required there: ISO 8601 with its UTC"
        " offset, in the future, within a year",
    )
    sameAgent: bool = Field(False, description="CallerRequestedCallBack only: give it to me")


class ParameterOut(BaseModel):
    parameter: int
    value: str


class CustomerOut(BaseModel):
    """The screen pop."""

    campaignId: int
    campaignName: str | None
    phoneNumberId: int
    attemptNumber: int
    number: str = Field(description="E.164")
    name: str | None
    parameters: list[ParameterOut] = Field(description="Parameter1..9 as the campaign holds them")
    customData: Any = Field(description="The Dialer API's CustomData, as the client sent it")
    keys: str = Field(description="Keys pressed in the call flow so far")
    answeredAt: str
    bridgedAt: str | None


class CustomerRef(BaseModel):
    """A past call in a replayed event: the ids only (the session holds a later call now)."""

    campaignId: int
    phoneNumberId: int
    attemptNumber: int


class DispositionOut(BaseModel):
    stage: int
    stageName: str
    callbackAt: str | None
    sameAgent: bool


class AgentStateOut(BaseModel):
    agentId: int
    member: str
    name: str
    sessionId: int | None = Field(description="null: never logged in")
    state: State
    since: str | None
    secondsInState: float | None
    reason: str | None = Field(description="The pause reason, or why the session went offline")
    pending: Literal["pause", "logout"] | None = Field(
        description="Asked during a call; done when the call and its wrap-up are over"
    )
    pendingReason: str | None
    phone: str | None
    loggedInAt: str | None
    wrapUpUntil: str | None = Field(description="null in wrap-up: until the agent says ready")
    hangupRequested: bool = Field(description="The agent asked to hang the customer up")
    customer: CustomerOut | None = Field(description="While reserved, talking or in wrap-up")
    disposition: DispositionOut | None


class SupervisorRow(AgentStateOut):
    campaigns: list[int] = Field(description="The agent campaigns it is a member of")


class TokenOut(BaseModel):
    id: int = Field(description="Revoke it with DELETE .../tokens/{id}")
    token: str = Field(description="Shown only here; the agent sends it as a bearer token")


class ReportRow(BaseModel):
    agentId: int
    member: str
    name: str
    seconds: dict[str, float] = Field(description="Per state (offline is not counted)")
    loggedInSeconds: float


class ReportOut(BaseModel):
    day: str
    timezone: str = Field(description="The tenant's: the day runs midnight to midnight there")
    from_: str = Field(alias="from")
    to: str = Field(description="The day's end, or now for today")
    agents: list[ReportRow]


class StateEvent(BaseModel):
    """The data of one `state` event on /api/agents/me/events."""

    id: int
    sessionId: int
    state: State
    at: str
    reason: str | None
    customer: CustomerOut | CustomerRef | None


CUSTOMER_EXAMPLE: dict[str, Any] = {
    "campaignId": 12,
    "campaignName": "Renewals October",
    "phoneNumberId": 3401,
    "attemptNumber": 1,
    "number": "+447722123456",
    "name": "Ben",
    "parameters": [{"parameter": 1, "value": "invoice 1234"}],
    "customData": {"var_leadID": 889},
    "keys": "1",
    "answeredAt": "2025-10-01T09:14:03.120Z",
    "bridgedAt": "2025-10-01T09:14:03.910Z",
}
TALKING_EXAMPLE: dict[str, Any] = {
    "agentId": 7,
    "member": "SIPSIP1",
    "name": "Alice",
    "sessionId": 41,
    "state": "talking",
    "since": "2025-10-01T09:14:03.910Z",
    "secondsInState": 42.5,
    "reason": None,
    "pending": None,
    "pendingReason": None,
    "phone": "sip:1001@192.0.2.10",
    "loggedInAt": "2025-10-01T08:58:00.000Z",
    "wrapUpUntil": None,
    "hangupRequested": False,
    "customer": CUSTOMER_EXAMPLE,
    "disposition": None,
}
CONNECTING_EXAMPLE: dict[str, Any] = {
    **TALKING_EXAMPLE,
    "state": "paused",
    "since": "2025-10-01T08:58:00.000Z",
    "secondsInState": 0.0,
    "reason": "phone-connecting",
    "customer": None,
}
PAUSE_PENDING_EXAMPLE: dict[str, Any] = {
    **TALKING_EXAMPLE,
    "pending": "pause",
    "pendingReason": "lunch",
}
WRAP_UP_EXAMPLE: dict[str, Any] = {
    **TALKING_EXAMPLE,
    "state": "wrap-up",
    "since": "2025-10-01T09:16:40.000Z",
    "secondsInState": 3.2,
    "wrapUpUntil": "2025-10-01T09:16:55.000Z",
    "disposition": {
        "stage": 18,
        "stageName": "CallerRequestedCallBack",
        "callbackAt": "2025-10-02T13:30:00.000Z",
        "sameAgent": True,
    },
}
READY_EXAMPLE: dict[str, Any] = {
    **TALKING_EXAMPLE,
    "state": "ready",
    "since": "2025-10-01T09:17:00.000Z",
    "secondsInState": 0.0,
    "customer": None,
}
SUPERVISOR_EXAMPLE: list[dict[str, Any]] = [
    {**TALKING_EXAMPLE, "campaigns": [12]},
    {
        **READY_EXAMPLE,
        "agentId": 8,
        "member": "SIPSIP2",
        "name": "Bob",
        "sessionId": 44,
        "phone": "+441632960001",
        "campaigns": [12, 15],
    },
]
REPORT_EXAMPLE: dict[str, Any] = {
    "day": "2025-10-01",
    "timezone": "Europe/London",
    "from": "2025-09-30T23:00:00.000Z",
    "to": "2025-10-01T23:00:00.000Z",
    "agents": [
        {
            "agentId": 7,
            "member": "SIPSIP1",
            "name": "Alice",
            "seconds": {
                "ready": 5400.0,
                "reserved": 12.5,
                "talking": 14100.0,
                "wrap-up": 2100.0,
                "paused": 3600.0,
            },
            "loggedInSeconds": 25212.5,
        }
    ],
}
EVENT_EXAMPLE: dict[str, Any] = {
    "id": 913,
    "sessionId": 41,
    "state": "talking",
    "at": "2025-10-01T09:14:03.910Z",
    "reason": None,
    "customer": CUSTOMER_EXAMPLE,
}
# A stream as it arrives: the retry hint, an event (its data one line of JSON), a keep-alive.
SSE_EXAMPLE = (
    "retry: 2000\n\n"
    f"id: {EVENT_EXAMPLE['id']}\nevent: state\ndata: {orjson.dumps(EVENT_EXAMPLE).decode()}\n\n"
    ": keep-alive\n\n"
)


# FastAPI drops every null from the document it builds, and these examples have nulls: each is
# put in the route's description under a key, and ``add_examples`` swaps it in afterwards.
_EXAMPLES: dict[str, Any] = {}
_KEY = "x-example-key"


def _example(example: Any) -> dict[str, str]:
    key = f"agents-{len(_EXAMPLES)}"
    _EXAMPLES[key] = example
    return {_KEY: key}


def add_examples(document: dict[str, Any]) -> None:
    """Put the examples in where their keys are (``app.openapi``'s finishing step)."""

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            key = node.pop(_KEY, None)
            if key is not None:
                node["example"] = _EXAMPLES[key]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(document.get("paths", {}))


def body(model: type[BaseModel], example: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` for a JSON request body the route reads itself."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": model.model_json_schema(), **_example(example)}
            },
        }
    }


def answer(model: Any, example: Any, description: str = "OK") -> dict[str, Any]:
    return {
        "model": model,
        "description": description,
        "content": {"application/json": _example(example)},
    }


def problem(description: str, example_detail: str, status: int) -> dict[str, Any]:
    """A documented problem answer, its example made by the same code as the real ones."""
    example = orjson.loads(make_problem(status, _TITLES[status], example_detail).body)
    return {
        "model": Problem,
        "description": description,
        "content": {"application/problem+json": _example(example)},
    }


_TITLES = {
    400: "One or more validation errors occurred.",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
}
AGENT_401 = problem(
    "Missing, unknown or revoked agent token", "a valid agent token is required", 401
)
TENANT_401 = problem("Missing or unknown API key", "a valid API key is required", 401)
BAD_BODY = problem("A body that breaks a rule (every problem by field)", "see errors", 400)
TOO_LARGE = problem("A body over 4096 bytes", "the body is over the limit of 4096 bytes", 413)
NOT_LOGGED_IN = problem(
    "The agent's state refuses it (the reason says why); nothing changed",
    "the agent is not logged in",
    409,
)

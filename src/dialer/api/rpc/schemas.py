"""Pydantic models that document the Dialer API's JSON in /openapi.json (docs/dialer-api.md).

They describe, they do not validate: services.dialer_input reads the parameters, in any case,
and answers what is wrong in the seed's envelope. Field names are the seed's, capitals and all.
"""

from typing import Any, Literal

from pydantic import BaseModel, Field


class CallIn(BaseModel):
    """One destination: AddCall's and UpdateCall's body, and each item of AddCallsBulk."""

    Campaign: str = Field(description="The campaign's code (GetCampaignList's `Code`)")
    Target: str = Field(
        description="The number to call, in the tenant's region or international (+...)"
    )
    Code: str | None = Field(
        None, description="Your API key; when sent, the campaign must be your tenant's"
    )
    CustomerName: str | None = Field(None, max_length=200)
    CallerID: str | None = Field(None, description="One of the tenant's caller IDs")
    Priority: int | None = Field(
        None, ge=-(2**31), le=2**31 - 1, description="Higher dials first; default 0"
    )
    CustomData: dict[str, Any] | None = Field(
        None, description="Your fields, kept as sent and returned (at most 8 KiB as JSON)"
    )
    OriginateTime: int | None = Field(
        None,
        ge=0,
        le=253402300799,
        description="Dial at or after this epoch (seconds); sent together with IsDateLocal",
    )
    IsDateLocal: bool | str | None = Field(
        None,
        description="true: OriginateTime is a wall-clock time in the tenant's zone; "
        'false: a UTC epoch. true/false, also as "true"/"false" (as the seed sends it)',
    )
    IgnoreDncStatus: bool | str | None = Field(
        None, description="Dial even when the number is on the tenant's do-not-call list"
    )


class BulkIn(BaseModel):
    """Our extension of AddCallsBulk's body: the calls with an idempotency key."""

    IdempotencyKey: str = Field(min_length=1, max_length=200)
    Calls: list[CallIn]


class Envelope(BaseModel):
    """Every answer: ErrorCode 0 and Description "OK", or what went wrong (docs/dialer-api.md)."""

    ErrorCode: int = Field(description="0 OK; see docs/dialer-api.md for the others")
    Description: str


class StrategyOut(BaseModel):
    QueueForMonitoring: int
    QueueMaximumCallers: int
    Coefficient: int


class PacingOut(BaseModel):
    Mode: Literal["progressive", "ratio", "predictive"] = Field(
        description="ratio after UpdateCampaignStrategy, unless its setPacing said otherwise"
    )
    Ratio: float | None = Field(description="ratio mode: lines per ready agent (setCoefficient)")
    Target: float | None = Field(
        description="The campaign's abandoned-call target, percent; null: the tenant's"
    )


class InformationMessageOut(BaseModel):
    Text: str | None
    Recording: str | None


class AgentOptionsOut(BaseModel):
    WrapUpSeconds: float | None = Field(
        description="After each call; null: until the agent says ready"
    )
    MaxWaitSeconds: float = Field(description="Longest an answered callee waits for an agent")
    BridgeOnAnswer: bool = Field(description="Bridged at the answer, with no machine detection")
    Pacing: PacingOut
    InformationMessage: InformationMessageOut | None = Field(
        description="What its abandoned calls hear; null: the tenant's message"
    )


class AbandonmentOut(BaseModel):
    """The REST API's ``abandonment`` of GET campaign in PascalCase (docs/compliance.md)."""

    Regime: Literal["uk", "us", "none"]
    Window: str = Field(description="24h or 30d")
    Rate: float = Field(description="Abandoned calls, percent of live calls, as counted")
    Limit: float | None
    Target: float | None
    Live: int
    Abandoned: int
    Machines: int
    FalseMachines: float = Field(description="UK: estimated people among machine verdicts")
    DialRatio: float | None = Field(description="The pacer's latest lines per ready agent")
    PacerReason: str | None
    DecidedAt: str | None


class CampaignSummary(BaseModel):
    Name: str
    StatusName: str = Field(description="Enabled or Disabled")
    TotalPendingCalls: int
    MaxPriority: int | None = Field(description="Over pending calls; null when there are none")
    MinPriority: int | None
    TotalAwaitingCalls: int | None = Field(
        description="Pending and due now (IVR); null in the list and -1 elsewhere for agent ones"
    )
    Code: str = Field(description="The campaign's code: the `Campaign` of every other method")


class CampaignDetails(CampaignSummary):
    TotalOriginatedCalls: int = Field(description="Calls in flight")
    Type: str = Field(description="IVR or Agent")
    Strategy: StrategyOut | None = Field(description="null until UpdateCampaignStrategy")
    AgentOptions: AgentOptionsOut | None = Field(
        description="An agent campaign's options (set in the REST API); null for IVR"
    )
    Abandonment: AbandonmentOut | None = Field(
        description="An agent campaign's abandoned-call figures over its window; null for IVR"
    )
    AnswerDetection: str = Field(
        description="What the answering-machine detector does when not sure (set in the REST"
        " API's answerDetection): people (take it for a person) or agents (for a machine)"
    )


class PendingCampaign(CampaignSummary):
    TotalOriginatedCalls: int


class CallStatusOut(BaseModel):
    Status: int = Field(description="1 Pending, 2 Originated")
    Description: str


class PendingCall(BaseModel):
    Phone: str = Field(description="International, without the +")
    CallerID: str
    CallerName: str
    OriginateTime: int | None
    IsDateLocal: bool | None
    Priority: int
    CustomerName: str
    CallStatus: CallStatusOut
    CustomData: dict[str, Any]


class PendingCalls(BaseModel):
    Calls: list[PendingCall]
    Campaign: PendingCampaign
    NextCursor: str | None = Field(description="Send as `Cursor` for the next page; null last")


class MemberOut(BaseModel):
    Member: str = Field(description="The agent's SIP code")
    DisplayName: str


class Added(BaseModel):
    TotalAdded: int = Field(description="-1 when the request failed")


class Removed(BaseModel):
    TotalRemoved: int = Field(description="0 when the request failed")


class CampaignListAnswer(Envelope):
    Data: list[CampaignSummary] | None = None


class CampaignDetailsAnswer(Envelope):
    Data: CampaignDetails | None = None


class PendingCallsAnswer(Envelope):
    Data: PendingCalls | None = None


class MembersAnswer(Envelope):
    Data: list[MemberOut] | None = None


class AddedAnswer(Envelope):
    Data: Added | None = None


class RemovedAnswer(Envelope):
    Data: Removed | None = None


class BulkItemResult(Envelope):
    Target: Any = Field(description="As sent")
    CustomData: dict[str, Any] = Field(description="As sent")


class BulkAnswer(Envelope):
    AddResult: list[BulkItemResult] | None = Field(
        None, description="Every item in request order; absent when the whole request failed"
    )

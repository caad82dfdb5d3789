"""Pydantic models that document the JSON shapes in /openapi.json.

Requests are parsed by services.campaign_input (property names are case-insensitive and every
problem is reported at once), so these models describe, they do not validate.
"""

from typing import Literal

from pydantic import BaseModel, Field


class Parameter(BaseModel):
    parameter: int = Field(ge=1, le=9, description="1 = Parameter1 ... 9 = Parameter9")
    value: str


class PhoneNumberIn(BaseModel):
    number: str = Field(description="As dialled in the tenant's region, or international (+...)")
    name: str | None = None
    parameters: list[Parameter] | None = None


class PhoneNumberOut(PhoneNumberIn):
    e164: str | None = Field(description="E.164 form; null when the number is not possible")
    id: int = Field(description="Stable for the campaign's life; results' phoneNumberId")
    valid: bool = Field(description="In a range its country has allocated (phonenumbers)")
    numberType: str | None = Field(
        description="mobile, fixedLine, ..., unknown (possible, not valid); null if not possible"
    )
    attemptsMade: int
    outcome: int | None = Field(description="Same as lastOutcome (kept for older clients)")
    outcomeName: str | None
    lastOutcome: int | None = Field(description="Latest Outcome code (1-13), null before any")
    lastOutcomeName: str | None
    lastStage: int | None = Field(description="Stage (0-20) of the latest attempt")
    lastStageName: str | None


class RunoverDay(BaseModel):
    date: str = Field(examples=["2025-10-02"])
    startTime: str = Field(examples=["09:00"])
    finishTime: str = Field(examples=["12:00"])


class Attempt(BaseModel):
    interval: int = Field(ge=1, description="Minutes to wait after this attempt fails")
    attemptNumber: int | None = None


class Pacing(BaseModel):
    """How many lines the campaign dials per ready agent (docs/pacing.md)."""

    mode: Literal["progressive", "ratio", "predictive"] = Field(
        "predictive",
        description="progressive: one line per ready agent; ratio: `ratio` lines per ready"
        " agent; predictive: the model's lines. ratio and predictive stay under the"
        " abandoned-call governor.",
    )
    ratio: float | None = Field(
        None, gt=1, le=10, description="ratio mode only (and then required): lines per agent"
    )
    target: float | None = Field(
        None,
        gt=0,
        le=3,
        description="This campaign's abandoned-call target, percent of live calls; null: the"
        " tenant's (GET /api/settings/compliance)",
    )


class InformationMessage(BaseModel):
    text: str | None = Field(
        None,
        max_length=500,
        description="Spoken: the company calling and a number to call back (7+ digits)",
    )
    recording: str | None = Field(None, description="A .wav in the tenant's audio directory")


class Abandonment(BaseModel):
    """An agent campaign's abandoned calls over its regime's window (docs/compliance.md)."""

    regime: Literal["uk", "us", "none"]
    window: str = Field(description="The rolling window: 24h (UK, none) or 30d (US)")
    rate: float = Field(
        description="Abandoned calls, percent of live calls, as the regime counts them (UK:"
        " with falseMachines on both sides)"
    )
    limit: float | None = Field(description="The regulator's limit, percent; null: none")
    target: float | None = Field(description="What pacing keeps the rate under, percent")
    live: int = Field(description="Calls answered by a person or not judged a machine")
    abandoned: int = Field(description="Of them, not connected to an agent in time")
    machines: int = Field(description="Answers the detector judged machines")
    falseMachines: float = Field(description="UK: the estimated people among machines")
    dialRatio: float | None = Field(description="The pacer's latest lines per ready agent")
    pacerReason: str | None = Field(description="Why it chose them")
    decidedAt: str | None = Field(description="When (null: no decision yet)")


class AgentOptions(BaseModel):
    """An agent campaign's handling of answered calls (type agent only; docs/rest-api.md)."""

    wrapUpSeconds: int | None = Field(
        15,
        ge=0,
        le=3600,
        description="The agent's wrap-up after each call; null: until the agent says ready",
        examples=[15],
    )
    maxWaitSeconds: int = Field(
        5,
        ge=1,
        le=300,
        description="Longest an answered callee waits for an agent before the call is dropped",
        examples=[5],
    )
    bridgeOnAnswer: bool = Field(
        False,
        description="Bridge at the answer, with no answering-machine detection",
        examples=[False],
    )
    pacing: Pacing | None = Field(
        None,
        description="How many lines to dial (UpdateCampaignStrategy sets it too); left out:"
        " predictive at the tenant's target",
    )
    informationMessage: InformationMessage | None = Field(
        None,
        description="What this campaign's abandoned calls hear instead of the tenant's"
        " message; null: the tenant's",
    )


class CampaignIn(BaseModel):
    """Property names are matched case-insensitively (StartDate = startDate)."""

    name: str | None = None
    startDate: str = Field(examples=["2025-10-01"])
    startTime: str = Field(examples=["09:00"])
    finishTime: str = Field(examples=["12:00"])
    runoverDays: list[RunoverDay] = []
    callflow_Id: int
    cli_Id: int
    attempts: list[Attempt] = []
    answerMachineDetected: int = Field(
        0, description="0 Never, 1 OnTheFirstCall, 2 OnTheLastCall (alias: answerPhoneMessage)"
    )
    smsOnBusy: int = Field(0, description="0 Never, 1 OnTheFirstCall, 2 OnTheLastCall")
    type: str = Field("ivr", description="ivr (plays the call flow) or agent (connects agents)")
    status: str | None = Field(
        None, description="Enabled or Disabled (paused); POST default Enabled, PUT keeps it"
    )
    phoneNumbers: list[PhoneNumberIn]
    answerDetection: Literal["people", "agents"] = Field(
        "people",
        description="What the answering-machine detector does when not sure: people (take it"
        " for a person: hang up on fewer people) or agents (take it for a machine: spare agents"
        " answerphones). Case-insensitive; docs/speech-and-detection.md has each mode's rates",
    )
    agentOptions: AgentOptions | None = Field(
        None,
        description="Only with type agent (else a 400); left out: the defaults",
        examples=[
            {
                "wrapUpSeconds": 30,
                "maxWaitSeconds": 5,
                "bridgeOnAnswer": False,
                "pacing": {"mode": "ratio", "ratio": 1.5, "target": 2.5},
                "informationMessage": {
                    "text": "This is Acme Energy calling for Globex; please call 0800 123 4567."
                },
            }
        ],
    )


class CampaignOut(BaseModel):
    id: int
    name: str | None
    startDate: str
    startTime: str
    finishTime: str
    runoverDays: list[RunoverDay]
    callflow_Id: int
    cli_Id: int
    attempts: list[Attempt]
    answerMachineDetected: int
    smsOnBusy: int
    type: str
    code: str = Field(description="Campaign code for the Dialer API")
    status: str = Field(description="Enabled or Disabled")
    answerDetection: Literal["people", "agents"] = Field(
        description="What the answering-machine detector does when not sure"
    )
    agentOptions: AgentOptions | None = Field(
        description="An agent campaign's options, defaults filled in; null for ivr",
        examples=[
            {
                "wrapUpSeconds": 15,
                "maxWaitSeconds": 5,
                "bridgeOnAnswer": False,
                "pacing": {"mode": "predictive", "ratio": None, "target": None},
                "informationMessage": None,
            }
        ],
    )


class CampaignListItem(CampaignOut):
    phoneNumberCount: int
    state: str = Field(
        description="Lifecycle state: Scheduled, Running, Paused, Finished, Expired or"
        " Cancelled (docs/rest-api.md, Campaign lifecycle)"
    )


class Progress(BaseModel):
    pending: int = Field(description="Not dialled yet, or waiting for a retry")
    inFlight: int = Field(description="Calls on the line now")
    claimed: int = Field(description="Taken by an engine, not recorded yet (ended calls too)")
    done: int
    cancelled: int = Field(description="Removed while waiting for a retry")
    outcomes: dict[str, int] = Field(
        description="Done numbers by their last Outcome name; every outcome is listed"
    )


class CampaignDetailOut(CampaignOut):
    phoneNumbers: list[PhoneNumberOut]
    notValidPhoneNumberCount: int = Field(description="Numbers with valid: false")
    progress: Progress | None = Field(
        None, description="GET only (not in POST's answer): the numbers by state"
    )
    phoneNumbersNext: int | None = Field(
        None,
        description="GET only: pass as `numbersAfter` for the next page of phoneNumbers;"
        " null on the last page",
    )
    state: str | None = Field(
        None,
        description="GET only: lifecycle state, Scheduled, Running, Paused, Finished, Expired"
        " or Cancelled (docs/rest-api.md, Campaign lifecycle)",
    )
    abandonment: Abandonment | None = Field(
        None,
        description="GET only: an agent campaign's abandoned-call figures; null for ivr",
        examples=[
            {
                "regime": "uk",
                "window": "24h",
                "rate": 1.873,
                "limit": 3.0,
                "target": 3.0,
                "live": 512,
                "abandoned": 6,
                "machines": 140,
                "falseMachines": 46.369,
                "dialRatio": 1.6,
                "pacerReason": "predictive: 4 ready, 3 ringing, budget 7.2 abandons",
                "decidedAt": "2025-10-01T10:42:05.000Z",
            }
        ],
    )


class SmsOut(BaseModel):
    """One text an attempt queued, as the SMS outbox last saw it."""

    status: Literal["queued", "sent", "delivered", "failed", "unknown"] = Field(
        description="unknown: sent, no answer from the provider; waiting for its receipt"
    )
    parts: int = Field(description="Parts the provider took it as; 0 until one took it")
    provider: str | None = Field(description="sim, smpp or http; null before any try")
    reason: str | None = Field(description="The provider's reason for a failure or a retry")
    providerIds: list[str] = Field(description="The provider's ids of its parts")
    updatedAt: str | None = Field(description="When its status last changed (UTC)")


class ResultOut(BaseModel):
    """One attempt; times are ISO-8601 UTC with a Z, null when it did not happen."""

    number: str = Field(description="E.164 when the number was possible, else as sent")
    name: str | None
    attemptNumber: int
    outcome: int = Field(description="Outcome code, 1-13")
    outcomeName: str
    stage: int = Field(description="Stage code, 0-20")
    stageName: str
    queuedAt: str
    originatedAt: str | None
    answeredAt: str | None
    endedAt: str | None
    cause: str | None
    keys: str = Field(description="Keys the callee pressed, in order")
    smsSent: bool = Field(
        description="The attempt queued a text (smsOnBusy or an sms node); its fate is in `sms`"
    )
    attemptId: int = Field(description="Unique and stable: the webhook de-duplication key")
    phoneNumberId: int = Field(description="The number's id in the campaign")
    # Only on an agent campaign's attempts with an agent call (left out on the others).
    agent: str | None = Field(None, description="The agent's member code; null: none reached")
    agentId: int | None = Field(None, description="The agent's id (GET /api/agents)")
    timeToAgentSeconds: float | None = Field(
        None, description="From the answer (or the machine-detection verdict) to the bridge"
    )
    talkSeconds: float | None = Field(None, description="Bridged to the callee, in seconds")
    wrapUpSeconds: float | None = Field(None, description="The agent's wrap-up, in seconds")
    disposition: str | None = Field(
        None, description="The agent's disposition: a Stage name", examples=["CorrectCallee"]
    )
    callbackAt: str | None = Field(
        None, description="CallerRequestedCallBack: when the number is called again (UTC)"
    )
    sms: list[SmsOut] = Field(description="The texts the attempt queued, in order (docs/sms.md)")


class ResultsPageOut(BaseModel):
    results: list[ResultOut]
    next: int | None = Field(description="Pass as `after` for the next page; null on the last")


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str | None = None
    errors: dict[str, list[str]] | None = None


class CallFlowOut(BaseModel):
    id: int
    name: str
    definition: dict[str, object]


class CliOut(BaseModel):
    id: int
    number: str

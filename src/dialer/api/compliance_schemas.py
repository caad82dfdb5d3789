"""A tenant's compliance settings and a campaign's abandoned-call figures: their JSON shapes and
examples in /openapi.json (services.compliance_input parses and makes them)."""

from typing import Literal

from pydantic import BaseModel, Field

Regime = Literal["uk", "us", "none"]


class InfoMessageIn(BaseModel):
    text: str | None = Field(
        None,
        max_length=500,
        description="Spoken by espeak-ng: the company calling and a number to call back (7 or"
        " more digits); US: also that the call was for telemarketing and the opt-out key.",
    )
    recording: str | None = Field(
        None,
        description="A .wav file in the tenant's audio directory, played instead of the text.",
    )


class RulesOut(BaseModel):
    enforced: bool = Field(description="false under regime none: nothing is counted")
    limit: float | None = Field(description="The regulator's ceiling, percent of live calls")
    target: float | None = Field(description="What pacing keeps the rate under, percent")
    window: str | None = Field(description="The rolling window the rate is over: 24h or 30d")
    connectWithinSeconds: float | None = Field(
        description="A live call not connected to an agent within this is abandoned"
    )
    messageRequired: bool = Field(
        description="Agent campaigns refuse to start without an information message"
    )
    optOutByKey: bool = Field(description="US: the message offers optOutKey")
    redialLockoutHours: float | None = Field(
        description="UK: after an abandoned call, the number is called again within this only"
        " with an agent reserved first"
    )
    countsFalseMachines: bool = Field(
        description="UK: machine verdicts add falseMachineRate of people to the abandoned"
    )


class ComplianceIn(BaseModel):
    """Every field is optional: those left out keep their values."""

    regime: Regime | None = Field(None, description="uk (Ofcom), us (FCC) or none")
    target: float | None = Field(
        None, gt=0, le=3, description="Abandoned calls to aim at, percent of live calls"
    )
    message: InfoMessageIn | None = Field(None, description="null: remove the message")
    optOutKey: str | None = Field(None, description="US: one of 0-9, * and #")
    attemptsPerDay: int | None = Field(
        None,
        ge=1,
        le=100,
        description="Attempts per number in any 24 hours, across all campaigns; null: no cap",
    )
    falseMachineRate: float | None = Field(
        None,
        ge=0,
        lt=100,
        description="UK: the share of people your detector judges machines, percent",
    )


class ComplianceOut(BaseModel):
    regime: Regime
    target: float
    message: InfoMessageIn | None
    optOutKey: str
    attemptsPerDay: int | None
    falseMachineRate: float
    rules: RulesOut = Field(description="What the regime and target make of them (read-only)")


COMPLIANCE_EXAMPLE = {
    "regime": "uk",
    "target": 2.5,
    "message": {
        "text": "This is Acme Energy. Sorry we missed you; please call us on 0800 123 4567.",
        "recording": None,
    },
    "optOutKey": "9",
    "attemptsPerDay": 3,
    "falseMachineRate": 8.3,
    "rules": {
        "enforced": True,
        "limit": 3.0,
        "target": 2.5,
        "window": "24h",
        "connectWithinSeconds": 2.0,
        "messageRequired": True,
        "optOutByKey": False,
        "redialLockoutHours": 72.0,
        "countsFalseMachines": True,
    },
}
COMPLIANCE_UPDATE_EXAMPLE = {
    "target": 2.5,
    "message": {"text": "This is Acme Energy. Sorry we missed you; please call 0800 123 4567."},
    "attemptsPerDay": 3,
}


_HOUR = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class CallingHoursIn(BaseModel):
    """Either or both; the end must be later than the start on the same day."""

    start: str | None = Field(None, pattern=_HOUR, description="HH:MM, callee-local, inclusive")
    end: str | None = Field(None, pattern=_HOUR, description="HH:MM, callee-local, exclusive")


class CallingHoursOut(BaseModel):
    start: str = Field(description="HH:MM: no callee is rung before this, in their own zone")
    end: str = Field(description="HH:MM: nor from this on")


CALLING_HOURS_EXAMPLE = {"start": "09:00", "end": "20:00"}

"""OpenAPI shapes of campaign summaries and statistics (docs/rest-api.md); the answers
themselves are built by services/campaign_summary.py and services/campaign_statistics.py."""

from pydantic import BaseModel, Field


class CampaignSummaryOut(BaseModel):
    id: int
    name: str | None
    type: str = Field(description="ivr or agent")
    state: str = Field(description="Scheduled, Running, Paused, Finished, Expired or Cancelled")
    status: str = Field(description="Enabled or Disabled (Paused and Cancelled are Disabled)")
    total: int = Field(description="Every number, cancelled ones included")
    done: int = Field(description="Numbers with a final outcome")
    pending: int = Field(description="Not dialled yet, or waiting for a retry")
    claimed: int = Field(description="Taken by an engine, not recorded yet")
    inFlight: int = Field(description="Calls on the line now")
    cancelled: int
    answered: int = Field(description="Done numbers whose last outcome is Answered")
    answerRate: float | None = Field(
        description="answered / done numbers that were called, in percent; null before any"
    )
    abandoned: int | None = Field(
        description="Agent campaigns: abandoned calls in the regime's window; null for ivr"
    )
    abandonedRate: float | None = Field(description="Percent, as the regime counts it")
    abandonedLimit: float | None = Field(description="Percent; null when no regime applies")
    abandonedWindow: str | None = Field(description="24h (UK) or 30d (US)")
    estimatedSecondsToFinish: int | None = Field(
        description="Left numbers at the pace of the last 15 minutes' attempts: a lower bound;"
        " null unless Running with attempts in those 15 minutes"
    )
    estimatedFinishAt: str | None
    agentsReady: int | None = Field(
        description="Agent campaigns: its agents ready at the pacer's latest decision; null for"
        " ivr, or before the engine's first decision"
    )
    callsRinging: int | None = Field(description="Its calls placed and not yet answered, then")
    waitingForAgent: int | None = Field(
        description="Its answered calls waiting for an agent (the information message plays"
        " to those not connected in time), then"
    )
    floorSeenAt: str | None = Field(
        description="When the engine saw these three (saved at most every 5 s while it dials;"
        " older while the campaign is not dialling)"
    )
    outcomes: dict[str, int] = Field(description="Done numbers by last Outcome name")
    updatedAt: str = Field(description="When the campaign itself last changed")


class StatisticsCounts(BaseModel):
    attempts: int
    outcomes: dict[str, int] = Field(description="Attempts by Outcome name (absent: none)")
    stages: dict[str, int] = Field(description="Attempts by Stage name (absent: none)")


class StatisticsBucket(StatisticsCounts):
    start: str = Field(description="UTC start of the bucket; attempts by their end time")
    answered: int
    answerRate: float | None = Field(description="Answered / attempts that placed a call, %")
    abandonedRate: float | None = Field(
        description="Agent campaigns: percent over the regime's window ending with the bucket"
    )
    pacingRatio: float | None = Field(
        description="Agent campaigns: the mean pacing ratio (lines dialled per agent available)"
        " of the decisions the engine saved in the bucket (one every 5 s while it dials); null"
        " without any, for ivr, or older than the 7 days the history keeps"
    )
    pacingRatioMin: float | None = Field(description="The least of those ratios")
    pacingRatioMax: float | None = Field(description="The greatest of those ratios")


class PacingDecision(BaseModel):
    ratio: float
    reason: str
    decidedAt: str


class StatisticsOut(BaseModel):
    campaignId: int
    bucket: str = Field(description="5m or 1h")
    from_: str = Field(alias="from")
    to: str
    buckets: list[StatisticsBucket]
    totals: StatisticsCounts
    abandonedWindow: str | None
    abandonedLimit: float | None
    pacing: PacingDecision | None = Field(
        description="Agent campaigns: the pacer's latest decision (per bucket: pacingRatio)"
    )

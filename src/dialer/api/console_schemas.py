"""OpenAPI shapes of the console's REST answers: a campaign's numbers page, an upload's report,
a call flow's dry run and a webhook test (docs/rest-api.md, docs/callflows.md, docs/webhooks.md).
"""

from pydantic import BaseModel, Field

from dialer.api.schemas import PhoneNumberOut


class NumberRowOut(PhoneNumberOut):
    final: bool = Field(description="Done or cancelled: never dialled again")
    nextAttemptAt: str | None = Field(
        description="When the engine may dial it next (now if due); null on a call or final"
    )


class NumbersPageOut(BaseModel):
    numbers: list[NumberRowOut]
    next: int | None = Field(description="Pass as `after` for the next page; null on the last")
    limit: int
    page: int | None


class RejectedLineOut(BaseModel):
    line: int | None = Field(None, description="CSV: the file's line (the header is line 1)")
    index: int | None = Field(None, description="JSON: the array position")
    reason: str


class UploadReportOut(BaseModel):
    added: int
    duplicates: int = Field(description="In the campaign already, or earlier in the upload")
    rejected: list[RejectedLineOut] = Field(description="The first 1,000, in file order")
    rejectedCount: int


class DryStepOut(BaseModel):
    node: str = Field(examples=["nodes.menu"])
    kind: str = Field(description="say, play, gather, transfer or hangup")
    text: str | None = Field(description="What is said (a gather's prompt), filled")
    voice: str | None
    key: str | None = Field(description="A gather's press; empty when it timed out")
    target: str | None = Field(description="A transfer's number or queue, a play's file")
    audio: str | None = Field(description="URL of the spoken text as WAV")
    audioError: str | None


class DryRunOut(BaseModel):
    steps: list[DryStepOut]
    ended: str = Field(description="hangup, transfer or capped")
    stage: str
    keys: str
    sms: list[str]
    transferredTo: str | None
    unusedKeys: list[str]


class WebhookTestOut(BaseModel):
    url: str
    delivered: bool
    status: int | None = Field(description="The receiver's status code; null if none came")
    seconds: float
    error: str | None

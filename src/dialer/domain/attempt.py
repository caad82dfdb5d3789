"""One attempt to call one number: when it was queued, placed, answered and ended, and how."""

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId, DestinationId, TenantId
from dialer.domain.records import quick_init
from dialer.domain.sms_outbox import SmsRecord, SmsText

# Outcomes the dialer settles without a call. They are final, and the record of one does not
# use up an attempt: a number that ends OutOfTime before any call has attemptsMade 0.
SETTLED_WITHOUT_CALL = frozenset(
    {Outcome.OUT_OF_TIME, Outcome.EXCLUDED_NUMBER, Outcome.INVALID_NUMBER}
)


@dataclass(frozen=True, slots=True)
class AgentCall:
    """What an agent campaign's answered call did with an agent: who took it (None: no agent
    was reached), when it began waiting for one (the answer, or the detector's verdict) and was
    bridged, when the wrap-up ended, and the agent's disposition."""

    queued_at: datetime
    agent_id: int | None = None
    member: str | None = None
    bridged_at: datetime | None = None
    talk_ended_at: datetime | None = None
    wrap_up_ended_at: datetime | None = None
    disposition: Stage | None = None
    callback_at: datetime | None = None  # CallerRequestedCallBack: dial the number again then
    callback_agent_id: int | None = None  # ... preferably by this agent
    # US: an abandoned call's callee pressed the opt-out key during the information message.
    opted_out: bool = False

    @property
    def time_to_agent(self) -> float | None:
        if self.bridged_at is None:
            return None
        return (self.bridged_at - self.queued_at).total_seconds()

    @property
    def talk_seconds(self) -> float | None:
        if self.bridged_at is None or self.talk_ended_at is None:
            return None
        return (self.talk_ended_at - self.bridged_at).total_seconds()

    @property
    def wrap_up_seconds(self) -> float | None:
        if self.talk_ended_at is None or self.wrap_up_ended_at is None:
            return None
        return (self.wrap_up_ended_at - self.talk_ended_at).total_seconds()


@quick_init
@dataclass(frozen=True, slots=True)
class AttemptRecord:
    destination_id: DestinationId
    attempt_number: int
    outcome: Outcome
    stage: Stage
    queued_at: datetime
    originated_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    cause: str | None = None
    keys: str = ""
    sms_sent: bool = False  # it queued a text (smsOnBusy or an sms node): ``texts`` not empty
    agent: AgentCall | None = None  # agent campaigns' answered calls
    # The texts it earned: the store queues them in the SMS outbox with the attempt.
    texts: tuple[SmsText, ...] = ()

    @property
    def counted(self) -> bool:
        """Whether it counts in the number's attemptsMade: it placed a call, or tried to."""
        return self.originated_at is not None or self.outcome not in SETTLED_WITHOUT_CALL


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """One row of a campaign's results: an attempt with the number it called."""

    attempt_id: int  # stable and unique: the webhook's de-duplication key
    campaign_id: CampaignId
    destination_id: DestinationId  # the number's id in the campaign (phoneNumbers[].id)
    number: str  # E.164 when the number was possible, else as it was sent
    name: str | None
    attempt_number: int
    outcome: Outcome
    stage: Stage
    queued_at: datetime
    originated_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    cause: str | None
    keys: str
    sms_sent: bool
    agent: AgentCall | None = None  # agent campaigns' answered calls
    sms: tuple[SmsRecord, ...] = ()  # its texts, in the order they were queued


class DialJob(NamedTuple):
    """A destination an engine has claimed for one attempt (a NamedTuple: claimed in 1,000s)."""

    destination_id: DestinationId
    campaign_id: CampaignId
    attempt_number: int
    raw: str
    e164: str | None
    name: str | None
    parameters: tuple[tuple[int, str], ...]
    caller_id: str | None
    custom_data: str | None
    ignore_dnc: bool
    priority: int
    queued_at: datetime  # when it fell due: the start of its wait for a line
    # The agent a callback asked for: an agent campaign offers this call to it first.
    prefer_agent_id: int | None = None


@dataclass(frozen=True, slots=True)
class WebhookSubject:
    """What a webhook message says beyond the attempt's record: its campaign's code and the
    number it called (E.164 when the number was possible, else as it was sent)."""

    campaign_code: str
    number: str
    name: str | None


@quick_init
@dataclass(frozen=True, slots=True)
class FinishedAttempt:
    """An attempt's record with what follows it: a retry at ``retry_at``, or done."""

    record: AttemptRecord
    campaign_id: CampaignId
    tenant_id: TenantId
    priority: int
    retry_at: datetime | None
    # Set when the tenant has a webhook: the store writes its message to the outbox with the
    # attempt, once it has given the attempt its id (dialer.domain.result_row.webhook_body).
    webhook: WebhookSubject | None = None
    # For an attempt with an agent call: the agent the destination's next call is offered to
    # first (a callback asked of the same agent), stored on the destination; None clears it.
    callback_agent_id: int | None = None
    # The number the callee asked never to be called on again (an OptOut disposition): the
    # store adds it to the tenant's do-not-call list with the attempt.
    opt_out: str | None = None

    @property
    def final(self) -> bool:
        """The destination is done: no further attempt follows this one."""
        return self.retry_at is None

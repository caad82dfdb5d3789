"""A voice campaign: what it dials, when, with which call flow and caller ID, and its policies."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import NamedTuple

from dialer.domain.abandonment import AbandonRules, ComplianceSettings, InfoMessage, rules_for
from dialer.domain.agent import AgentOptions, Strategy
from dialer.domain.amd_mode import AmdMode
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CallFlowId, CampaignId, CliId, DestinationId, TenantId
from dialer.domain.policy import AttemptRule, MessagePolicy
from dialer.domain.schedule import Schedule

MAX_PARAMETERS = 9


class CampaignType(Enum):
    """IVR campaigns play their call flow; agent campaigns connect answered calls to agents."""

    IVR = "ivr"
    AGENT = "agent"


class CampaignStatus(Enum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class PhoneNumber(NamedTuple):
    """A destination: a number as the client sent it, with its E.164 form when it is possible.

    The REST API gives ``name`` and ``parameters``; the Dialer API gives the rest. A NamedTuple,
    not a frozen dataclass: campaigns hold 100,000s and it builds 3x faster.
    """

    raw: str
    e164: str | None
    name: str | None
    parameters: tuple[tuple[int, str], ...] = ()
    priority: int = 0
    caller_id: str | None = None
    custom_data: str | None = None  # a JSON object, as the client sent it
    originate_time: int | None = None  # epoch as sent; see domain.destination
    is_date_local: bool | None = None
    originate_at: datetime | None = None  # the UTC instant the two above mean
    ignore_dnc: bool = False
    # phonenumbers' type code (domain.numbering); NOT_VALID for a possible but invalid number,
    # None when not possible or not yet known.
    number_type: int | None = None

    @property
    def possible(self) -> bool:
        return self.e164 is not None

    @property
    def key(self) -> str:
        """Identity of the number within a campaign: its E.164 form, else what was sent."""
        return self.e164 if self.e164 is not None else self.raw


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    """Everything a client states about a campaign; the store adds identity and state."""

    name: str | None
    schedule: Schedule
    callflow_id: CallFlowId
    cli_id: CliId
    attempts: tuple[AttemptRule, ...]
    answerphone: MessagePolicy
    sms_on_busy: MessagePolicy
    kind: CampaignType = CampaignType.IVR
    agent: AgentOptions | None = None  # agent campaigns; None: the defaults
    # What the answering-machine detector does when not sure (docs/speech-and-detection.md).
    amd_mode: AmdMode = AmdMode.PREFER_PEOPLE

    @property
    def agent_options(self) -> AgentOptions:
        return self.agent or AgentOptions()

    @property
    def max_attempts(self) -> int:
        return max(1, len(self.attempts))


@dataclass(frozen=True, slots=True)
class Campaign:
    id: CampaignId
    tenant_id: TenantId
    code: str
    status: CampaignStatus
    spec: CampaignSpec
    created_at: datetime
    updated_at: datetime
    strategy: Strategy | None = None


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    campaign: Campaign
    phone_number_count: int


class StoredNumber(NamedTuple):
    """A campaign's number with what has happened to it so far."""

    number: PhoneNumber
    attempts_made: int
    last_outcome: Outcome | None
    last_stage: Stage | None = None
    # Stable for the campaign's life: a PUT that keeps the number keeps its id.
    id: DestinationId | None = None


class NumberEntry(NamedTuple):
    """A stored number as a PUT sees it: what it is matched by, and whether it has history
    (attempts recorded, or a call in flight) and so must stay."""

    id: DestinationId
    key: str
    name: str | None
    parameters: tuple[tuple[int, str], ...]
    has_history: bool


@dataclass(frozen=True, slots=True)
class DialingContext:
    """What the engine needs to dial a campaign: it, and its tenant's zone and calling hours."""

    campaign: Campaign
    timezone: str
    region: str
    calling_hours: str  # "08:00-21:00", callee-local
    # The name of the agent queue an agent campaign hands answered calls to (its Dialer API
    # strategy's queue), if it has one.
    transfer_queue: str | None = None
    # The tenant's abandoned-call regime, target, information message and per-number cap.
    compliance: ComplianceSettings = field(default_factory=ComplianceSettings)

    @property
    def information_message(self) -> InfoMessage | None:
        """What the campaign's abandoned calls hear: its own message, else the tenant's."""
        return information_message(self.campaign.spec, self.compliance)

    @property
    def rules(self) -> AbandonRules:
        """The tenant's regime, aimed at the campaign's own target if it has one."""
        spec = self.campaign.spec
        return rules_for(self.compliance, spec.agent_options.pacing.target, spec.amd_mode)


def information_message(spec: CampaignSpec, settings: ComplianceSettings) -> InfoMessage | None:
    return spec.agent_options.message or settings.message


def lacks_message(spec: CampaignSpec, settings: ComplianceSettings) -> bool:
    """An agent campaign that may abandon calls under a regime that needs an information
    message, with none of its own or its tenant's: it may not dial (docs/compliance.md)."""
    return (
        spec.kind is CampaignType.AGENT
        and rules_for(settings).message_required
        and information_message(spec, settings) is None
    )

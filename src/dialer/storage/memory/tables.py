"""The memory store's tables: one dict per SQL table, keyed by its primary key, of immutable rows.

Rows are frozen, so a write transaction copies a table (a shallow dict copy) the first time it
changes it and replaces rows instead of editing them: the committed tables are never touched,
and a rollback only drops the copies (copy-on-write; storage/memory/store.py). Timestamps are
kept as epoch microseconds, as the SQL columns are, so both stores round instants alike.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dialer.domain.abandonment import ComplianceSettings, PacingStatus
from dialer.domain.agent_session import AgentSession, StateChange
from dialer.domain.attempt import AgentCall
from dialer.domain.campaign import Campaign
from dialer.domain.codes import Outcome, Stage
from dialer.domain.console_session import ConsoleSession
from dialer.domain.ids import CampaignId, DestinationId, TenantId

# The SQL tables that ``fold``/``mut`` know by name; a fork copies none of them until written.
TABLE_NAMES = (
    "tenants",
    "callflows",
    "clis",
    "agents",
    "queues",
    "members",
    "campaigns",
    "destinations",
    "attempts",
    "ready",
    "leases",
    "lines",
    "dnc",
    "idempotency",
    "webhooks",
    "outbox",
    "windows",
    "agent_sessions",
    "state_changes",
    "agent_tokens",
    "number_calls",
    "pacing",
    "cancelled",
    "console_sessions",
    "pacing_history",
    "sms_outbox",
    "sms_parts",
    "sms_receipts",
    "sms_settings",
)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_us(moment: datetime) -> int:
    """As storage/rows.py: the SQL stores keep this, so both keep instants alike."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are refused; pass a timezone-aware one")
    # Integer arithmetic: a float epoch times 1e6 lost a microsecond past 2038.
    return (moment - _EPOCH) // _MICROSECOND


def from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def opt_us(moment: datetime | None) -> int | None:
    return None if moment is None else to_us(moment)


def opt_from_us(value: int | None) -> datetime | None:
    return None if value is None else from_us(value)


@dataclass(frozen=True, slots=True)
class TenantRow:
    id: TenantId
    name: str
    region: str
    timezone: str
    api_key_hash: str
    created_at: int
    hours_start: str = "08:00"
    hours_end: str = "21:00"
    compliance: ComplianceSettings = field(default_factory=ComplianceSettings)


@dataclass(frozen=True, slots=True)
class EntryRow:
    """A row of callflows, clis, agents or queues: ``text`` is the name, number or member,
    ``extra`` the definition (call flow) or display name (agent)."""

    id: int
    tenant_id: TenantId
    text: str
    extra: str
    created_at: int
    phone: str | None = None  # an agent's assigned phone


@dataclass(frozen=True, slots=True)
class DestinationRow:
    id: DestinationId
    campaign_id: CampaignId
    raw: str
    e164: str | None
    name: str | None
    parameters: tuple[tuple[int, str], ...]
    state: str
    attempts_made: int
    last_outcome: Outcome | None
    last_stage: Stage | None
    created_at: int
    priority: int
    caller_id: str | None
    custom_data: str | None
    originate_time: int | None
    is_date_local: bool | None
    originate_at: int | None
    ignore_dnc: bool
    number_type: int | None
    callback_agent_id: int | None = None  # the agent a callback asked for (migration 0013)


@dataclass(frozen=True, slots=True)
class AttemptRow:
    id: int
    destination_id: DestinationId
    attempt_number: int
    outcome: Outcome
    stage: Stage
    queued_at: int
    originated_at: int | None
    answered_at: int | None
    ended_at: int | None
    cause: str | None
    keys: str
    sms_sent: bool
    campaign_id: CampaignId
    agent: AgentCall | None = None


@dataclass(frozen=True, slots=True)
class NumberCallRow:
    """number_calls: a call placed to a number by one of the tenant's campaigns."""

    tenant_id: TenantId
    e164: str
    ended_at: int
    abandoned: bool


@dataclass(frozen=True, slots=True)
class ReadyRow:
    """dial_queue: a pending destination waiting to be claimed (due_at 0: now)."""

    campaign_id: CampaignId
    priority: int
    due_at: int


@dataclass(frozen=True, slots=True)
class LeaseRow:
    """in_flight: a claimed destination, held by ``worker`` until ``lease_until``."""

    campaign_id: CampaignId
    attempt_number: int
    worker: str
    lease_until: int
    queued_at: int


@dataclass(frozen=True, slots=True)
class IdempotencyRow:
    request_hash: str
    response: str | None
    created_at: int


@dataclass(frozen=True, slots=True)
class WebhookRow:
    url: str
    secret: str
    created_at: int


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    tenant_id: TenantId
    payload: str
    tries: int
    next_try_at: int
    created_at: int
    delivered_at: int | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class AgentTokenRow:
    tenant_id: TenantId
    agent_id: int
    token_hash: str
    created_at: int
    revoked_at: int | None = None


@dataclass(frozen=True, slots=True)
class SmsRow:
    """sms_outbox (migration 0023)."""

    id: int
    tenant_id: TenantId
    campaign_id: CampaignId
    destination_id: DestinationId
    attempt_number: int
    to: str
    sender: str
    body: str
    status: str
    provider: str | None
    parts: int
    provider_ids: tuple[str, ...]
    reason: str
    tries: int
    next_try_at: int
    created_at: int
    updated_at: int
    submitting_since: int | None = None  # migration 0026: claimed, no answer stored yet


@dataclass(frozen=True, slots=True)
class SmsPartRow:
    tenant_id: TenantId
    provider_id: str
    state: str | None = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class SmsReceiptRow:
    tenant_id: TenantId | None
    provider_id: str
    state: str
    error: str
    recipient: str | None
    text_prefix: str | None
    at: int
    received_at: int


@dataclass(slots=True)
class Tables:
    """Every table, and the last id each autoincrement table gave (rolled back with the
    transaction, as SQLite's AUTOINCREMENT is)."""

    tenants: dict[TenantId, TenantRow] = field(default_factory=dict)
    callflows: dict[int, EntryRow] = field(default_factory=dict)
    clis: dict[int, EntryRow] = field(default_factory=dict)
    agents: dict[int, EntryRow] = field(default_factory=dict)
    queues: dict[int, EntryRow] = field(default_factory=dict)
    members: dict[tuple[CampaignId, int], int] = field(default_factory=dict)  # -> added_at
    campaigns: dict[CampaignId, Campaign] = field(default_factory=dict)
    destinations: dict[DestinationId, DestinationRow] = field(default_factory=dict)
    attempts: dict[int, AttemptRow] = field(default_factory=dict)
    ready: dict[DestinationId, ReadyRow] = field(default_factory=dict)
    leases: dict[DestinationId, LeaseRow] = field(default_factory=dict)
    lines: dict[tuple[str, CampaignId], int] = field(default_factory=dict)  # -> calls
    dnc: dict[tuple[TenantId, str], int] = field(default_factory=dict)  # -> created_at
    idempotency: dict[str, IdempotencyRow] = field(default_factory=dict)
    webhooks: dict[TenantId, WebhookRow] = field(default_factory=dict)
    outbox: dict[int, OutboxRow] = field(default_factory=dict)
    # rate_windows: name -> (claims in the window as (claimed at, calls), expires at)
    windows: dict[str, tuple[tuple[tuple[int, int], ...], int]] = field(default_factory=dict)
    # Sessions as the SQL store reads them back (instants rounded to the microsecond, in UTC).
    agent_sessions: dict[int, AgentSession] = field(default_factory=dict)
    state_changes: dict[int, StateChange] = field(default_factory=dict)  # with their ids
    agent_tokens: dict[int, AgentTokenRow] = field(default_factory=dict)
    number_calls: dict[int, NumberCallRow] = field(default_factory=dict)
    # campaign_pacing: the latest decision, instants rounded to the microsecond as SQL's
    pacing: dict[CampaignId, PacingStatus] = field(default_factory=dict)
    # campaigns.cancelled_at (migration 0017): cancelled campaigns only
    cancelled: dict[CampaignId, int] = field(default_factory=dict)
    console_sessions: dict[str, ConsoleSession] = field(default_factory=dict)  # by token hash
    # pacing_history (migration 0022): (campaign, minute in µs) -> (decisions, sum, min, max)
    pacing_history: dict[tuple[CampaignId, int], tuple[int, float, float, float]] = field(
        default_factory=dict
    )
    sms_outbox: dict[int, SmsRow] = field(default_factory=dict)
    sms_parts: dict[tuple[int, int], SmsPartRow] = field(default_factory=dict)
    sms_receipts: dict[int, SmsReceiptRow] = field(default_factory=dict)
    # sms_settings: (settings JSON, callback id, updated at)
    sms_settings: dict[TenantId, tuple[str, str, int]] = field(default_factory=dict)
    last_ids: dict[str, int] = field(default_factory=dict)

    def fork(self) -> "Tables":
        """The same tables, to be copied one by one as a transaction first writes each."""
        forked = Tables(**{name: getattr(self, name) for name in TABLE_NAMES})
        forked.last_ids = dict(self.last_ids)
        return forked

    def next_id(self, table: str) -> int:
        self.last_ids[table] = self.last_ids.get(table, 0) + 1
        return self.last_ids[table]


def table(tables: Tables, name: str) -> dict[Any, Any]:
    typed: dict[Any, Any] = getattr(tables, name)
    return typed

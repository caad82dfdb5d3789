"""The store's port: a unit of work (``Store.read``/``write``) whose session holds one repository
per role, so each service and the engine depend on the slice they use (as pgqueuer's ports do)."""

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from dialer.domain.abandonment import ComplianceSettings, PacingStatus, RecentCalls, Tally
from dialer.domain.agent import Agent, Queue, Strategy
from dialer.domain.agent_session import AgentSession, Customer, StateChange
from dialer.domain.attempt import AttemptResult, DialJob, FinishedAttempt
from dialer.domain.campaign import (
    Campaign,
    CampaignSpec,
    CampaignStatus,
    CampaignSummary,
    DialingContext,
    NumberEntry,
    PhoneNumber,
    StoredNumber,
)
from dialer.domain.console_session import ConsoleSession
from dialer.domain.destination import CampaignCounts, DestinationPatch, WaitingCall
from dialer.domain.ids import CallFlowId, CampaignId, CliId, DestinationId, TenantId
from dialer.domain.limits import Claimed, ClaimLimits
from dialer.domain.number_page import NumberFilter, NumberRow
from dialer.domain.pacing_history import PacingPoint
from dialer.domain.progress import CampaignProgress
from dialer.domain.sms import DeliveryReport
from dialer.domain.sms_outbox import UNKNOWN_GRACE, ClaimedSms, SmsRecord
from dialer.domain.sms_settings import TenantSmsSettings
from dialer.domain.tenant import CallerId, CallFlowRecord, Tenant
from dialer.domain.webhook import Backlog, Delivery, DeliveryRecord, Webhook


class TenantRepo(Protocol):
    """Tenants and their API keys and calling hours."""

    def add_tenant(
        self, name: str, region: str, timezone: str, api_key_hash: str, now: datetime
    ) -> Tenant: ...
    def tenant_by_key_hash(self, api_key_hash: str) -> Tenant | None: ...
    def get_tenant(self, tenant_id: TenantId) -> Tenant | None: ...
    def set_calling_hours(self, tenant_id: TenantId, start: str, end: str) -> None: ...
    def calling_hours(self, tenant_id: TenantId) -> tuple[str, str] | None:
        """The tenant's calling hours as stored ("08:00", "21:00"); None: no such tenant."""
        ...

    def set_api_key_hash(self, tenant_id: TenantId, api_key_hash: str) -> bool: ...
    def compliance(self, tenant_id: TenantId) -> ComplianceSettings | None:
        """The tenant's abandoned-call settings (docs/compliance.md); None: no such tenant."""
        ...

    def set_compliance(self, tenant_id: TenantId, settings: ComplianceSettings) -> None: ...
    def backfill_number_calls(self, tenant_id: TenantId, since: datetime) -> None:
        """The calls the tenant placed since ``since``, into the per-number ledger that
        screening reads (a cap just switched on must count them; docs/compliance.md)."""
        ...


class CatalogRepo(Protocol):
    """A tenant's call flows and caller IDs, and which campaigns use a catalog entry."""

    def add_callflow(
        self, tenant_id: TenantId, name: str, definition: str, now: datetime
    ) -> CallFlowRecord: ...
    def list_callflows(self, tenant_id: TenantId) -> list[CallFlowRecord]: ...
    def get_callflow(self, tenant_id: TenantId, callflow_id: int) -> CallFlowRecord | None: ...
    def callflow_owned(self, tenant_id: TenantId, callflow_id: CallFlowId) -> bool: ...
    def callflow_definitions(self, tenant_id: TenantId) -> Sequence[tuple[CallFlowId, str]]: ...
    def add_cli(self, tenant_id: TenantId, number: str, now: datetime) -> CallerId: ...
    def list_clis(self, tenant_id: TenantId) -> list[CallerId]: ...
    def get_cli(self, tenant_id: TenantId, cli_id: int) -> CallerId | None: ...
    def cli_owned(self, tenant_id: TenantId, cli_id: CliId) -> bool: ...
    def campaigns_using(
        self, tenant_id: TenantId, what: str, entry_id: int
    ) -> list[tuple[CampaignId, bool]]: ...
    def delete_catalog_entry(self, tenant_id: TenantId, what: str, entry_id: int) -> bool: ...


class AgentRepo(Protocol):
    """Agents, queues, and the members (agents) of agent campaigns."""

    def add_agent(self, tenant_id: TenantId, member: str, name: str, now: datetime) -> Agent: ...
    def agents_by_member(self, tenant_id: TenantId, members: Sequence[str]) -> dict[str, Agent]: ...
    def list_agents(self, tenant_id: TenantId) -> list[Agent]: ...
    def get_agent(self, tenant_id: TenantId, agent_id: int) -> Agent | None: ...
    def lock_agent(self, tenant_id: TenantId, agent_id: int) -> Agent | None:
        """get_agent, its row locked until the transaction ends: a log-in and the agent's
        deletion take it first, so neither decides on what the other is changing."""
        ...

    def set_agent_phone(self, tenant_id: TenantId, agent_id: int, phone: str | None) -> bool:
        """Assign the agent's phone (None: none); False if the tenant has no such agent."""
        ...

    def add_queue(self, tenant_id: TenantId, name: str, now: datetime) -> Queue: ...
    def list_queues(self, tenant_id: TenantId) -> list[Queue]: ...
    def get_queue(self, tenant_id: TenantId, queue_id: int) -> Queue | None: ...
    def queue_owned(self, tenant_id: TenantId, queue_id: int) -> bool: ...
    def campaign_members(self, campaign_id: CampaignId) -> list[Agent]: ...
    def add_members(
        self, campaign_id: CampaignId, agent_ids: Sequence[int], now: datetime
    ) -> int: ...
    def remove_members(self, campaign_id: CampaignId, agent_ids: Sequence[int]) -> int: ...


class AgentSessionRepo(Protocol):
    """Agents' sessions, their stored state changes, and agents' desk tokens.

    Every write of a session is a compare-and-set on its ``version`` together with the change
    it records, so the desk (API processes) and the engine (the worker holding the agent's
    phone leg) never overwrite each other; the loser reads again and decides again."""

    def open_session(
        self, tenant_id: TenantId, agent_id: int, phone: str, now: datetime
    ) -> AgentSession | None:
        """A new session, paused with reason phone-connecting, with its first change recorded;
        None if the agent already has an open (not offline) session."""
        ...

    def open_session_of(self, tenant_id: TenantId, agent_id: int) -> AgentSession | None: ...
    def get_session(self, session_id: int) -> AgentSession | None: ...
    def save_session(
        self, session: AgentSession, change: StateChange | None, read_version: int
    ) -> bool:
        """Write ``session`` (and ``change``) if the stored version is still ``read_version``.
        The lease is the engine's (renewed without a new version): while ``session.worker`` is
        the stored worker the stored ``lease_until`` is kept; another worker, or None (let go),
        is written with the session's lease."""
        ...

    def reserve_agent(
        self,
        campaign_id: CampaignId,
        worker: str,
        customer: Customer,
        now: datetime,
        prefer_agent_id: int | None = None,
    ) -> AgentSession | None:
        """Reserve the longest-ready agent of ``campaign_id`` (a member of it) whose phone leg
        ``worker`` holds, ``prefer_agent_id`` first when it is ready: one atomic step."""
        ...

    def ready_agents(self, worker: str) -> dict[CampaignId, int]:
        """Ready agents per campaign, of the sessions ``worker`` holds (for pacing)."""
        ...

    def ready_sessions(self, worker: str) -> int:
        """How many distinct ready agents ``worker`` holds: an agent who is a member of
        several campaigns counts once (the budget its agent campaigns share when pacing)."""
        ...

    def adopt_sessions(
        self, worker: str, now: datetime, lease_until: datetime, limit: int
    ) -> list[AgentSession]:
        """Open sessions no engine holds (new log-ins, or another engine's lease ran out: a
        worker renews its own) become ``worker``'s, leased until ``lease_until``, with a new
        version; new log-ins first, then the longest expired."""
        ...

    def renew_sessions(self, worker: str, lease_until: datetime) -> int: ...
    def worker_sessions(self, worker: str) -> list[AgentSession]:
        """The open sessions ``worker`` holds, in order of id."""
        ...

    def tenant_sessions(self, tenant_id: TenantId) -> list[AgentSession]:
        """Every agent's open session, and each agent's last one if none is open."""
        ...

    def state_changes(
        self,
        tenant_id: TenantId,
        *,
        agent_id: int | None = None,
        after_id: int = 0,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[StateChange]:
        """Changes in order of id (streams resume after ``after_id``), optionally one agent's
        and within [since, until)."""
        ...

    def last_changes_before(self, tenant_id: TenantId, before: datetime) -> list[StateChange]:
        """Each agent's last change before ``before`` (in order of agent id): the state it was
        in then, which a report over [before, ...) counts from (``time_in_states``)."""
        ...

    def add_agent_token(
        self, tenant_id: TenantId, agent_id: int, token_hash: str, now: datetime
    ) -> int: ...
    def agent_by_token(self, token_hash: str) -> tuple[TenantId, Agent] | None:
        """The agent a token (not revoked) belongs to."""
        ...

    def revoke_agent_token(
        self, tenant_id: TenantId, agent_id: int, token_id: int | None, now: datetime
    ) -> int:
        """Revoke one of the agent's tokens (None: all); how many were revoked."""
        ...


class ConsoleSessionRepo(Protocol):
    """Browser sessions of the web console (domain/console_session.py), by their token's hash."""

    def add_console_session(self, session: ConsoleSession) -> None: ...
    def console_session(self, token_hash: str) -> ConsoleSession | None: ...
    def touch_console_session(self, token_hash: str, now: datetime) -> None: ...
    def end_console_session(self, token_hash: str) -> bool: ...
    def forget_console_sessions(self, now: datetime, idle_since: datetime) -> int:
        """Delete the sessions expired at ``now`` or not seen since ``idle_since``."""
        ...


class CampaignRepo(Protocol):
    """Campaigns: their spec, status and the Dialer API's strategy and counts."""

    def add_campaign(
        self,
        tenant_id: TenantId,
        code: str,
        spec: CampaignSpec,
        status: CampaignStatus,
        now: datetime,
    ) -> CampaignId: ...
    def get_campaign(
        self, tenant_id: TenantId, campaign_id: CampaignId, *, for_update: bool = False
    ) -> Campaign | None: ...
    def campaign_by_code(self, code: str, *, lock: bool = False) -> Campaign | None:
        """``lock``: keep it from being deleted until this transaction ends (adding rows)."""
        ...

    def list_campaigns(
        self, tenant_id: TenantId, *, count_numbers: bool = True
    ) -> list[CampaignSummary]:
        """With ``count_numbers=False`` every ``phone_number_count`` is 0 (and no rows are read)."""
        ...

    def update_campaign(
        self, campaign_id: CampaignId, spec: CampaignSpec, now: datetime
    ) -> None: ...
    def delete_campaign(self, campaign_id: CampaignId) -> None: ...
    def set_campaign_status(
        self, campaign_id: CampaignId, status: CampaignStatus, now: datetime
    ) -> None: ...
    def set_strategy(self, campaign_id: CampaignId, strategy: Strategy, now: datetime) -> None: ...
    def campaign_counts(
        self, campaign_ids: Sequence[CampaignId], now: datetime
    ) -> dict[CampaignId, CampaignCounts]: ...


class DestinationRepo(Protocol):
    """A campaign's destinations (numbers): added, listed, edited, cancelled."""

    def add_numbers(
        self, campaign_id: CampaignId, numbers: Iterable[PhoneNumber], now: datetime
    ) -> None:
        """Insert in order; ``numbers`` may be a generator, consumed as the rows stream out."""
        ...

    def list_numbers(
        self, campaign_id: CampaignId, after: int = 0, limit: int | None = None
    ) -> list[StoredNumber]:
        """In the order added, after the destination id ``after``, at most ``limit``."""
        ...

    def destination_ids(self, campaign_id: CampaignId) -> list[DestinationId]: ...
    def numbers_for_update(self, campaign_id: CampaignId) -> list[NumberEntry]: ...
    def count_not_valid(self, campaign_id: CampaignId) -> int: ...
    def delete_numbers(self, campaign_id: CampaignId, ids: Sequence[DestinationId]) -> None:
        """Remove numbers without history (never attempted) and their ready-queue rows."""
        ...

    def update_numbers_details(
        self, changes: Sequence[tuple[DestinationId, str | None, tuple[tuple[int, str], ...]]]
    ) -> None: ...
    def waiting_calls(
        self, campaign_id: CampaignId, after: tuple[int, int] | None, limit: int
    ) -> list[WaitingCall]: ...
    def cancel_pending(self, campaign_id: CampaignId, e164: str | None) -> int: ...
    def update_pending(
        self, campaign_id: CampaignId, e164: str, patch: DestinationPatch
    ) -> int: ...
    def number_page(
        self,
        campaign_id: CampaignId,
        where: NumberFilter,
        after: int,
        skip: int,
        limit: int,
    ) -> list[NumberRow]:
        """Numbers matching ``where`` in the order added: past the destination id ``after``,
        less the first ``skip`` of those, at most ``limit`` (docs/rest-api.md, numbers)."""
        ...

    def numbers_present(self, campaign_id: CampaignId, keys: Sequence[str]) -> set[str]:
        """Which of these keys (E.164, else the number as sent) the campaign already has."""
        ...


class QueueRepo(Protocol):
    """The dial queue and its leases: what the engine claims, holds, releases and records
    (storage/sql_engine.py tells how claims stay atomic)."""

    def dialing_contexts(self) -> list[DialingContext]: ...
    def next_due(self, campaign_id: CampaignId) -> datetime | None: ...
    def dialling_identity(self, campaign_id: CampaignId) -> tuple[CallFlowId, CliId] | None:
        """The call flow and caller ID the campaign's next calls go out with (None: deleted)."""
        ...

    def claim(
        self,
        campaign_id: CampaignId,
        now: datetime,
        limit: int,
        worker: str,
        lease_until: datetime,
        opened_at: datetime | None = None,
    ) -> list[DialJob]: ...
    def claim_limited(
        self,
        campaign_id: CampaignId,
        now: datetime,
        limit: int,
        worker: str,
        lease_until: datetime,
        opened_at: datetime | None,
        limits: ClaimLimits,
    ) -> Claimed:
        """``claim`` within the limits every engine shares (storage/sql_limits.py)."""
        ...

    def forget_spent_windows(self, now: datetime) -> int: ...
    def claim_for_closing(
        self, campaign_id: CampaignId, limit: int, worker: str, lease_until: datetime
    ) -> list[DialJob]: ...
    def extend_leases(
        self, worker: str, lease_until: datetime, destination_ids: Sequence[DestinationId]
    ) -> int: ...
    def take_expired(self, now: datetime, limit: int) -> list[DialJob]: ...
    def release(self, jobs: Sequence[tuple[DialJob, datetime]], worker: str) -> int: ...
    def finish_attempts(
        self, finished: Sequence[FinishedAttempt], worker: str | None, now: datetime
    ) -> list[FinishedAttempt]:
        """Record them; with ``worker``, only those it still holds. Returns those recorded."""
        ...

    def set_calls_on_line(self, worker: str, calls: Mapping[CampaignId, int]) -> None: ...
    def forget_lost_lines(self) -> None: ...
    def calls_on_line(self, campaign_id: CampaignId) -> int: ...
    def fold_counts(self, min_rows: int = ...) -> int:
        """Compact the destination counters (storage/sql_counts.py); rows folded."""
        ...


class DncRepo(Protocol):
    """A tenant's do-not-call list."""

    def add_dnc(self, tenant_id: TenantId, numbers: Sequence[str], now: datetime) -> int: ...
    def remove_dnc(self, tenant_id: TenantId, numbers: Sequence[str]) -> int: ...
    def dnc_listed(self, tenant_id: TenantId, numbers: Sequence[str]) -> set[str]: ...
    def list_dnc(self, tenant_id: TenantId, after: str | None, limit: int) -> list[str]: ...


class OutboxRepo(Protocol):
    """Webhook registrations and the delivery outbox the engine fills as it records attempts
    (storage/sql_webhooks.py)."""

    def set_webhook(self, tenant_id: TenantId, url: str, secret: str, now: datetime) -> Webhook: ...
    def get_webhook(self, tenant_id: TenantId) -> Webhook | None: ...
    def webhook_target(self, tenant_id: TenantId) -> tuple[str, str] | None:
        """The webhook's URL and signing secret (for a test delivery), or None."""
        ...

    def delete_webhook(self, tenant_id: TenantId) -> bool: ...
    def webhook_tenants(self) -> list[TenantId]: ...
    def webhook_backlog(self, tenant_id: TenantId) -> Backlog: ...
    def claim_deliveries(self, now: datetime, limit: int, lease: timedelta) -> list[Delivery]:
        """Due deliveries, each held until ``now + lease`` (then due again if not marked)."""
        ...

    def mark_delivered(self, delivery_id: int, now: datetime) -> None: ...
    def mark_failed(self, delivery_id: int, error: str, next_try_at: datetime) -> None: ...
    def retry_given_up(self, tenant_id: TenantId, now: datetime) -> int: ...
    def list_deliveries(
        self, tenant_id: TenantId, status: str | None, before: int | None, limit: int
    ) -> list[DeliveryRecord]: ...


class SmsOutboxRepo(Protocol):
    """The SMS outbox (docs/sms.md). QueueRepo.finish_attempts queues the texts an attempt
    earned; the sender claims and marks them; the providers' receipts are matched here. Every
    mark names the provider it came through and applies only to a row still waiting for it
    (QUEUED or UNKNOWN), so a late answer never undoes a receipt."""

    def claim_sms(
        self, now: datetime, limit: int, lease: timedelta, grace: timedelta = UNKNOWN_GRACE
    ) -> list[ClaimedSms]:
        """Due QUEUED and UNKNOWN rows, oldest due first, held by this caller until
        ``now + lease`` (pushing their next try past it) and marked as being submitted until
        their answer is marked. A due row still so marked (its sender died mid-submit) is not
        returned: it turns UNKNOWN until ``now + grace``, as a lost answer, a receipt kept
        already applied. A due row of a cancelled or deleted campaign is not returned
        either: it becomes FAILED, unsent (docs/sms.md)."""
        ...

    def sms_accepted(
        self,
        message_id: int,
        provider: str,
        provider_ids: Sequence[str],
        parts: int,
        now: datetime,
    ) -> bool:
        """SENT with its parts' ids; receipts kept for those ids are applied now. False if
        the row was no longer waiting (nothing changed)."""
        ...

    def sms_retry(
        self, message_id: int, provider: str, reason: str, next_try_at: datetime, now: datetime
    ) -> None:
        """Stays QUEUED (an UNKNOWN row too: it was not taken), one more try counted."""
        ...

    def sms_failed(self, message_id: int, provider: str, reason: str, now: datetime) -> None: ...

    def sms_unknown(
        self,
        message_id: int,
        provider: str,
        reason: str,
        next_try_at: datetime,
        now: datetime,
        provider_ids: Sequence[str] = (),
        parts: int = 1,
    ) -> None:
        """UNKNOWN until ``next_try_at`` (the grace): a receipt matching its recipient and text
        makes it SENT; with none by then it is claimed and submitted again. A receipt kept
        already that matches is applied at once.

        A text cut mid-way (``provider_ids``: the ``parts``-part text's parts taken before the
        one in doubt) records those parts, whose receipts apply by id; the part in doubt takes
        a receipt matching the recipient and a prefix found in the text. It is never claimed
        again: DELIVERED once every part is, FAILED on a failed part or when the grace ends
        with a part unconfirmed. A text in doubt with no part taken whose first part's receipt
        comes stays UNKNOWN with that part (never shrunk to one part), then the same."""
        ...

    def sms_receipt(
        self, tenant_id: TenantId | None, report: DeliveryReport, now: datetime
    ) -> bool:
        """Apply a provider's receipt to the part with its id, else to an UNKNOWN text
        matching its recipient and text prefix; else keep it for the submit's answer. Only
        the tenant's texts, unless None (the process's default provider serves them all).
        True if it matched a text."""
        ...

    def sms_tenants_in_doubt(self) -> list[TenantId]:
        """The tenants with UNKNOWN texts: their providers should be bound, so the receipts
        their SMSCs kept (for a sender that died mid-submit) come within the grace."""
        ...

    def sms_reply_tenant(self, person: str, ours: str) -> TenantId | None:
        """The tenant an inbound text from ``person`` to ``ours`` (our number or sender ID)
        answers: the last that texted that person from that sender, else the last that texted
        them at all; None if none did."""
        ...

    def sms_of(self, message_id: int) -> SmsRecord | None: ...
    def sms_settings(self, tenant_id: TenantId) -> TenantSmsSettings | None: ...
    def set_sms_settings(
        self, tenant_id: TenantId, settings: TenantSmsSettings, now: datetime
    ) -> None: ...
    def sms_settings_by_callback(
        self, callback_id: str
    ) -> tuple[TenantId, TenantSmsSettings] | None: ...
    def forget_sms_receipts(self, before: datetime) -> int:
        """Drop receipts kept since before ``before`` that never matched; how many."""
        ...


class ResultsRepo(Protocol):
    """What happened: attempts in order and a campaign's progress (storage/sql_results.py)."""

    def attempt_results(
        self, campaign_id: CampaignId, after: int | None, limit: int
    ) -> list[AttemptResult]:
        """Attempts in the order recorded (by id), starting after attempt id ``after``."""
        ...

    def progress(self, campaign_id: CampaignId) -> CampaignProgress: ...


class AbandonmentRepo(Protocol):
    """What the abandoned-call rules count and the pacer records (storage/sql_abandonment.py,
    docs/compliance.md)."""

    def tally(self, campaign_id: CampaignId, since: datetime) -> Tally:
        """The campaign's attempts that ended at or after ``since``: live ones (Outcome
        Answered, the abandoned included), abandoned ones (Answered with Stage CallDropped)
        and the detector's machines (Outcome AnswerphoneMessage(Not)Left)."""
        ...

    def recent(
        self, tenant_id: TenantId, numbers: Sequence[str], since: datetime
    ) -> dict[str, RecentCalls]:
        """Calls to these E.164 numbers by any of the tenant's campaigns (deleted ones too)
        that ended at or after ``since``; a number with none is absent from the answer."""
        ...

    def calls_in_flight(
        self, tenant_id: TenantId, numbers: Sequence[str], excluding: Sequence[DestinationId]
    ) -> dict[str, int]:
        """How many of the tenant's destinations with these numbers are claimed and not yet
        recorded (calls on the line or about to be), but for ``excluding`` (the batch being
        screened); numbers with none are absent."""
        ...

    def save_pacing(
        self,
        campaign_id: CampaignId,
        ratio: float,
        reason: str,
        at: datetime,
        seen: tuple[int, int, int] | None = None,
    ) -> None:
        """Replace the campaign's latest pacing decision; ``seen``: the agents ready, calls
        ringing and answered calls waiting for an agent it was made on."""
        ...

    def pacing(self, campaign_id: CampaignId) -> PacingStatus | None: ...

    def note_pacing(self, campaign_id: CampaignId, ratio: float, at: datetime) -> None:
        """Add a saved decision's ratio to the campaign's minute of ``at`` in its history
        (domain/pacing_history.py), and delete every campaign's minutes older than ``KEPT``
        before ``at``: the history is bounded however long a campaign dials. Nothing for a
        campaign deleted meanwhile."""
        ...

    def pacing_history(
        self, campaign_id: CampaignId, since: datetime, until: datetime, bucket: timedelta
    ) -> list[PacingPoint]:
        """The history's minutes in [since, until), grouped per ``bucket`` (a whole number of
        minutes) counted from ``since``; buckets without a decision are absent; by bucket."""
        ...


class LifecycleRepo(Protocol):
    """What a campaign's lifecycle, summary and statistics read and write (domain/lifecycle.py,
    storage/sql_lifecycle.py): batches of campaigns, never a scan of their numbers."""

    def cancelled_at(self, campaign_ids: Sequence[CampaignId]) -> dict[CampaignId, datetime]:
        """When each cancelled campaign among these was cancelled; others are absent."""
        ...

    def cancel_campaign(self, campaign_id: CampaignId, now: datetime) -> int:
        """Cancel it: Disabled, cancelled at ``now``, its pending numbers cancelled and out of
        the ready queue (calls in flight finish). Returns how many numbers were cancelled."""
        ...

    def sweep_cancelled(self) -> int:
        """Cancel what came back to the ready queue of cancelled campaigns since (a call on the
        line at the cancel whose outcome asked for a retry); how many numbers."""
        ...

    def progress_of(self, campaign_ids: Sequence[CampaignId]) -> dict[CampaignId, CampaignProgress]:
        """Each campaign's progress (``on_line`` included), from the counters, in one batch."""
        ...

    def attempts_since(
        self, campaign_ids: Sequence[CampaignId], since: datetime
    ) -> dict[CampaignId, int]:
        """How many attempts of each campaign ended at or after ``since`` (none: absent)."""
        ...

    def attempt_buckets(
        self, campaign_id: CampaignId, since: datetime, until: datetime, bucket: timedelta
    ) -> list[tuple[int, int, int, int]]:
        """The campaign's attempts that ended in [since, until), counted by (bucket index from
        ``since``, outcome value, stage value): rows of (index, outcome, stage, count)."""
        ...


class IdempotencyRepo(Protocol):
    """Idempotency keys of write requests."""

    def claim_idempotency_key(
        self, key: str, request_hash: str, now: datetime
    ) -> tuple[str, str | None] | None: ...
    def store_idempotent_response(self, key: str, response: str) -> None: ...
    def forget_idempotency_keys(self, before: datetime) -> None: ...


class StoreSession(Protocol):
    """One transaction on the store (the unit of work); each role reads and writes the same
    snapshot. Consumers use the roles they need: the engine ``queue``, the deliverer ``outbox``."""

    @property
    def tenants(self) -> TenantRepo: ...
    @property
    def catalog(self) -> CatalogRepo: ...
    @property
    def agents(self) -> AgentRepo: ...
    @property
    def agent_sessions(self) -> AgentSessionRepo: ...
    @property
    def campaigns(self) -> CampaignRepo: ...
    @property
    def destinations(self) -> DestinationRepo: ...
    @property
    def queue(self) -> QueueRepo: ...
    @property
    def dnc(self) -> DncRepo: ...
    @property
    def outbox(self) -> OutboxRepo: ...
    @property
    def results(self) -> ResultsRepo: ...
    @property
    def idempotency(self) -> IdempotencyRepo: ...
    @property
    def abandonment(self) -> AbandonmentRepo: ...
    @property
    def lifecycle(self) -> LifecycleRepo: ...
    @property
    def console_sessions(self) -> ConsoleSessionRepo: ...
    @property
    def sms(self) -> SmsOutboxRepo: ...


S_co = TypeVar("S_co", covariant=True)


class UnitOfWork(Protocol[S_co]):
    """Transactions whose sessions show the roles ``S_co`` names. A consumer that takes
    ``UnitOfWork[DncSession]`` can reach the DNC list and nothing else: mypy checks the slice
    each service and the engine depend on. Every ``Store`` is a unit of work of every slice."""

    def read(self) -> AbstractContextManager[S_co]: ...
    def write(self) -> AbstractContextManager[S_co]:
        """A transaction that commits when the block ends normally and rolls back otherwise."""
        ...


class Store(UnitOfWork[StoreSession], Protocol):
    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` (from any thread) after new work is committed; returns the
        function that unsubscribes."""
        ...

    def close(self) -> None: ...


# The slices consumers take (UnitOfWork[...]): a session seen through some of its roles.


class TenantSession(Protocol):
    @property
    def tenants(self) -> TenantRepo: ...


class DncSession(Protocol):
    @property
    def dnc(self) -> DncRepo: ...


class OutboxSession(Protocol):
    @property
    def outbox(self) -> OutboxRepo: ...


class SmsSession(Protocol):
    """The SMS sender's slice: the outbox, and the DNC list an inbound STOP adds to."""

    @property
    def sms(self) -> SmsOutboxRepo: ...
    @property
    def dnc(self) -> DncRepo: ...


class CatalogSession(Protocol):
    @property
    def catalog(self) -> CatalogRepo: ...
    @property
    def agents(self) -> AgentRepo: ...
    @property
    def agent_sessions(self) -> AgentSessionRepo: ...


class ResultsSession(Protocol):
    @property
    def campaigns(self) -> CampaignRepo: ...
    @property
    def results(self) -> ResultsRepo: ...


class AgentDeskSession(Protocol):
    """The agent desk: agents, their sessions, the DNC list an OptOut adds to."""

    @property
    def agents(self) -> AgentRepo: ...
    @property
    def agent_sessions(self) -> AgentSessionRepo: ...


class QueueSession(Protocol):
    @property
    def queue(self) -> QueueRepo: ...


class EngineSession(Protocol):
    """What the dialling engine reads and writes: the queue, the DNC list it screens against,
    the catalog its call plans come from, the outbox's subscribers, the agents' sessions
    whose phone legs it holds, and the abandoned-call counts it paces and screens by."""

    @property
    def queue(self) -> QueueRepo: ...
    @property
    def dnc(self) -> DncRepo: ...
    @property
    def catalog(self) -> CatalogRepo: ...
    @property
    def outbox(self) -> OutboxRepo: ...
    @property
    def agent_sessions(self) -> AgentSessionRepo: ...
    @property
    def tenants(self) -> TenantRepo: ...  # the tenant's name, for an abandoned call's message
    @property
    def abandonment(self) -> AbandonmentRepo: ...
    @property
    def lifecycle(self) -> LifecycleRepo: ...  # the housekeeper's sweep of cancelled campaigns

"""The small interfaces the services depend on; adapters implement them, bootstrap wires them."""

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Protocol

from dialer.domain.agent import Agent, Queue, Strategy
from dialer.domain.attempt import AttemptRecord, AttemptResult, DialJob, FinishedAttempt
from dialer.domain.call import Answered, Failed, Hangup, OriginateRequest, SmsReceipt
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
from dialer.domain.destination import CampaignCounts, DestinationPatch, WaitingCall
from dialer.domain.events import Event
from dialer.domain.ids import CallFlowId, CampaignId, CliId, DestinationId, TenantId
from dialer.domain.limits import Claimed, ClaimLimits
from dialer.domain.progress import CampaignProgress
from dialer.domain.tenant import CallerId, CallFlowRecord, Tenant
from dialer.domain.webhook import Backlog, Delivery, DeliveryRecord, Webhook


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, always timezone-aware."""
        ...


class Timer(Protocol):
    """The engine's clock: tells the time and lets it pass (really, scaled, or virtually)."""

    def now(self) -> datetime: ...

    async def sleep_until(self, when: datetime) -> None:
        """Let time pass for this caller only (a phone ringing); a virtual clock returns at once,
        so simulated calls take no machine time while their timestamps stay realistic."""
        ...

    async def idle_until(self, when: datetime) -> None:
        """The engine has nothing to do before ``when``: wait for it (a virtual clock jumps)."""
        ...

    def real_seconds(self, span: timedelta) -> float | None:
        """How long ``span`` of this clock lasts in real time; None if it never passes by
        itself (a virtual clock)."""
        ...


class Call(Protocol):
    """One call placed by a TelephonyDriver; every method may be awaited once the call exists.

    Media methods return False (or None) when the callee has hung up, so a call flow stops
    where the callee left it.
    """

    async def progress(self) -> Answered | Failed:
        """Wait until the call is answered or ends unanswered (ring timeout included)."""
        ...

    def prepare(self, text: str, voice: str | None) -> None:
        """A hint, given while the phone rings: ``text`` is probably the first thing said, so
        a network that renders speech may start now and speak at once on answer."""
        ...

    async def say(self, text: str, voice: str | None) -> bool:
        """Speak ``text`` to the callee; False if they hung up before it finished."""
        ...

    async def play(self, audio: str) -> bool:
        """Play an audio file (a path the engine resolved) to the callee; False on hang-up."""
        ...

    async def await_greeting_end(self) -> bool:
        """On an answering machine: wait for the beep or silence after its greeting."""
        ...

    async def gather(self, max_digits: int, timeout: timedelta) -> str | None:
        """Keypresses until ``max_digits`` or ``timeout``; None if the callee hung up."""
        ...

    async def transfer(self, target: str) -> bool:
        """Hand the callee to ``target`` (an E.164 number, or ``queue:<name>`` for an agent
        queue) and leave the call; False if the callee hung up or the network refused."""
        ...

    async def hangup(self) -> Hangup:
        """End the call (if the callee has not already) and say how and when it ended."""
        ...


class SpeechSynthesizer(Protocol):
    """Text to speech: 8 kHz mono signed 16-bit little-endian PCM, what a phone line carries."""

    async def render(self, text: str, voice: str | None) -> bytes:
        """The whole of ``text`` as PCM (cached by text and voice)."""
        ...

    def prepare(self, text: str, voice: str | None) -> None:
        """Start rendering the beginning of ``text`` into the cache, without waiting."""
        ...

    def stream(self, text: str, voice: str | None) -> AsyncIterator[bytes]:
        """``text`` as PCM a phrase at a time, the first as soon as it is rendered and the next
        rendered while the previous plays, so a long personalised prompt starts at once."""
        ...


class EventSink(Protocol):
    """Where domain events go (dialer.domain.events); bootstrap wires the subscribers."""

    def publish(self, event: Event) -> None: ...


class TelephonyDriver(Protocol):
    """A telephone network: the simulated one by default, SIP to a carrier in production."""

    async def originate(self, request: OriginateRequest) -> Call: ...
    async def close(self) -> None: ...


class SmsGateway(Protocol):
    async def send(self, to: str, sender: str, text: str) -> SmsReceipt: ...


class PendingNumbers(Protocol):
    def chunks(self) -> Iterator[list[tuple[str | None, int | None]]]:
        """(E.164, number type code) in input order, a slice at a time, each as soon as it is
        ready; (None, None) where a number is not possible."""
        ...

    def cancel(self) -> None: ...


class NumberNormaliser(Protocol):
    def normalise(self, raws: Sequence[str], region: str) -> list[str | None]:
        """E.164 form of each number as dialled from ``region``; None where it is not possible."""
        ...

    def start(self, raws: Sequence[str], region: str) -> PendingNumbers:
        """Begin normalising, so the caller can do other work until ``result()``."""
        ...


class StoreSession(Protocol):
    """One transaction on the store; every method sees and writes the same snapshot."""

    # tenants
    def add_tenant(
        self, name: str, region: str, timezone: str, api_key_hash: str, now: datetime
    ) -> Tenant: ...
    def tenant_by_key_hash(self, api_key_hash: str) -> Tenant | None: ...
    def get_tenant(self, tenant_id: TenantId) -> Tenant | None: ...
    def set_calling_hours(self, tenant_id: TenantId, start: str, end: str) -> None: ...

    # call flows and caller IDs
    def add_callflow(
        self, tenant_id: TenantId, name: str, definition: str, now: datetime
    ) -> CallFlowRecord: ...
    def list_callflows(self, tenant_id: TenantId) -> list[CallFlowRecord]: ...
    def callflow_owned(self, tenant_id: TenantId, callflow_id: CallFlowId) -> bool: ...
    def add_cli(self, tenant_id: TenantId, number: str, now: datetime) -> CallerId: ...
    def list_clis(self, tenant_id: TenantId) -> list[CallerId]: ...
    def cli_owned(self, tenant_id: TenantId, cli_id: CliId) -> bool: ...

    # campaigns
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
    def list_campaigns(
        self, tenant_id: TenantId, *, count_numbers: bool = True
    ) -> list[CampaignSummary]:
        """With ``count_numbers=False`` every ``phone_number_count`` is 0 (and no rows are read)."""
        ...

    def update_campaign(
        self, campaign_id: CampaignId, spec: CampaignSpec, now: datetime
    ) -> None: ...
    def delete_campaign(self, campaign_id: CampaignId) -> None: ...

    # a campaign's numbers
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

    def numbers_for_update(self, campaign_id: CampaignId) -> list[NumberEntry]: ...
    def count_not_valid(self, campaign_id: CampaignId) -> int: ...
    def destination_ids(self, campaign_id: CampaignId) -> list[DestinationId]: ...
    def delete_numbers(self, campaign_id: CampaignId, ids: Sequence[DestinationId]) -> None:
        """Remove numbers without history (never attempted) and their ready-queue rows."""
        ...

    def update_numbers_details(
        self, changes: Sequence[tuple[DestinationId, str | None, tuple[tuple[int, str], ...]]]
    ) -> None: ...

    # attempts
    def record_attempt(self, attempt: AttemptRecord) -> None: ...

    # the Dialer API's view of campaigns and destinations
    def campaign_by_code(self, code: str, *, lock: bool = False) -> Campaign | None:
        """``lock``: keep it from being deleted until this transaction ends (adding rows)."""
        ...

    def set_campaign_status(
        self, campaign_id: CampaignId, status: CampaignStatus, now: datetime
    ) -> None: ...
    def set_strategy(self, campaign_id: CampaignId, strategy: Strategy, now: datetime) -> None: ...
    def campaign_counts(
        self, campaign_ids: Sequence[CampaignId], now: datetime
    ) -> dict[CampaignId, CampaignCounts]: ...
    def waiting_calls(
        self, campaign_id: CampaignId, after: tuple[int, int] | None, limit: int
    ) -> list[WaitingCall]: ...
    def cancel_pending(self, campaign_id: CampaignId, e164: str | None) -> int: ...
    def update_pending(
        self, campaign_id: CampaignId, e164: str, patch: DestinationPatch
    ) -> int: ...

    # the dialing engine (storage/sql_engine.py tells how claims stay atomic)
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
    ) -> Claimed: ...
    def forget_spent_windows(self, now: datetime) -> int: ...
    def set_calls_on_line(self, worker: str, calls: Mapping[CampaignId, int]) -> None: ...
    def forget_lost_lines(self) -> None: ...
    def calls_on_line(self, campaign_id: CampaignId) -> int: ...
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

    def webhook_tenants(self) -> list[TenantId]: ...

    # agents, queues, members
    def add_agent(self, tenant_id: TenantId, member: str, name: str, now: datetime) -> Agent: ...
    def agents_by_member(self, tenant_id: TenantId, members: Sequence[str]) -> dict[str, Agent]: ...
    def add_queue(self, tenant_id: TenantId, name: str, now: datetime) -> Queue: ...
    def list_queues(self, tenant_id: TenantId) -> list[Queue]: ...

    # one catalog entry: read, who uses it, delete (storage/sql_catalog.py)
    def get_callflow(self, tenant_id: TenantId, callflow_id: int) -> CallFlowRecord | None: ...
    def get_cli(self, tenant_id: TenantId, cli_id: int) -> CallerId | None: ...
    def list_agents(self, tenant_id: TenantId) -> list[Agent]: ...
    def get_agent(self, tenant_id: TenantId, agent_id: int) -> Agent | None: ...
    def get_queue(self, tenant_id: TenantId, queue_id: int) -> Queue | None: ...
    def campaigns_using(
        self, tenant_id: TenantId, what: str, entry_id: int
    ) -> list[tuple[CampaignId, bool]]: ...
    def delete_catalog_entry(self, tenant_id: TenantId, what: str, entry_id: int) -> bool: ...
    def set_api_key_hash(self, tenant_id: TenantId, api_key_hash: str) -> bool: ...
    def callflow_definitions(self, tenant_id: TenantId) -> Sequence[tuple[CallFlowId, str]]: ...
    def queue_owned(self, tenant_id: TenantId, queue_id: int) -> bool: ...
    def campaign_members(self, campaign_id: CampaignId) -> list[Agent]: ...
    def add_members(
        self, campaign_id: CampaignId, agent_ids: Sequence[int], now: datetime
    ) -> int: ...
    def remove_members(self, campaign_id: CampaignId, agent_ids: Sequence[int]) -> int: ...

    # do-not-call list
    def add_dnc(self, tenant_id: TenantId, numbers: Sequence[str], now: datetime) -> int: ...
    def remove_dnc(self, tenant_id: TenantId, numbers: Sequence[str]) -> int: ...
    def dnc_listed(self, tenant_id: TenantId, numbers: Sequence[str]) -> set[str]: ...
    def list_dnc(self, tenant_id: TenantId, after: str | None, limit: int) -> list[str]: ...

    # idempotency keys
    def claim_idempotency_key(
        self, key: str, request_hash: str, now: datetime
    ) -> tuple[str, str | None] | None: ...
    def store_idempotent_response(self, key: str, response: str) -> None: ...
    def forget_idempotency_keys(self, before: datetime) -> None: ...

    # webhooks (storage/sql_webhooks.py); the engine fills the outbox as it records attempts
    def set_webhook(self, tenant_id: TenantId, url: str, secret: str, now: datetime) -> Webhook: ...
    def get_webhook(self, tenant_id: TenantId) -> Webhook | None: ...
    def delete_webhook(self, tenant_id: TenantId) -> bool: ...
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

    # results (storage/sql_results.py)
    def attempt_results(
        self, campaign_id: CampaignId, after: int | None, limit: int
    ) -> list[AttemptResult]:
        """Attempts in the order recorded (by id), starting after attempt id ``after``."""
        ...

    def progress(self, campaign_id: CampaignId) -> CampaignProgress: ...
    def fold_counts(self, min_rows: int = ...) -> int:
        """Compact the destination counters (storage/sql_counts.py); rows folded."""
        ...


class Store(Protocol):
    def read(self) -> AbstractContextManager[StoreSession]: ...
    def write(self) -> AbstractContextManager[StoreSession]:
        """A transaction that commits when the block ends normally and rolls back otherwise."""
        ...

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` (from any thread) after new work is committed; returns the
        function that unsubscribes."""
        ...

    def close(self) -> None: ...
